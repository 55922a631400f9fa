//! PostgreSQL: its connections and its column decoding; the row-locked unit of
//! work is [`locked`]'s.

use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use starmodel_core::StoreError;

use super::{locked, row};
use crate::dialect::ColumnKind;
use crate::value;

pub(crate) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    locked::connect(url, |options| options).await
}

/// Column `i` of `row`, a `kind` column, as JSON; `None` is SQL `NULL`.
fn cell(row: &PgRow, i: usize, kind: ColumnKind) -> Result<Option<Value>, StoreError> {
    match kind {
        ColumnKind::Integer => row::get::<_, i64>(row, i, Value::from),
        ColumnKind::Float => row::get(row, i, value::float_json),
        ColumnKind::Bool => row::get(row, i, Value::Bool),
        ColumnKind::Text => row::get(row, i, Value::String),
        ColumnKind::Uuid => row::get(row, i, |u: uuid::Uuid| {
            Value::String(u.hyphenated().to_string())
        }),
        ColumnKind::Timestamp => row::get(row, i, value::timestamp_json),
        ColumnKind::Json => row::get(row, i, |json: Value| json),
    }
}

locked::row_locked_backend!(
    pool: sqlx::PgPool,
    connection: sqlx::PgConnection,
    dialect: Postgres,
    cell: cell,
);
