//! SQLite: one connection of the store's own for its writes, a reader pool, and a
//! one-connection writer pool for everything else that writes (migrations, your
//! own SQL), over one WAL file.
//!
//! Writes never hold a transaction open across the event: the row is read, the
//! event runs, and the write is one statement that only applies if the row still
//! has the version read (`UPDATE … WHERE _version = ?`), or, for a new row, an
//! `INSERT` that fails if the key appeared meanwhile. Either miss starts over. The
//! store's one write connection serializes this process's events, so misses only
//! happen when another process (or connection) writes the same rows.
//!
//! The write connection is not pooled because sqlx pings every connection given
//! back to a pool, which would double the trips per write.
//!
//! Every statement is a trip to sqlx's SQLite worker thread, which costs more than
//! the statement itself, so the rows this connection wrote last are kept in a
//! [`RowCache`]: the next write of such a row skips the read and runs one
//! `UPDATE` guarded by the connection's view of the database — its `data_version`
//! (changed by any other connection's commit) and its `total_changes()` (changed by
//! anything else written through this connection). A guard that fails drops the
//! cache and the write starts over from a read, so the cache is never trusted after
//! a write it did not see.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use sea_query::Value as SqlValue;
use sea_query_binder::SqlxValues;
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Row, Sqlite, SqliteConnection};
use starmodel_core::store::{UpdateFn, UpdateManyFn};
use starmodel_core::{EntityId, EntityKey, Mutation, Record, StoreError, UpdateOutcome};

use super::row::{args, decode, fetch_all, fetch_optional, get};
use super::{Backend, MAX_ATTEMPTS, gave_up, plan};
use crate::Dialect;
use crate::dialect::ColumnKind;
use crate::error::{DbFailure, classify, import_error, store_error};
use crate::query::Select;
use crate::table::{TableInfo, version_value};
use crate::value;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections reading while the writer writes.
const READERS: u32 = 4;
/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Rows the writer remembers; past this the cache starts afresh.
const CACHED_ROWS: usize = 10_000;

/// The reader and writer pools of a SQLite database (the same pool for an
/// in-memory database, which lives as long as its one connection).
#[derive(Debug, Clone)]
pub struct SqlitePools {
    /// Runs reads; several connections.
    pub reader: SqlitePool,
    /// Runs writes other than the store's own events (migrations, DDL, your own
    /// SQL); one connection.
    pub writer: SqlitePool,
    events: Arc<EventWriter>,
}

/// The store's own write connection and the rows it wrote last.
#[derive(Debug)]
struct EventWriter {
    /// How to open the connection (again, after it failed); `None` for an
    /// in-memory database, whose events go through the writer pool's connection.
    options: Option<SqliteConnectOptions>,
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
    cache: Mutex<RowCache>,
}

/// The connection one write holds.
enum WriteConn<'a> {
    Own(tokio::sync::MutexGuard<'a, Option<SqliteConnection>>),
    Pooled(PoolConnection<Sqlite>),
}

impl WriteConn<'_> {
    fn get(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Own(guard) => match guard.as_mut() {
                Some(conn) => conn,
                None => unreachable!("`write_conn` opens the connection before handing it out"),
            },
            Self::Pooled(conn) => conn,
        }
    }

    /// Gives up the connection after it failed: the next write opens a new one.
    fn discard(self) {
        match self {
            Self::Own(mut guard) => *guard = None,
            Self::Pooled(mut conn) => {
                conn.close_on_drop();
            }
        }
    }
}

async fn write_conn(pools: &SqlitePools) -> Result<WriteConn<'_>, StoreError> {
    let Some(options) = &pools.events.options else {
        let conn = pools.writer.acquire().await.map_err(store_error)?;
        return Ok(WriteConn::Pooled(conn));
    };
    let mut guard = pools.events.conn.lock().await;
    if guard.is_none() {
        *guard = Some(options.connect().await.map_err(store_error)?);
    }
    Ok(WriteConn::Own(guard))
}

