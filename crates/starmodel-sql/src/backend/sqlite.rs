//! SQLite: a one-connection writer pool and a reader pool over one WAL file.
//!
//! Writes never hold a transaction open across the event: the row is read, the
//! event runs, and the write is one statement that only applies if the row still
//! has the version read (`UPDATE … WHERE _version = ?`), or, for a new row, an
//! `INSERT` that fails if the key appeared meanwhile. Either miss starts over. The
//! single writer connection serializes this process's writes, so misses only happen
//! when another process writes the same file, and an event costs two statements.

use std::str::FromStr;
use std::time::Duration;

use sea_query::{Value as SqlValue, Values};
use sea_query_binder::SqlxValues;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use starmodel_core::store::UpdateFn;
use starmodel_core::{EntityId, EntityKey, Mutation, Record, StoreError, UpdateOutcome};

use super::{MAX_ATTEMPTS, gave_up};
use crate::dialect::ColumnKind;
use crate::error::{DbFailure, classify, store_error};
use crate::table::{TableInfo, version_value};
use crate::value;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections reading while the writer writes.
const READERS: u32 = 4;

/// The reader and writer pools of a SQLite database (the same pool for an
/// in-memory database, which lives as long as its one connection).
#[derive(Debug, Clone)]
pub struct SqlitePools {
    /// Runs reads; several connections.
    pub reader: SqlitePool,
    /// Runs every write (and DDL); one connection.
    pub writer: SqlitePool,
}

pub(crate) async fn connect(url: &str) -> Result<SqlitePools, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL `{url}`: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone())
        .await
        .map_err(store_error)?;
    if in_memory {
        return Ok(SqlitePools {
            reader: writer.clone(),
            writer,
        });
    }
    let reader = SqlitePoolOptions::new()
        .max_connections(READERS)
        .connect_with(options)
        .await
        .map_err(store_error)?;
    Ok(SqlitePools { reader, writer })
}

fn decode(row: &SqliteRow, table: &TableInfo) -> Result<(EntityId, Record), StoreError> {
    let mut cells = Vec::with_capacity(table.columns.len());
    for (i, column) in table.columns.iter().enumerate() {
        let cell = match column.kind {
            ColumnKind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Value::from)),
            ColumnKind::Float => row
                .try_get::<Option<f64>, _>(i)
                .map(|v| v.map(value::float_json)),
            ColumnKind::Bool => row
                .try_get::<Option<bool>, _>(i)
                .map(|v| v.map(Value::Bool)),
            ColumnKind::Text | ColumnKind::Uuid => row
                .try_get::<Option<String>, _>(i)
                .map(|v| v.map(Value::String)),
            ColumnKind::Timestamp => match row.try_get::<Option<&str>, _>(i) {
                Ok(Some(text)) => Ok(Some(value::sqlite_timestamp_json(text)?)),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            },
            ColumnKind::Json => match row.try_get::<Option<&str>, _>(i) {
                Ok(Some(text)) => Ok(Some(value::json_text(text)?)),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            },
        };
        cells.push(cell.map_err(store_error)?.unwrap_or(Value::Null));
    }
    let version: i64 = row.try_get(table.columns.len()).map_err(store_error)?;
    let id = table.id_of(&cells[table.key_index]);
    Ok((
        id,
        Record {
            version: u64::try_from(version).unwrap_or(0),
            value: table.object(cells),
        },
    ))
}

fn args(values: Vec<SqlValue>) -> SqlxValues {
    SqlxValues(Values(values))
}

pub(crate) async fn load(
    pools: &SqlitePools,
    table: &TableInfo,
    key: &EntityKey,
) -> Result<Option<Record>, StoreError> {
    let row = sqlx::query_with(
        &table.sql.select,
        args(vec![table.key_value(key.id.as_str())?]),
    )
    .fetch_optional(&pools.reader)
    .await
    .map_err(store_error)?;
    Ok(row.map(|r| decode(&r, table)).transpose()?.map(|(_, r)| r))
}

