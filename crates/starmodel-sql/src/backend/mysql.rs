//! MySQL and MariaDB: their connections and their column decoding; the row-locked
//! unit of work is [`locked`]'s. Sessions run at `READ COMMITTED` so that locking
//! a missing row takes no gap lock: two first writes of one key then meet on the
//! primary key (the loser starts over) instead of deadlocking.

use serde_json::Value;
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::{Executor, Row};
use starmodel_core::StoreError;

use super::{locked, row};
use crate::dialect::ColumnKind;
use crate::error::store_error;
use crate::value;

pub(crate) async fn connect(url: &str) -> Result<MySqlPool, StoreError> {
    locked::connect(url, |options| {
        options.after_connect(|conn: &mut sqlx::MySqlConnection, _| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                Ok(())
            })
        })
    })
    .await
}

/// Column `i` of `row`, a `kind` column, as JSON; `None` is SQL `NULL`.
fn cell(row: &MySqlRow, i: usize, kind: ColumnKind) -> Result<Option<Value>, StoreError> {
    match kind {
        ColumnKind::Integer => row::get::<_, i64>(row, i, Value::from),
        ColumnKind::Float => row::get(row, i, value::float_json),
        ColumnKind::Bool => row::get(row, i, Value::Bool),
        // Text columns are `utf8mb4_bin`, which the server flags binary; the
        // bytes are still UTF-8, which decoding checks.
        ColumnKind::Text | ColumnKind::Uuid => row
            .try_get_unchecked::<Option<String>, _>(i)
            .map(|v| v.map(Value::String))
            .map_err(store_error),
        ColumnKind::Timestamp => row::get(row, i, value::naive_timestamp_json),
        // MariaDB's JSON is (binary-collated) text, MySQL's a type of its own.
        ColumnKind::Json => row
            .try_get_unchecked::<Option<sqlx::types::Json<Value>>, _>(i)
            .map(|v| v.map(|j| j.0))
            .map_err(store_error),
    }
}

locked::row_locked_backend!(
    pool: sqlx::MySqlPool,
    connection: sqlx::MySqlConnection,
    dialect: MySql,
    cell: cell,
);
