//! The generated `CREATE TABLE` / `CREATE INDEX` per dialect, for schemas covering
//! every field type, nullability, unique and index, and a session-scope entity.

use starmodel_core::entity::{Field, FieldType, Rule, Schema};
use starmodel_sql::{Dialect, ddl};

static EVERYTHING: [Field; 12] = [
    Field::new("id", "uuid::Uuid", FieldType::Uuid)
        .id()
        .unique(),
    Field::new("count", "i64", FieldType::Integer),
    Field::new("score", "Option<f64>", FieldType::Float)
        .nullable()
        .index(),
    Field::new("email", "String", FieldType::Text)
        .unique()
        .validate(&[Rule::Email]),
    Field::new("title", "String", FieldType::Text)
        .index()
        .validate(&[Rule::Length {
            min: Some(1),
            max: Some(200),
        }]),
    Field::new("body", "String", FieldType::Text),
    Field::new("done", "bool", FieldType::Bool),
    Field::new("ref", "Option<uuid::Uuid>", FieldType::Uuid)
        .nullable()
        .unique(),
    Field::new("at", "chrono::DateTime<chrono::Utc>", FieldType::DateTime).index(),
    Field::new("day", "chrono::NaiveDate", FieldType::DateTime),
    Field::new("tags", "Option<Vec<String>>", FieldType::Json).nullable(),
    Field::new("order", "String", FieldType::Text),
];

static RECORD: Schema = Schema::new("everything", &EVERYTHING);

static COUNTER_FIELDS: [Field; 1] = [Field::new("count", "i64", FieldType::Integer)];

static SESSION: Schema = Schema::new("select", &COUNTER_FIELDS);

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
