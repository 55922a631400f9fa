//! A [`Plan`]: the steps that bring the database in line with the entities, and the
//! SQL that carries them out in each dialect.

use std::fmt;

use starmodel_core::entity::Schema;

use super::column::{Column, columns, normalize_type, zero};
use super::live::LiveTable;
use crate::Dialect;
use crate::ddl::{create_index, create_table};
use crate::dialect::ColumnKind;

/// One change to the database.
///
/// Only [`ChangeColumn`](Step::ChangeColumn) and [`DropColumn`](Step::DropColumn) can
/// lose data; a plan holding either is *destructive* and is refused unless allowed
/// (see [`Migrator::allow_destructive`](super::Migrator::allow_destructive)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// A missing table, created with its indexes.
    CreateTable {
        /// The table.
        table: String,
    },
    /// A field without a column.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: String,
        /// Its definition (`"priority" BIGINT NOT NULL`).
        definition: String,
        /// For a `NOT NULL` column, the SQL literal existing rows get: the zero value
        /// of its type (`0`, `''`, `FALSE`, the epoch, `'{}'`…).
        default: Option<String>,
    },
    /// A field declared `renamed_from = "old"` whose table still has `old`.
    RenameColumn {
        /// The table.
        table: String,
        /// The column's current name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// A column whose type or nullability differs from the field's (destructive: a
    /// value may not convert; SQLite rebuilds the table).
    ChangeColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its type and nullability now (`BIGINT NOT NULL`).
        from: String,
        /// What the field wants.
        to: String,
    },
    /// A MySQL text column that must hold longer values (`VARCHAR(200)` to
    /// `VARCHAR(255)` or `TEXT`): every value fits, so nothing is lost.
    WidenColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its type now.
        from: String,
        /// The wider type.
        to: String,
    },
    /// A column no field has any more (destructive: its values are lost).
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// An `index` or `unique` field without its index.
    CreateIndex {
        /// The table.
        table: String,
        /// The index, named as the store names it.
        index: String,
        /// The indexed column.
        column: String,
        /// Whether it is unique.
        unique: bool,
    },
    /// An index the store made that no field wants any more (or that must be
    /// remade with another shape).
    DropIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
}

impl Step {
    /// Whether the step can lose data.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Step::ChangeColumn { .. } | Step::DropColumn { .. })
    }

    /// The table the step changes.
    pub fn table(&self) -> &str {
        match self {
            Step::CreateTable { table }
            | Step::AddColumn { table, .. }
            | Step::RenameColumn { table, .. }
            | Step::ChangeColumn { table, .. }
            | Step::WidenColumn { table, .. }
            | Step::DropColumn { table, .. }
            | Step::CreateIndex { table, .. }
            | Step::DropIndex { table, .. } => table,
        }
    }

    /// A few words for file names: `add_todo_priority`.
    fn slug(&self) -> String {
        match self {
            Step::CreateTable { table } => format!("create {table}"),
            Step::AddColumn { table, column, .. } => format!("add {table} {column}"),
            Step::RenameColumn { table, from, to } => format!("rename {table} {from} to {to}"),
            Step::ChangeColumn { table, column, .. } => format!("retype {table} {column}"),
            Step::WidenColumn { table, column, .. } => format!("widen {table} {column}"),
            Step::DropColumn { table, column } => format!("drop {table} {column}"),
            Step::CreateIndex { table, column, .. } => format!("index {table} {column}"),
            Step::DropIndex { index, .. } => format!("drop index {index}"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateTable { table } => write!(f, "create table {table}"),
            Step::AddColumn {
                table,
                column,
                default,
                ..
            } => {
                write!(f, "add column {table}.{column}")?;
                match default {
                    Some(zero) => write!(f, " (existing rows get {zero})"),
                    None => write!(f, " (existing rows get NULL)"),
                }
            }
            Step::RenameColumn { table, from, to } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Step::ChangeColumn {
                table,
                column,
                from,
                to,
            } => write!(f, "change column {table}.{column} from {from} to {to}"),
            Step::WidenColumn {
                table,
                column,
                from,
                to,
            } => write!(f, "widen column {table}.{column} from {from} to {to}"),
            Step::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Step::CreateIndex {
                table,
                index,
                column,
                unique,
            } => {
                let unique = if *unique { "unique " } else { "" };
                write!(f, "create {unique}index {index} on {table} ({column})")
            }
            Step::DropIndex { table, index } => write!(f, "drop index {index} on {table}"),
        }
    }
}

