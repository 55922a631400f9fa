//! What a database error means to a store: a taken unique value, a transaction to
//! retry, a database out of reach.

use sqlx::error::{DatabaseError, ErrorKind};
use starmodel_core::StoreError;

use crate::table::TableInfo;

/// A database error sorted by what the store does about it.
#[derive(Debug)]
pub(crate) enum DbFailure {
    /// A row with this key exists already: someone created it first; start over.
    KeyTaken,
    /// Deadlock or serialization failure: roll back and start over.
    Retry,
    /// Anything else, as the caller sees it.
    Fail(StoreError),
}

/// Sorts `error`, raised while writing `table`.
pub(crate) fn classify(error: sqlx::Error, table: &TableInfo) -> DbFailure {
    if let sqlx::Error::Database(db) = &error {
        if db.kind() == ErrorKind::UniqueViolation {
            return match taken_field(db.as_ref(), table) {
                Some(field) if field == table.key => DbFailure::KeyTaken,
                Some(field) => DbFailure::Fail(StoreError::Conflict(format!("{field} is taken"))),
                None => DbFailure::Fail(StoreError::Conflict(format!(
                    "a unique value of `{}` is taken",
                    table.schema.name
                ))),
            };
        }
        if matches!(db.code().as_deref(), Some("40001" | "40P01")) {
            return DbFailure::Retry;
        }
    }
    DbFailure::Fail(store_error(error))
}

/// Which column a unique violation is about: PostgreSQL names the constraint, MySQL
/// the key in its message (`for key 'todo_title_key'`), SQLite the columns
/// (`UNIQUE constraint failed: todo.title`).
fn taken_field(db: &dyn DatabaseError, table: &TableInfo) -> Option<&'static str> {
    if let Some(constraint) = db.constraint() {
        return table.field_of_constraint(constraint);
    }
    let message = db.message();
    if let Some(columns) = message.split("constraint failed: ").nth(1) {
        let first = columns.split(',').next().unwrap_or(columns).trim();
        let column = first.rsplit('.').next().unwrap_or(first);
        return table.column(column);
    }
    let key = message.rsplit("for key '").next()?.trim_end_matches('\'');
    let key = key.rsplit('.').next().unwrap_or(key);
    table.field_of_constraint(key)
}

/// `error` as a [`StoreError`]: a database out of reach is `Unavailable`, a row that
/// does not decode `Corrupt`, a value the column refuses `BadQuery`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
                StoreError::BadQuery(db.message().to_owned())
            }
            _ => StoreError::Unavailable(db.message().to_owned()),
        },
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("column {index}: {source}"))
        }
        sqlx::Error::Decode(source) => StoreError::Corrupt(source.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}
