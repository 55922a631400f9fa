//! The difference between what the attached schemas want and what the database has,
//! as [`Step`]s per table.

use starmodel_core::entity::{Field, Schema};

use super::MigrateError;
use super::live::{LiveColumn, LiveIndex, LiveTable};
use super::plan::{Step, TableChange};
use crate::Dialect;
use crate::ddl::{KEY_COLUMN, VERSION_COLUMN, has_index, index_name};
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
        let null = if self.nullable { "NULL" } else { "NOT NULL" };
        format!("{} {} {null}", dialect.quote(self.name), self.sql_type)
    }
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

/// The steps turning `live` (the table as it is, if it exists) into `schema`'s table.
pub(crate) fn table(
    schema: &'static Schema,
    live: Option<LiveTable>,
    dialect: Dialect,
) -> Result<TableChange, MigrateError> {
    let table = schema.name.to_owned();
    let Some(live) = live else {
        return Ok(TableChange {
            schema,
            live: None,
            steps: vec![Step::CreateTable { table }],
        });
    };
    let wanted = columns(schema, dialect);

    // Which live column each wanted column comes from: its own, or the one named by
    // `renamed_from` while the new name does not exist yet.
    let source = |c: &Column| -> Option<&LiveColumn> {
        live.column(c.name).or_else(|| {
            let old = c.field.and_then(|f| f.renamed_from)?;
            live.column(old)
        })
    };

    let live_key: Vec<&str> = live
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.as_str())
        .collect();
    let wanted_key: Vec<&str> = wanted
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| source(c).map_or(c.name, |s| s.name.as_str()))
        .collect();
    if live_key != wanted_key {
        return Err(MigrateError::Unsupported(format!(
            "the primary key of `{table}` would change from ({}) to ({}); \
             write that migration by hand",
            live_key.join(", "),
            wanted
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", "),
        )));
    }

    let mut renames = Vec::new();
    let mut adds = Vec::new();
    let mut changes = Vec::new();
    let mut used = Vec::new();
    for column in &wanted {
        let Some(from) = source(column) else {
            adds.push(Step::AddColumn {
                table: table.clone(),
                column: column.name.to_owned(),
                definition: column.definition(dialect),
                default: (!column.nullable).then(|| zero(column, dialect)),
            });
            continue;
        };
        used.push(from.name.as_str());
        if from.name != column.name {
            renames.push(Step::RenameColumn {
                table: table.clone(),
                from: from.name.clone(),
                to: column.name.to_owned(),
            });
        }
        let same_type =
            normalize_type(dialect, &from.sql_type) == normalize_type(dialect, &column.sql_type);
        // A primary key is NOT NULL whatever the catalog says (SQLite allows NULL in
        // a non-integer key column unless told otherwise).
        let same_null = from.nullable == column.nullable || column.primary_key;
        if !same_type && same_null && widens(dialect, &from.sql_type, &column.sql_type) {
            changes.push(Step::WidenColumn {
                table: table.clone(),
                column: column.name.to_owned(),
                from: from.sql_type.clone(),
                to: column.sql_type.clone(),
            });
        } else if !same_type || !same_null {
            changes.push(Step::ChangeColumn {
                table: table.clone(),
                column: column.name.to_owned(),
                from: format!("{} {}", from.sql_type, null_word(from.nullable)),
                to: format!("{} {}", column.sql_type, null_word(column.nullable)),
            });
        }
    }
    let drops = live
        .columns
        .iter()
        .filter(|c| !used.contains(&c.name.as_str()))
        .map(|c| Step::DropColumn {
            table: table.clone(),
            column: c.name.clone(),
        });

    let mut drop_indexes = Vec::new();
    let mut create_indexes = Vec::new();
    let wanted_indexes: Vec<(String, &Field)> = schema
        .fields
        .iter()
        .filter(|f| has_index(f))
        .map(|f| (index_name(schema, f), f))
        .collect();
    for (name, field) in &wanted_indexes {
        let existing = live.indexes.iter().find(|i| &i.name == name);
        let fits = |i: &&LiveIndex| i.columns == [field.name] && i.unique == field.unique;
        if existing.is_some_and(|i| fits(&i)) {
            continue;
        }
        if existing.is_some() {
            drop_indexes.push(Step::DropIndex {
                table: table.clone(),
                index: name.clone(),
            });
        }
        create_indexes.push(Step::CreateIndex {
            table: table.clone(),
            index: name.clone(),
            column: field.name.to_owned(),
            unique: field.unique,
        });
    }
    // Indexes named the way the store names its own, and no longer wanted. Others
    // were made by hand and are left alone.
    for index in &live.indexes {
        let ours = index.name.starts_with(&format!("{table}_"))
            && (index.name.ends_with("_key") || index.name.ends_with("_idx"));
        if ours && !wanted_indexes.iter().any(|(name, _)| name == &index.name) {
            drop_indexes.push(Step::DropIndex {
                table: table.clone(),
                index: index.name.clone(),
            });
        }
    }

    let mut steps = drop_indexes;
    steps.extend(renames);
    steps.extend(adds);
    steps.extend(changes);
    steps.extend(drops);
    steps.extend(create_indexes);
    Ok(TableChange {
        schema,
        live: Some(live),
        steps,
    })
}

/// Whether MySQL text of type `from` always fits in `to`: a longer `VARCHAR`, or
/// `TEXT` (a length rule grown or dropped, or the field no longer indexed).
fn widens(dialect: Dialect, from: &str, to: &str) -> bool {
    if dialect != Dialect::MySql {
        return false;
    }
    let varchar =
        |t: &str| -> Option<u64> { t.strip_prefix("varchar(")?.strip_suffix(')')?.parse().ok() };
    let (from, to) = (normalize_type(dialect, from), normalize_type(dialect, to));
    match (varchar(&from), varchar(&to)) {
        (Some(n), Some(m)) => m >= n,
        (Some(_), None) => matches!(to.as_str(), "text" | "mediumtext" | "longtext"),
        _ => false,
    }
}