/// The changes for one table, with what is needed to write their SQL.
#[derive(Debug, Clone)]
pub(crate) struct TableChange {
    pub(crate) schema: &'static Schema,
    pub(crate) live: Option<LiveTable>,
    pub(crate) steps: Vec<Step>,
}

/// What it takes to bring the database in line with the attached entities: steps per
/// table, in the order they run.
///
/// An empty plan means the database is up to date. [`Plan::sql`] is the migration
/// file's text.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) dialect: Dialect,
    pub(crate) tables: Vec<TableChange>,
}

/// Statements with a comment saying what they do.
struct Chunk {
    comment: String,
    statements: Vec<String>,
}

impl Plan {
    /// The dialect the SQL is written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// `true` when the database already matches the entities.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.steps.is_empty())
    }

    /// Every step in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.tables.iter().flat_map(|t| &t.steps)
    }

    /// The steps that can lose data (retyped and dropped columns).
    pub fn destructive_steps(&self) -> Vec<&Step> {
        self.steps().filter(|s| s.is_destructive()).collect()
    }

    /// Whether any step can lose data.
    pub fn is_destructive(&self) -> bool {
        self.steps().any(Step::is_destructive)
    }

    /// A short name for the migration, from its main step: `add_todo_priority`,
    /// `rename_todo_title_to_name_and_2_more`.
    pub fn slug(&self) -> String {
        let steps: Vec<&Step> = self.steps().collect();
        let main = steps
            .iter()
            .find(|s| !matches!(s, Step::CreateIndex { .. } | Step::DropIndex { .. }))
            .or(steps.first());
        let Some(main) = main else {
            return "nothing".to_owned();
        };
        let slug = super::files::slug(&main.slug(), 48);
        match steps.len() - 1 {
            0 => slug,
            more => format!("{slug}_and_{more}_more"),
        }
    }

    /// The statements carrying the plan out, in order.
    pub fn statements(&self) -> Vec<String> {
        self.chunks()
            .into_iter()
            .flat_map(|c| c.statements)
            .collect()
    }

    /// The migration file's text: a header naming what it does, then each group of
    /// statements under a comment, every statement ending in `;`.
    pub fn sql(&self, name: &str) -> String {
        let mut out = format!(
            "-- {name}\n\
             -- A StarModel migration for {dialect}, generated from the difference between\n\
             -- the entities and the database. Review it before it is applied; once\n\
             -- applied it must not change (its checksum is recorded).\n",
            dialect = self.dialect,
        );
        if self.dialect == Dialect::MySql {
            out.push_str(
                "-- MySQL commits every schema change at once: if a statement fails, the\n\
                 -- ones before it stay applied.\n",
            );
        }
        out.push_str("--\n");
        for step in self.steps() {
            let mark = if step.is_destructive() {
                "DESTRUCTIVE: "
            } else {
                ""
            };
            out.push_str(&format!("-- {mark}{step}\n"));
        }
        for chunk in self.chunks() {
            out.push('\n');
            for line in chunk.comment.lines() {
                out.push_str(&format!("-- {line}\n"));
            }
            for statement in chunk.statements {
                out.push_str(&statement);
                out.push_str(";\n");
            }
        }
        out
    }

    fn chunks(&self) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        for change in &self.tables {
            if change.steps.is_empty() {
                continue;
            }
            match &change.live {
                None => chunks.push(Chunk {
                    comment: format!("create table {}", change.schema.name),
                    statements: create_table(change.schema, self.dialect),
                }),
                Some(live)
                    if self.dialect == Dialect::Sqlite
                        && change.steps.iter().any(Step::is_destructive) =>
                {
                    chunks.push(sqlite_rebuild(change, live));
                }
                Some(live) => {
                    for step in &change.steps {
                        chunks.push(Chunk {
                            comment: step.to_string(),
                            statements: step_sql(change.schema, live, step, self.dialect),
                        });
                    }
                }
            }
        }
        chunks
    }
}

