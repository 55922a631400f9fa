//! MySQL and MariaDB: their connections and their column decoding; the row-locked
//! unit of work is [`locked`]'s. Sessions run at `READ COMMITTED` so that locking
//! a missing row takes no gap lock: two first writes of one key then meet on the
//! primary key (the loser starts over) instead of deadlocking.

use std::str::FromStr;

use serde_json::Value;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Executor, Row};
use starmodel_core::StoreError;

use super::{ACQUIRE_TIMEOUT, POOL_SIZE, locked};
use crate::dialect::ColumnKind;
use crate::error::store_error;
use crate::value;

pub(crate) async fn connect(url: &str) -> Result<MySqlPool, StoreError> {
    let options = MySqlConnectOptions::from_str(url).map_err(store_error)?;
    locked::probe(&options).await?;
    MySqlPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(store_error)
}

/// Column `i` of `row`, a `kind` column, as JSON; `None` is SQL `NULL`.
fn cell(row: &MySqlRow, i: usize, kind: ColumnKind) -> Result<Option<Value>, sqlx::Error> {
    match kind {
        ColumnKind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Value::from)),
        ColumnKind::Float => row
            .try_get::<Option<f64>, _>(i)
            .map(|v| v.map(value::float_json)),
        ColumnKind::Bool => row
            .try_get::<Option<bool>, _>(i)
            .map(|v| v.map(Value::Bool)),
        // Text columns are `utf8mb4_bin`, which the server flags binary; the
        // bytes are still UTF-8, which decoding checks.
        ColumnKind::Text | ColumnKind::Uuid => row
            .try_get_unchecked::<Option<String>, _>(i)
            .map(|v| v.map(Value::String)),
        ColumnKind::Timestamp => row
            .try_get::<Option<chrono::NaiveDateTime>, _>(i)
            .map(|v| v.map(value::naive_timestamp_json)),
        // MariaDB's JSON is (binary-collated) text, MySQL's a type of its own.
        ColumnKind::Json => row
            .try_get_unchecked::<Option<sqlx::types::Json<Value>>, _>(i)
            .map(|v| v.map(|j| j.0)),
    }
}

super::locked::row_locked_store!(
    pool: sqlx::MySqlPool,
    connection: sqlx::MySqlConnection,
    row: sqlx::mysql::MySqlRow,
    cell: cell,
);