/// The writer connection's `(data_version, total_changes())`.
type ConnState = (i64, i64);

/// Rows as the writer connection last wrote them, valid while its state is still
/// `state`.
#[derive(Debug, Default)]
struct RowCache {
    state: Option<ConnState>,
    rows: HashMap<EntityKey, Record>,
}

impl RowCache {
    /// Takes the row of `key` out, with the state it is valid in.
    fn take(&mut self, key: &EntityKey) -> Option<(Record, ConnState)> {
        let state = self.state?;
        self.rows.remove(key).map(|r| (r, state))
    }

    /// Remembers `record`, written when the connection had `state`; a new state
    /// means another write happened since the other rows were cached.
    fn keep(&mut self, key: &EntityKey, record: Record, state: ConnState) {
        if self.state != Some(state) || self.rows.len() >= CACHED_ROWS {
            self.rows.clear();
            self.state = Some(state);
        }
        self.rows.insert(key.clone(), record);
    }

    /// After one row changed through a statement this cache ran.
    fn advance(&mut self, state: ConnState) -> ConnState {
        let next = (state.0, state.1 + 1);
        if self.state == Some(state) {
            self.state = Some(next);
        }
        next
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.state = None;
    }
}

pub(crate) async fn connect(url: &str) -> Result<SqlitePools, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL `{url}`: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    // A SQLite connection is a file handle: pinging it before each use (sqlx's
    // default) would cost a trip to its worker thread per statement.
    let writer = SqlitePoolOptions::new()
        .test_before_acquire(false)
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
            events: Arc::new(EventWriter {
                options: None,
                conn: tokio::sync::Mutex::new(None),
                cache: Mutex::default(),
            }),
        });
    }
    let reader = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(READERS)
        .connect_with(options.clone())
        .await
        .map_err(store_error)?;
    // Checkpoints flush the WAL into the database file and sync it, which can take
    // long on a busy disk: the events' connection leaves them to a background task
    // on the writer pool's connection, so no event waits for one.
    let events_options = options.pragma("wal_autocheckpoint", "0");
    let conn = events_options.connect().await.map_err(store_error)?;
    let events = Arc::new(EventWriter {
        options: Some(events_options),
        conn: tokio::sync::Mutex::new(Some(conn)),
        cache: Mutex::default(),
    });
    tokio::spawn(checkpoints(writer.clone(), Arc::downgrade(&events)));
    Ok(SqlitePools {
        reader,
        writer,
        events,
    })
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] until the store is gone.
/// `PASSIVE`: it never waits for (nor holds up) readers or writers.
async fn checkpoints(writer: SqlitePool, events: Weak<EventWriter>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if events.strong_count() == 0 || writer.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&writer)
            .await
        {
            tracing::warn!("SQLite checkpoint failed: {e}");
        }
    }
}

/// Column `i` of `row`, a `kind` column, as JSON; `None` is SQL `NULL`.
fn cell(row: &SqliteRow, i: usize, kind: ColumnKind) -> Result<Option<Value>, StoreError> {
    match kind {
        ColumnKind::Integer => get::<_, i64>(row, i, Value::from),
        ColumnKind::Float => get(row, i, value::float_json),
        ColumnKind::Bool => get(row, i, Value::Bool),
        ColumnKind::Text | ColumnKind::Uuid => get(row, i, Value::String),
        ColumnKind::Timestamp => text(row, i)?.map(value::sqlite_timestamp_json).transpose(),
        ColumnKind::Json => text(row, i)?.map(value::json_text).transpose(),
    }
}

/// Column `i` of `row` as text borrowed from the row.
fn text(row: &SqliteRow, i: usize) -> Result<Option<&str>, StoreError> {
    row.try_get(i).map_err(store_error)
}

impl Backend for SqlitePools {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn load(&self, table: &TableInfo, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        let key_value = table.key_value(key.id.as_str())?;
        let query = sqlx::query_with(&table.sql.select, args(vec![key_value]));
        fetch_optional(&self.reader, query, table, cell).await
    }