fn wanted(schema: &'static Schema, name: &str, dialect: Dialect) -> Option<Column> {
    columns(schema, dialect)
        .into_iter()
        .find(|c| c.name == name)
}

/// The statements of one step on a table that exists (every dialect; SQLite only
/// for steps that need no rebuild).
fn step_sql(
    schema: &'static Schema,
    live: &LiveTable,
    step: &Step,
    dialect: Dialect,
) -> Vec<String> {
    let q = |ident: &str| dialect.quote(ident);
    let table = q(schema.name);
    match step {
        Step::CreateTable { .. } => create_table(schema, dialect),
        Step::AddColumn {
            definition,
            default,
            column,
            ..
        } => {
            let default = match default {
                // MySQL takes a default for TEXT and JSON only as an expression.
                Some(zero)
                    if dialect == Dialect::MySql
                        && wanted(schema, column, dialect)
                            .is_some_and(|c| matches!(c.sql_type.as_str(), "TEXT" | "JSON")) =>
                {
                    format!(" DEFAULT ({zero})")
                }
                Some(zero) => format!(" DEFAULT {zero}"),
                None => String::new(),
            };
            vec![format!(
                "ALTER TABLE {table} ADD COLUMN {definition}{default}"
            )]
        }
        Step::RenameColumn { from, to, .. } => vec![format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            q(from),
            q(to)
        )],
        Step::ChangeColumn { column, .. } | Step::WidenColumn { column, .. } => {
            let (Some(want), Some(have)) = (
                wanted(schema, column, dialect),
                live.column(column).or_else(|| {
                    let old = schema.field(column)?.renamed_from?;
                    live.column(old)
                }),
            ) else {
                return Vec::new();
            };
            let col = q(column);
            let retyped =
                normalize_type(dialect, &have.sql_type) != normalize_type(dialect, &want.sql_type);
            let tighten = have.nullable && !want.nullable;
            let fill = format!(
                "UPDATE {table} SET {col} = {} WHERE {col} IS NULL",
                zero(&want, dialect)
            );
            let mut out = Vec::new();
            if dialect == Dialect::MySql {
                if tighten {
                    if retyped {
                        out.push(format!(
                            "ALTER TABLE {table} MODIFY COLUMN {col} {} NULL",
                            want.sql_type
                        ));
                    }
                    out.push(fill);
                }
                out.push(format!(
                    "ALTER TABLE {table} MODIFY COLUMN {}",
                    want.definition(dialect)
                ));
                return out;
            }
            if retyped {
                out.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE {} USING {}",
                    want.sql_type,
                    postgres_cast(&col, &have.sql_type, &want.sql_type)
                ));
            }
            if tighten {
                out.push(fill);
                out.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"
                ));
            } else if want.nullable && !have.nullable {
                out.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"
                ));
            }
            out
        }
        Step::DropColumn { column, .. } => {
            vec![format!("ALTER TABLE {table} DROP COLUMN {}", q(column))]
        }
        Step::CreateIndex { column, .. } => schema
            .field(column)
            .and_then(|f| create_index(schema, f, dialect))
            .into_iter()
            .collect(),
        Step::DropIndex { index, .. } => vec![match dialect {
            Dialect::MySql => format!("DROP INDEX {} ON {table}", q(index)),
            Dialect::Sqlite | Dialect::Postgres => format!("DROP INDEX {}", q(index)),
        }],
    }
}

