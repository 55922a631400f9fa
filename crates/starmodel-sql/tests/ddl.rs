//! The generated `CREATE TABLE` / `CREATE INDEX` per dialect, for schemas covering
//! every field type, nullability, unique and index, and a session-scope entity.

use starmodel_core::entity::{Field, FieldType, Rule, Schema};
use starmodel_sql::{Dialect, ddl};

static EVERYTHING: [Field; 12] = [
    Field {
        id: true,
        unique: true,
        ..Field::new("id", "uuid::Uuid", FieldType::Uuid)
    },
    Field::new("count", "i64", FieldType::Integer),
    Field {
        nullable: true,
        index: true,
        ..Field::new("score", "Option<f64>", FieldType::Float)
    },
    Field {
        unique: true,
        validate: &[Rule::Email],
        ..Field::new("email", "String", FieldType::Text)
    },
    Field {
        index: true,
        validate: &[Rule::Length {
            min: Some(1),
            max: Some(200),
        }],
        ..Field::new("title", "String", FieldType::Text)
    },
    Field::new("body", "String", FieldType::Text),
    Field::new("done", "bool", FieldType::Bool),
    Field {
        nullable: true,
        unique: true,
        ..Field::new("ref", "Option<uuid::Uuid>", FieldType::Uuid)
    },
    Field {
        index: true,
        ..Field::new("at", "chrono::DateTime<chrono::Utc>", FieldType::DateTime)
    },
    Field::new("day", "chrono::NaiveDate", FieldType::DateTime),
    Field {
        nullable: true,
        ..Field::new("tags", "Option<Vec<String>>", FieldType::Json)
    },
    Field::new("order", "String", FieldType::Text),
];

static RECORD: Schema = Schema {
    name: "everything",
    fields: &EVERYTHING,
    api: false,
    admin: false,
};

static COUNTER_FIELDS: [Field; 1] = [Field::new("count", "i64", FieldType::Integer)];

static SESSION: Schema = Schema {
    name: "select",
    fields: &COUNTER_FIELDS,
    api: false,
    admin: false,
};

fn ddl_text(dialect: Dialect) -> String {
    [&RECORD, &SESSION]
        .iter()
        .flat_map(|schema| ddl::create_table(schema, dialect))
        .map(|statement| format!("{statement};\n"))
        .collect()
}

#[test]
fn sqlite_ddl() {
    insta::assert_snapshot!(ddl_text(Dialect::Sqlite));
}

#[test]
fn postgres_ddl() {
    insta::assert_snapshot!(ddl_text(Dialect::Postgres));
}

#[test]
fn mysql_ddl() {
    insta::assert_snapshot!(ddl_text(Dialect::MySql));
}