    async fn update(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        let id = key.id.as_str();
        let key_value = table.key_value(id)?;
        let mut conn = write_conn(self).await?;
        let target = Target {
            pools: self,
            table,
            key,
            key_value: &key_value,
        };
        let result = update_on(conn.get(), target, f).await;
        if let Err(StoreError::Unavailable(_)) = &result {
            cache(self).clear();
            conn.discard();
        }
        result
    }

    /// One `BEGIN IMMEDIATE` transaction on the write connection: it holds every
    /// other writer (other processes' too) off while the rows are read and written.
    async fn update_many(
        &self,
        tables: &[&TableInfo],
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        let key_values = keys
            .iter()
            .zip(tables)
            .map(|(k, t)| t.key_value(k.id.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut conn = write_conn(self).await?;
        // Rows written inside the transaction bypass the row cache.
        cache(self).clear();
        let mut result = Err(gave_up(&keys[0]));
        for _ in 0..MAX_ATTEMPTS {
            match many_round(conn.get(), tables, keys, &key_values, f).await {
                Ok(outcomes) => {
                    result = Ok(outcomes);
                    break;
                }
                Err(DbFailure::Fail(e)) => {
                    result = Err(e);
                    break;
                }
                Err(_) => {}
            }
        }
        if let Err(StoreError::Unavailable(_)) = &result {
            conn.discard();
        }
        result
    }

    async fn list(&self, table: &TableInfo) -> Result<Vec<(EntityId, Record)>, StoreError> {
        let query = sqlx::query(&table.sql.select_all);
        fetch_all(&self.reader, query, table, cell).await
    }

    async fn select(
        &self,
        table: &TableInfo,
        select: Select,
    ) -> Result<Vec<(EntityId, Record)>, StoreError> {
        let query = sqlx::query_with(&select.sql, SqlxValues(select.values));
        fetch_all(&self.reader, query, table, cell).await
    }

    async fn import(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        record: &Record,
    ) -> Result<(), StoreError> {
        let params = table.insert_values(key.id.as_str(), &record.value, record.version)?;
        let mut conn = write_conn(self).await?;
        sqlx::query_with(&table.sql.upsert, args(params))
            .execute(conn.get())
            .await
            .map_err(|e| import_error(e, table, key))?;
        Ok(())
    }

    async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        let done = sqlx::raw_sql(sql)
            .execute(&self.writer)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    async fn close(&self) {
        if let Some(conn) = self.events.conn.lock().await.take() {
            conn.close().await.ok();
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

async fn exec(
    conn: &mut SqliteConnection,
    table: &TableInfo,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<(), DbFailure> {
    sqlx::query_with(sql, args(params))
        .execute(conn)
        .await
        .map_err(|e| classify(e, table))?;
    Ok(())
}

/// One transaction of [`Backend::update_many`]: begun, run, committed (or rolled
/// back when it failed or changed nothing).
async fn many_round(
    conn: &mut SqliteConnection,
    tables: &[&TableInfo],
    keys: &[EntityKey],
    key_values: &[SqlValue],
    f: &mut UpdateManyFn<'_>,
) -> Result<Vec<UpdateOutcome>, DbFailure> {
    exec(conn, tables[0], "BEGIN IMMEDIATE", Vec::new()).await?;
    let attempt = many_attempt(conn, tables, keys, key_values, f).await;
    let changed = attempt
        .as_ref()
        .is_ok_and(|o| o.iter().any(|o| !matches!(o, UpdateOutcome::Unchanged(_))));
    if !changed {
        exec(conn, tables[0], "ROLLBACK", Vec::new()).await.ok();
        return attempt;
    }
    if let Err(e) = exec(conn, tables[0], "COMMIT", Vec::new()).await {
        exec(conn, tables[0], "ROLLBACK", Vec::new()).await.ok();
        return Err(e);
    }
    attempt
}

/// Reads the rows of `keys` inside an open transaction, runs `f` and writes what it
/// decided (the caller commits or rolls back).
async fn many_attempt(
    conn: &mut SqliteConnection,
    tables: &[&TableInfo],
    keys: &[EntityKey],
    key_values: &[SqlValue],
    f: &mut UpdateManyFn<'_>,
) -> Result<Vec<UpdateOutcome>, DbFailure> {
    let mut current = Vec::with_capacity(keys.len());
    for (table, key_value) in tables.iter().zip(key_values) {
        let row = sqlx::query_with(&table.sql.select, args(vec![key_value.clone()]))
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| classify(e, table))?;
        current.push(match row {
            Some(row) => Some(decode(&row, table, cell).map_err(DbFailure::Fail)?.1),
            None => None,
        });
    }
    let refs: Vec<Option<&Record>> = current.iter().map(Option::as_ref).collect();
    let mut mutations = f(&refs);
    mutations.resize(keys.len(), Mutation::Keep);
    let mut outcomes = Vec::with_capacity(keys.len());
    for (i, mutation) in mutations.into_iter().enumerate() {
        let (table, id, key_value) = (tables[i], keys[i].id.as_str(), &key_values[i]);
        let (statement, outcome) = plan(table, id, key_value, current[i].take(), mutation)?;
        if let Some((sql, params)) = statement {
            exec(conn, table, sql, params).await?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn cache(pools: &SqlitePools) -> std::sync::MutexGuard<'_, RowCache> {
    pools
        .events
        .cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The row one update works on, and the store's pools.
#[derive(Clone, Copy)]
struct Target<'a> {
    pools: &'a SqlitePools,
    table: &'a TableInfo,
    key: &'a EntityKey,
    key_value: &'a SqlValue,
}

async fn update_on(
    conn: &mut SqliteConnection,
    target: Target<'_>,
    f: &mut UpdateFn<'_>,
) -> Result<UpdateOutcome, StoreError> {
    let Target { pools, key, .. } = target;
    let cached = cache(pools).take(key);
    if let Some((record, state)) = cached {
        match target.cached_attempt(conn, record, state, f).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) | Err(DbFailure::KeyTaken | DbFailure::Retry) => cache(pools).clear(),
            Err(DbFailure::Fail(e)) => return Err(e),
        }
    }
    for _ in 0..MAX_ATTEMPTS {
        match target.attempt(conn, f).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) | Err(DbFailure::KeyTaken | DbFailure::Retry) => {}
            Err(DbFailure::Fail(e)) => return Err(e),
        }
    }
    Err(gave_up(key))
}

impl Target<'_> {
    /// Runs the write `sql`, which returns the connection's state from before it,
    /// or no row when it changed nothing.
    async fn write_returning_state(
        self,
        conn: &mut SqliteConnection,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<Option<ConnState>, DbFailure> {
        sqlx::query_as_with(sql, args(params))
            .fetch_optional(conn)
            .await
            .map_err(|e| classify(e, self.table))
    }

    /// Runs the guarded write `sql`; whether it changed the row (it did not when the
    /// row moved on since it was read).
    async fn wrote(
        self,
        conn: &mut SqliteConnection,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<bool, DbFailure> {
        let done = sqlx::query_with(sql, args(params))
            .execute(conn)
            .await
            .map_err(|e| classify(e, self.table))?;
        Ok(done.rows_affected() > 0)
    }

    /// The write of a cached row: no read, one guarded statement. `Ok(None)` when
    /// the guard failed (something else wrote since) and the caller must start over.
    async fn cached_attempt(
        self,
        conn: &mut SqliteConnection,
        record: Record,
        state: ConnState,
        f: &mut UpdateFn<'_>,
    ) -> Result<Option<UpdateOutcome>, DbFailure> {
        let fail = |e| classify(e, self.table);
        let guard = [
            SqlValue::BigInt(Some(state.0)),
            SqlValue::BigInt(Some(state.1)),
        ];
        let written = match f(Some(&record)) {
            Mutation::Keep => {
                // Nothing to write, but the record handed out must be current.
                let now: ConnState = sqlx::query_as(&self.table.sql.sqlite.state)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(fail)?;
                if now != state {
                    return Ok(None);
                }
                cache(self.pools).keep(self.key, record.clone(), state);
                return Ok(Some(UpdateOutcome::Unchanged(Some(record))));
            }
            Mutation::Delete => {
                let mut params = vec![self.key_value.clone(), version_value(record.version)];
                params.extend(guard);
                if !self
                    .wrote(conn, &self.table.sql.sqlite.delete_if_state, params)
                    .await?
                {
                    return Ok(None);
                }
                cache(self.pools).advance(state);
                return Ok(Some(UpdateOutcome::Deleted));
            }
            Mutation::Put(value) => {
                let version = record.version + 1;
                let mut params = self
                    .table
                    .update_values(self.key.id.as_str(), &value, version)
                    .map_err(DbFailure::Fail)?;
                params.push(version_value(record.version));
                params.extend(guard);
                if !self
                    .wrote(conn, &self.table.sql.sqlite.update_if_state, params)
                    .await?
                {
                    return Ok(None);
                }
                Record { version, value }
            }
        };
        let mut cache = cache(self.pools);
        let next = cache.advance(state);
        cache.keep(self.key, written.clone(), next);
        Ok(Some(UpdateOutcome::Written(written)))
    }

    /// One read-decide-write round; `Ok(None)` when another process changed the row
    /// in between.
    async fn attempt(
        self,
        conn: &mut SqliteConnection,
        f: &mut UpdateFn<'_>,
    ) -> Result<Option<UpdateOutcome>, DbFailure> {
        let fail = |e| classify(e, self.table);
        let id = self.key.id.as_str();
        let row = sqlx::query_with(&self.table.sql.select, args(vec![self.key_value.clone()]))
            .fetch_optional(&mut *conn)
            .await
            .map_err(fail)?;
        let current = match row {
            Some(row) => Some(decode(&row, self.table, cell).map_err(DbFailure::Fail)?.1),
            None => None,
        };
        let (written, state): (Record, Option<ConnState>) = match (f(current.as_ref()), &current) {
            (Mutation::Keep, _) => return Ok(Some(UpdateOutcome::Unchanged(current))),
            (Mutation::Delete, None) => return Ok(Some(UpdateOutcome::Deleted)),
            (Mutation::Delete, Some(old)) => {
                let params = vec![self.key_value.clone(), version_value(old.version)];
                if !self
                    .wrote(conn, &self.table.sql.delete_if_version, params)
                    .await?
                {
                    // Written by someone else since it was read: start over.
                    return Ok(None);
                }
                return Ok(Some(UpdateOutcome::Deleted));
            }
            (Mutation::Put(value), None) => {
                let params = self
                    .table
                    .insert_values(id, &value, 1)
                    .map_err(DbFailure::Fail)?;
                let state = self
                    .write_returning_state(
                        conn,
                        &self.table.sql.sqlite.insert_returning_state,
                        params,
                    )
                    .await?;
                (Record { version: 1, value }, state)
            }
            (Mutation::Put(value), Some(old)) => {
                let version = old.version + 1;
                let mut params = self
                    .table
                    .update_values(id, &value, version)
                    .map_err(DbFailure::Fail)?;
                params.push(version_value(old.version));
                let state = self
                    .write_returning_state(
                        conn,
                        &self.table.sql.sqlite.update_returning_state,
                        params,
                    )
                    .await?;
                if state.is_none() {
                    return Ok(None);
                }
                (Record { version, value }, state)
            }
        };
        if let Some(state) = state {
            // The state reported is the one before this write, which changed one row.
            let mut cache = cache(self.pools);
            let next = cache.advance(state);
            cache.keep(self.key, written.clone(), next);
        }
        Ok(Some(UpdateOutcome::Written(written)))
    }
}