/// PostgreSQL's `USING` expression converting `col` from `from` to `to`. Booleans
/// and integers do not cast into each other directly.
fn postgres_cast(col: &str, from: &str, to: &str) -> String {
    let from = normalize_type(Dialect::Postgres, from);
    let to_base = normalize_type(Dialect::Postgres, to);
    match (from.as_str(), to_base.as_str()) {
        ("boolean", "bigint" | "integer" | "smallint") => {
            format!("CASE WHEN {col} THEN 1 ELSE 0 END")
        }
        ("bigint" | "integer" | "smallint", "boolean") => format!("{col} <> 0"),
        _ => format!("{col}::{}", to_base.to_uppercase()),
    }
}

/// SQLite cannot change a column's type or drop a column in place (not with its
/// indexes and constraints), so the table is rebuilt: a new table in the wanted
/// shape, every row copied across with `CAST`, the old table dropped and the new
/// one renamed, the indexes made again. The migration's transaction covers it all.
fn sqlite_rebuild(change: &TableChange, live: &LiveTable) -> Chunk {
    let dialect = Dialect::Sqlite;
    let schema = change.schema;
    let q = |ident: &str| dialect.quote(ident);
    let temp = format!("_{}_new", schema.name);
    let wanted = columns(schema, dialect);

    let definitions: Vec<String> = wanted
        .iter()
        .map(|c| {
            let key = if c.primary_key { " PRIMARY KEY" } else { "" };
            format!("{}{key}", c.definition(dialect))
        })
        .collect();
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut numeric_cast = false;
    for column in &wanted {
        names.push(q(column.name));
        let source = change.steps.iter().find_map(|s| match s {
            Step::RenameColumn { from, to, .. } if to == column.name => live.column(from),
            _ => None,
        });
        let value = match source.or_else(|| live.column(column.name)) {
            Some(have) => {
                let mut value = q(&have.name);
                if normalize_type(dialect, &have.sql_type)
                    != normalize_type(dialect, &column.sql_type)
                {
                    value = format!("CAST({value} AS {})", column.sql_type);
                    numeric_cast |= !matches!(column.kind, ColumnKind::Text | ColumnKind::Json);
                }
                if have.nullable && !column.nullable {
                    value = format!("COALESCE({value}, {})", zero(column, dialect));
                }
                value
            }
            None if column.nullable => "NULL".to_owned(),
            None => zero(column, dialect),
        };
        values.push(value);
    }
    let mut statements = vec![
        format!("CREATE TABLE {} ( {} )", q(&temp), definitions.join(", ")),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            q(&temp),
            names.join(", "),
            values.join(", "),
            q(schema.name)
        ),
        format!("DROP TABLE {}", q(schema.name)),
        format!("ALTER TABLE {} RENAME TO {}", q(&temp), q(schema.name)),
    ];
    statements.extend(
        schema
            .fields
            .iter()
            .filter_map(|f| create_index(schema, f, dialect)),
    );
    let steps: Vec<String> = change.steps.iter().map(ToString::to_string).collect();
    let mut comment = format!(
        "rebuild table {} keeping every row (SQLite cannot alter a column in place):\n  {}",
        schema.name,
        steps.join("\n  ")
    );
    if numeric_cast {
        comment.push_str("\nCAST makes a number of text that is not one: 'abc' becomes 0");
    }
    comment.push_str("\nindexes not made by StarModel are not made again");
    Chunk {
        comment,
        statements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_casts_booleans_and_integers_by_hand() {
        assert_eq!(
            postgres_cast("\"on\"", "boolean", "BIGINT"),
            "CASE WHEN \"on\" THEN 1 ELSE 0 END"
        );
        assert_eq!(postgres_cast("\"n\"", "bigint", "BOOLEAN"), "\"n\" <> 0");
        assert_eq!(
            postgres_cast("\"n\"", "bigint", "TEXT COLLATE \"C\""),
            "\"n\"::TEXT"
        );
    }
}
