//! The difference between what the attached schemas want and what the database has,
//! as [`Step`]s per table.

use starmodel_core::entity::{Field, Schema};

use super::column::{Column, columns, normalize_type, null_word, zero};
use super::error::MigrateError;
use super::live::{LiveColumn, LiveIndex, LiveTable};
use super::plan::{Step, TableChange};
use crate::Dialect;
use crate::ddl::{has_index, index_name};

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

    static ID: Field = Field::new("id", "i64", FieldType::Integer).id();
    static FIELDS: [Field; 2] = [
        ID,
        Field {
            unique: true,
            renamed_from: Some("label"),
            ..Field::new("title", "String", FieldType::Text)
        },
    ];
    static TODO: Schema = Schema::new("todo", &FIELDS);

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
