//! The columns a schema's table has, as `ddl::create_table` makes them, and what
//! planning needs to know of one: its type in a canonical spelling and the value
//! existing rows get when it is added.

use starmodel_core::entity::{Field, Schema};

use crate::Dialect;
use crate::ddl::{KEY_COLUMN, VERSION_COLUMN};
use crate::dialect::{ColumnKind, column_type, key_column_type};

/// A column the schema wants.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) sql_type: String,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) kind: ColumnKind,
    /// `None` for the store's own columns (`_id`, `_version`).
    pub(crate) field: Option<&'static Field>,
}

impl Column {
    /// `"name" TYPE NULL|NOT NULL`.
    pub(crate) fn definition(&self, dialect: Dialect) -> String {
        let null = null_word(self.nullable);
        format!("{} {} {null}", dialect.quote(self.name), self.sql_type)
    }
}

/// How SQL spells `nullable`.
pub(crate) fn null_word(nullable: bool) -> &'static str {
    if nullable { "NULL" } else { "NOT NULL" }
}

/// The columns of `schema`'s table in order, as `ddl::create_table` makes them.
pub(crate) fn columns(schema: &'static Schema, dialect: Dialect) -> Vec<Column> {
    let mut columns = Vec::with_capacity(schema.fields.len() + 2);
    if schema.id_field().is_none() {
        columns.push(Column {
            name: KEY_COLUMN,
            sql_type: key_column_type(dialect).to_owned(),
            nullable: false,
            primary_key: true,
            kind: ColumnKind::Text,
            field: None,
        });
    }
    for field in schema.fields {
        columns.push(Column {
            name: field.name,
            sql_type: column_type(field, dialect),
            nullable: field.nullable && !field.id,
            primary_key: field.id,
            kind: ColumnKind::of(field),
            field: Some(field),
        });
    }
    columns.push(Column {
        name: VERSION_COLUMN,
        sql_type: "BIGINT".to_owned(),
        nullable: false,
        primary_key: false,
        kind: ColumnKind::Integer,
        field: None,
    });
    columns
}

/// A column type in one canonical spelling per dialect, so `TIMESTAMPTZ` and
/// `timestamp with time zone`, or `BIGINT` and MariaDB's `bigint(20)`, compare equal.
/// The collation PostgreSQL text columns carry is left out.
pub(crate) fn normalize_type(dialect: Dialect, sql_type: &str) -> String {
    let lower = sql_type
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    match dialect {
        // SQLite keeps the declared type as written.
        Dialect::Sqlite => lower,
        Dialect::Postgres => {
            let base = lower.split(" collate ").next().unwrap_or(&lower).trim();
            match base {
                "int8" => "bigint",
                "int" | "int4" => "integer",
                "float8" => "double precision",
                "bool" => "boolean",
                "timestamptz" => "timestamp with time zone",
                "timestamp" => "timestamp without time zone",
                other => return other.replace("varchar", "character varying"),
            }
            .to_owned()
        }
        Dialect::MySql => {
            let base = lower.split(" collate ").next().unwrap_or(&lower).trim();
            let base = base.split(" character set ").next().unwrap_or(base);
            match base {
                "boolean" | "bool" => return "tinyint(1)".to_owned(),
                // MariaDB's JSON is a LONGTEXT with a validity check.
                "json" => return "longtext".to_owned(),
                "double precision" | "real" => return "double".to_owned(),
                "integer" => return "int".to_owned(),
                _ => {}
            }
            // Integer display widths (`bigint(20)`) mean nothing; `tinyint(1)` is
            // how booleans show, so it stays.
            for int in ["bigint", "int", "smallint", "mediumint"] {
                if base.starts_with(int) && base[int.len()..].starts_with('(') {
                    let rest = base.split_once(')').map_or("", |(_, r)| r);
                    return format!("{int}{rest}");
                }
            }
            base.to_owned()
        }
    }
}

/// The value existing rows get in a new (or newly `NOT NULL`) column: the zero value
/// of its type, as a SQL literal.
pub(crate) fn zero(column: &Column, dialect: Dialect) -> String {
    let rust_type = column.field.map_or("", |f| f.rust_type);
    let literal = match column.kind {
        ColumnKind::Integer | ColumnKind::Float => "0",
        ColumnKind::Bool if dialect == Dialect::Sqlite => "0",
        ColumnKind::Bool => "FALSE",
        ColumnKind::Uuid => "'00000000-0000-0000-0000-000000000000'",
        ColumnKind::Timestamp => match dialect {
            // The store's own text form, so the value sorts among the others.
            Dialect::Sqlite => "'1970-01-01T00:00:00.000000000Z'",
            Dialect::Postgres => "'1970-01-01T00:00:00Z'",
            Dialect::MySql => "'1970-01-01 00:00:00.000000'",
        },
        // Dates and times kept as text: the epoch, shaped like the Rust type's JSON.
        ColumnKind::Text if column.field.is_some_and(is_date_time) => {
            if rust_type.contains("NaiveDateTime") || rust_type.contains("PrimitiveDateTime") {
                "'1970-01-01T00:00:00'"
            } else if rust_type.contains("NaiveDate") || rust_type.contains("Date") {
                "'1970-01-01'"
            } else if rust_type.contains("Time") {
                "'00:00:00'"
            } else {
                "'1970-01-01T00:00:00Z'"
            }
        }
        ColumnKind::Text => "''",
        ColumnKind::Json => json_zero(rust_type),
    };
    literal.to_owned()
}

fn is_date_time(field: &Field) -> bool {
    field.ty == starmodel_core::entity::FieldType::DateTime
}

/// `[]` for sequences, `null` for a free-form JSON value, `{}` for anything else.
fn json_zero(rust_type: &str) -> &'static str {
    let head = rust_type.rsplit("::").next().unwrap_or(rust_type);
    let outer = rust_type.split('<').next().unwrap_or(rust_type);
    let outer = outer.rsplit("::").next().unwrap_or(outer);
    if rust_type.starts_with('[')
        || matches!(
            outer,
            "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "IndexSet"
        )
    {
        "'[]'"
    } else if head == "Value" {
        "'null'"
    } else {
        "'{}'"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starmodel_core::entity::FieldType;

    #[test]
    fn zero_values_fit_the_column() {
        let col = |field: &'static Field, dialect| Column {
            name: field.name,
            sql_type: column_type(field, dialect),
            nullable: false,
            primary_key: false,
            kind: ColumnKind::of(field),
            field: Some(field),
        };
        static TAGS: Field = Field::new("tags", "Vec<String>", FieldType::Json);
        static META: Field = Field::new("meta", "serde_json::Value", FieldType::Json);
        static ADDR: Field = Field::new("addr", "Address", FieldType::Json);
        static DAY: Field = Field::new("day", "chrono::NaiveDate", FieldType::DateTime);
        static AT: Field = Field::new("at", "DateTime<Utc>", FieldType::DateTime);
        static ON: Field = Field::new("on", "bool", FieldType::Bool);
        let cases = [
            (&TAGS, Dialect::Postgres, "'[]'"),
            (&META, Dialect::Sqlite, "'null'"),
            (&ADDR, Dialect::MySql, "'{}'"),
            (&DAY, Dialect::Sqlite, "'1970-01-01'"),
            (&AT, Dialect::MySql, "'1970-01-01 00:00:00.000000'"),
            (&ON, Dialect::Sqlite, "0"),
            (&ON, Dialect::Postgres, "FALSE"),
        ];
        for (field, dialect, want) in cases {
            let got = zero(&col(field, dialect), dialect);
            assert_eq!(got, want, "{} on {dialect}", field.name);
        }
    }
}
