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

/// `error`, raised while importing `key` into `table`, as the caller sees it: an
/// import is one statement, never started over.
pub(crate) fn import_error(
    error: sqlx::Error,
    table: &TableInfo,
    key: &starmodel_core::EntityKey,
) -> StoreError {
    match classify(error, table) {
        DbFailure::Fail(e) => e,
        other => StoreError::Unavailable(format!("import of `{key}`: {other:?}")),
    }
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
/// does not decode `Corrupt`, a `NULL` the column refuses `BadQuery`, a value the
/// column cannot hold (SQLSTATE class 22, "data exception": too long, out of
/// range, a byte the encoding lacks; or a failed check) `Invalid`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::NotNullViolation => StoreError::BadQuery(db.message().to_owned()),
            // The store declares no checks; MariaDB's `JSON` is a `LONGTEXT` checked
            // by `JSON_VALID`, which refuses nesting deeper than 32.
            ErrorKind::CheckViolation => StoreError::Invalid {
                field: checked_column(db.message()).map(str::to_owned),
                message: format!("cannot be stored: {}", db.message()),
            },
            // SQLSTATEs have five characters; SQLite's numeric codes do not count.
            _ if db
                .code()
                .is_some_and(|c| c.len() == 5 && c.starts_with("22")) =>
            {
                StoreError::Invalid {
                    field: column_named(db.message()).map(str::to_owned),
                    message: format!("cannot be stored: {}", db.message()),
                }
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

/// The column a MySQL data error names: `… for column 'title' at row 1`, or
/// `` … for column `db`.`todo`.`at` at row 1 ``. PostgreSQL names none in the
/// message (the store checks what it can before sending).
fn column_named(message: &str) -> Option<&str> {
    let rest = message.split("for column ").nth(1)?;
    let quoted = rest.split(" at row").next().unwrap_or(rest).trim();
    let last = quoted.rsplit('.').next().unwrap_or(quoted);
    let name = last.trim_matches(|c| c == '\'' || c == '`');
    (!name.is_empty()).then_some(name)
}

/// The column of MariaDB's ``CONSTRAINT `todo.meta` failed for `db`.`todo` ``.
fn checked_column(message: &str) -> Option<&str> {
    let rest = message.split("CONSTRAINT `").nth(1)?;
    let name = rest.split('`').next()?;
    let column = name.rsplit('.').next().unwrap_or(name);
    (!column.is_empty()).then_some(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_data_errors_name_the_column() {
        assert_eq!(
            column_named("Data too long for column 'nickname' at row 1"),
            Some("nickname")
        );
        assert_eq!(
            column_named(
                "Incorrect datetime value: '0001-01-01' for column `sm_x`.`gadget`.`released` at row 1"
            ),
            Some("released")
        );
        assert_eq!(
            column_named("invalid byte sequence for encoding \"UTF8\": 0x00"),
            None
        );
        assert_eq!(
            checked_column("CONSTRAINT `gadget.extra` failed for `sm_x`.`gadget`"),
            Some("extra")
        );
    }
}