pub(crate) async fn update(
    pools: &SqlitePools,
    table: &TableInfo,
    key: &EntityKey,
    f: &mut UpdateFn<'_>,
) -> Result<UpdateOutcome, StoreError> {
    let id = key.id.as_str();
    let key_value = table.key_value(id)?;
    let mut conn = pools.writer.acquire().await.map_err(store_error)?;
    for _ in 0..MAX_ATTEMPTS {
        match attempt(&mut conn, table, id, &key_value, f).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) | Err(DbFailure::KeyTaken | DbFailure::Retry) => {}
            Err(DbFailure::Fail(e)) => return Err(e),
        }
    }
    Err(gave_up(key))
}

/// One read-decide-write round; `Ok(None)` when another process changed the row
/// in between.
async fn attempt(
    conn: &mut SqliteConnection,
    table: &TableInfo,
    id: &str,
    key_value: &SqlValue,
    f: &mut UpdateFn<'_>,
) -> Result<Option<UpdateOutcome>, DbFailure> {
    let fail = |e| classify(e, table);
    let row = sqlx::query_with(&table.sql.select, args(vec![key_value.clone()]))
        .fetch_optional(&mut *conn)
        .await
        .map_err(fail)?;
    let current = match row {
        Some(row) => Some(decode(&row, table).map_err(DbFailure::Fail)?.1),
        None => None,
    };
    let written = match (f(current.as_ref()), &current) {
        (Mutation::Keep, _) => return Ok(Some(UpdateOutcome::Unchanged(current))),
        (Mutation::Delete, None) => return Ok(Some(UpdateOutcome::Deleted)),
        (Mutation::Delete, Some(old)) => {
            let params = vec![key_value.clone(), version_value(old.version)];
            sqlx::query_with(&table.sql.delete_if_version, args(params))
                .execute(&mut *conn)
                .await
                .map_err(fail)?;
            return Ok(Some(UpdateOutcome::Deleted));
        }
        (Mutation::Put(value), None) => {
            let params = table
                .insert_values(id, &value, 1)
                .map_err(DbFailure::Fail)?;
            sqlx::query_with(&table.sql.insert, args(params))
                .execute(&mut *conn)
                .await
                .map_err(fail)?;
            Record { version: 1, value }
        }
        (Mutation::Put(value), Some(old)) => {
            let version = old.version + 1;
            let mut params = table
                .update_values(id, &value, version)
                .map_err(DbFailure::Fail)?;
            params.push(version_value(old.version));
            let done = sqlx::query_with(&table.sql.update_if_version, args(params))
                .execute(&mut *conn)
                .await
                .map_err(fail)?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            Record { version, value }
        }
    };
    Ok(Some(UpdateOutcome::Written(written)))
}

pub(crate) async fn list(
    pools: &SqlitePools,
    table: &TableInfo,
) -> Result<Vec<(EntityId, Record)>, StoreError> {
    let rows = sqlx::query(&table.sql.select_all)
        .fetch_all(&pools.reader)
        .await
        .map_err(store_error)?;
    rows.iter().map(|r| decode(r, table)).collect()
}

pub(crate) async fn select(
    pools: &SqlitePools,
    table: &TableInfo,
    select: crate::query::Select,
) -> Result<Vec<(EntityId, Record)>, StoreError> {
    let rows = sqlx::query_with(&select.sql, SqlxValues(select.values))
        .fetch_all(&pools.reader)
        .await
        .map_err(store_error)?;
    rows.iter().map(|r| decode(r, table)).collect()
}

pub(crate) async fn import(
    pools: &SqlitePools,
    table: &TableInfo,
    key: &EntityKey,
    record: &Record,
) -> Result<(), StoreError> {
    let params = table.insert_values(key.id.as_str(), &record.value, record.version)?;
    sqlx::query_with(&table.sql.upsert, args(params))
        .execute(&pools.writer)
        .await
        .map_err(|e| match classify(e, table) {
            DbFailure::Fail(e) => e,
            other => StoreError::Unavailable(format!("import of `{key}`: {other:?}")),
        })?;
    Ok(())
}

pub(crate) async fn execute(pools: &SqlitePools, sql: &str) -> Result<u64, StoreError> {
    let done = sqlx::raw_sql(sql)
        .execute(&pools.writer)
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected())
}