fn null_word(nullable: bool) -> &'static str {
    if nullable { "NULL" } else { "NOT NULL" }
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
    fn types_compare_in_canonical_spelling() {
        let pg = |s| normalize_type(Dialect::Postgres, s);
        assert_eq!(pg("TIMESTAMPTZ"), pg("timestamp with time zone"));
        assert_eq!(pg("TEXT COLLATE \"C\""), pg("text"));
        assert_eq!(pg("DOUBLE PRECISION"), pg("double precision"));
        assert_eq!(pg("BOOLEAN"), pg("boolean"));
        assert_ne!(pg("BIGINT"), pg("text"));
        let my = |s| normalize_type(Dialect::MySql, s);
        assert_eq!(my("BIGINT"), my("bigint(20)"));
        assert_eq!(my("BOOLEAN"), my("tinyint(1)"));
        assert_eq!(my("JSON"), my("longtext"));
        assert_eq!(my("DATETIME(6)"), my("datetime(6)"));
        assert_ne!(my("VARCHAR(200)"), my("varchar(100)"));
        assert_eq!(normalize_type(Dialect::Sqlite, "big  int"), "big int");
        assert!(widens(Dialect::MySql, "varchar(200)", "VARCHAR(255)"));
        assert!(widens(Dialect::MySql, "varchar(200)", "TEXT"));
        assert!(!widens(Dialect::MySql, "varchar(255)", "VARCHAR(200)"));
        assert!(!widens(Dialect::MySql, "text", "VARCHAR(255)"));
        assert!(!widens(Dialect::Postgres, "character varying(2)", "text"));
    }

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
        assert_eq!(
            zero(&col(&TAGS, Dialect::Postgres), Dialect::Postgres),
            "'[]'"
        );
        assert_eq!(
            zero(&col(&META, Dialect::Sqlite), Dialect::Sqlite),
            "'null'"
        );
        assert_eq!(zero(&col(&ADDR, Dialect::MySql), Dialect::MySql), "'{}'");
        assert_eq!(
            zero(&col(&DAY, Dialect::Sqlite), Dialect::Sqlite),
            "'1970-01-01'"
        );
        assert_eq!(
            zero(&col(&AT, Dialect::MySql), Dialect::MySql),
            "'1970-01-01 00:00:00.000000'"
        );
        assert_eq!(zero(&col(&ON, Dialect::Sqlite), Dialect::Sqlite), "0");
        assert_eq!(
            zero(&col(&ON, Dialect::Postgres), Dialect::Postgres),
            "FALSE"
        );
    }

    fn live(columns: &[(&str, &str, bool, bool)], indexes: &[(&str, &str, bool)]) -> LiveTable {
        LiveTable {
            name: "todo".into(),
            columns: columns
                .iter()
                .map(|&(name, ty, nullable, primary_key)| LiveColumn {
                    name: name.into(),
                    sql_type: ty.into(),
                    nullable,
                    primary_key,
                })
                .collect(),
            indexes: indexes
                .iter()
                .map(|&(name, column, unique)| LiveIndex {
                    name: name.into(),
                    columns: vec![column.into()],
                    unique,
                })
                .collect(),
        }
    }

    static ID: Field = Field {
        id: true,
        ..Field::new("id", "i64", FieldType::Integer)
    };
    static FIELDS: [Field; 2] = [
        ID,
        Field {
            unique: true,
            renamed_from: Some("label"),
            ..Field::new("title", "String", FieldType::Text)
        },
    ];
    static TODO: Schema = Schema {
        name: "todo",
        fields: &FIELDS,
        api: false,
        admin: false,
    };

    #[test]
    fn renames_follow_renamed_from_and_foreign_indexes_stay() {
        let table = live(
            &[
                ("id", "BIGINT", false, true),
                ("label", "TEXT", true, false),
                ("_version", "BIGINT", false, false),
            ],
            &[
                ("todo_label_key", "label", true),
                ("by_hand", "label", false),
            ],
        );
        let change = super::table(&TODO, Some(table), Dialect::Sqlite).unwrap();
        let steps: Vec<String> = change.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            steps,
            [
                "drop index todo_label_key on todo",
                "rename column todo.label to title",
                "change column todo.title from TEXT NULL to TEXT NOT NULL",
                "create unique index todo_title_key on todo (title)",
            ]
        );
    }

    #[test]
    fn the_new_name_wins_once_it_exists() {
        let table = live(
            &[
                ("id", "BIGINT", false, true),
                ("label", "TEXT", false, false),
                ("title", "TEXT", false, false),
                ("_version", "BIGINT", false, false),
            ],
            &[("todo_title_key", "title", true)],
        );
        let change = super::table(&TODO, Some(table), Dialect::Sqlite).unwrap();
        assert_eq!(
            change.steps,
            [Step::DropColumn {
                table: "todo".into(),
                column: "label".into()
            }]
        );
    }

    #[test]
    fn a_new_primary_key_is_left_to_the_user() {
        let table = live(
            &[
                ("_id", "TEXT", false, true),
                ("title", "TEXT", false, false),
                ("_version", "BIGINT", false, false),
            ],
            &[],
        );
        let err = super::table(&TODO, Some(table), Dialect::Sqlite).unwrap_err();
        assert!(
            err.to_string()
                .contains("primary key of `todo` would change from (_id) to (id)"),
            "{err}"
        );
    }
}
