//! PostgreSQL: its connections and its column decoding; the row-locked unit of
//! work is [`locked`]'s.

use std::str::FromStr;

use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use starmodel_core::StoreError;

use super::{ACQUIRE_TIMEOUT, POOL_SIZE, locked};
use crate::dialect::ColumnKind;
use crate::error::store_error;
use crate::value;

pub(crate) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(store_error)?;
    locked::probe(&options).await?;
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(store_error)
}

/// Column `i` of `row`, a `kind` column, as JSON; `None` is SQL `NULL`.
fn cell(row: &PgRow, i: usize, kind: ColumnKind) -> Result<Option<Value>, sqlx::Error> {
    match kind {
        ColumnKind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Value::from)),
        ColumnKind::Float => row
            .try_get::<Option<f64>, _>(i)
            .map(|v| v.map(value::float_json)),
        ColumnKind::Bool => row
            .try_get::<Option<bool>, _>(i)
            .map(|v| v.map(Value::Bool)),
        ColumnKind::Text => row
            .try_get::<Option<String>, _>(i)
            .map(|v| v.map(Value::String)),
        ColumnKind::Uuid => row
            .try_get::<Option<uuid::Uuid>, _>(i)
            .map(|v| v.map(|u| Value::String(u.hyphenated().to_string()))),
        ColumnKind::Timestamp => row
            .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)
            .map(|v| v.map(value::timestamp_json)),
        ColumnKind::Json => row.try_get::<Option<Value>, _>(i),
    }
}

super::locked::row_locked_store!(
    pool: sqlx::PgPool,
    connection: sqlx::PgConnection,
    row: sqlx::postgres::PgRow,
    cell: cell,
);
