//! What PostgreSQL and MySQL share: each update is one transaction holding the
//! row's lock (`SELECT … FOR UPDATE`) while the event runs; a transaction that
//! meets a key created meanwhile, a deadlock or a serialization failure rolls back
//! and starts over.
//!
//! The two engines differ in their sqlx types, in how they connect and in how
//! they decode a column, so [`row_locked_backend!`] writes their [`Backend`]
//! once for the types it is given; each engine's module keeps its own `connect`
//! options and `cell`. (Methods generic over `sqlx::Database` would need
//! higher-ranked `Executor` and `IntoArguments` bounds on every one, and sqlx has
//! no generic `rows_affected`.)
//!
//! [`Backend`]: super::Backend

use std::str::FromStr;

use sqlx::pool::{Pool, PoolOptions};
use sqlx::{ConnectOptions, Connection, Database};
use starmodel_core::StoreError;

use super::{ACQUIRE_TIMEOUT, POOL_SIZE};
use crate::error::store_error;

/// A pool of [`POOL_SIZE`] connections to `url`, set up further by `options`.
///
/// It first opens and closes one plain connection: a pool retries a refused
/// connection until its acquire timeout, so this makes a wrong URL or a server
/// that is down fail at once.
pub(crate) async fn connect<DB: Database>(
    url: &str,
    options: impl FnOnce(PoolOptions<DB>) -> PoolOptions<DB>,
) -> Result<Pool<DB>, StoreError> {
    let connect = <DB::Connection as Connection>::Options::from_str(url).map_err(store_error)?;
    connect
        .connect()
        .await
        .map_err(store_error)?
        .close()
        .await
        .ok();
    options(
        PoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT),
    )
    .connect_with(connect)
    .await
    .map_err(store_error)
}

/// Writes the [`Backend`](super::Backend) of one engine, given its pool and
/// connection types (full paths), its [`Dialect`](crate::Dialect) variant and
/// the name of its [`Cell`](super::row::Cell) decoding one column.
macro_rules! row_locked_backend {
    (pool: $pool:ty, connection: $connection:ty, dialect: $dialect:ident, cell: $cell:ident $(,)?) => {
        mod row_locked {
            use sea_query::Value as SqlValue;
            use sea_query_binder::SqlxValues;
            use starmodel_core::store::{UpdateFn, UpdateManyFn};
            use starmodel_core::{
                EntityId, EntityKey, Mutation, Record, StoreError, UpdateOutcome,
            };

            use super::$cell as cell;
            use $crate::Dialect;
            use $crate::backend::row::{args, decode, fetch_all, fetch_optional};
            use $crate::backend::{Backend, MAX_ATTEMPTS, gave_up, plan};
            use $crate::error::{DbFailure, classify, import_error, store_error};
            use $crate::query::Select;
            use $crate::table::TableInfo;

            impl Backend for $pool {
                fn dialect(&self) -> Dialect {
                    Dialect::$dialect
                }

                async fn load(
                    &self,
                    table: &TableInfo,
                    key: &EntityKey,
                ) -> Result<Option<Record>, StoreError> {
                    let key_value = table.key_value(key.id.as_str())?;
                    let query = sqlx::query_with(&table.sql.select, args(vec![key_value]));
                    fetch_optional(self, query, table, cell).await
                }

                async fn update(
                    &self,
                    table: &TableInfo,
                    key: &EntityKey,
                    f: &mut UpdateFn<'_>,
                ) -> Result<UpdateOutcome, StoreError> {
                    let id = key.id.as_str();
                    let key_value = table.key_value(id)?;
                    for _ in 0..MAX_ATTEMPTS {
                        let mut tx = self.begin().await.map_err(store_error)?;
                        match attempt(&mut tx, table, id, &key_value, f).await {
                            Ok(outcome) => {
                                if matches!(outcome, UpdateOutcome::Unchanged(_)) {
                                    tx.rollback().await.map_err(store_error)?;
                                    return Ok(outcome);
                                }
                                match tx.commit().await.map_err(|e| classify(e, table)) {
                                    Ok(()) => return Ok(outcome),
                                    Err(DbFailure::Fail(e)) => return Err(e),
                                    Err(_) => {}
                                }
                            }
                            // Dropping the transaction rolls it back.
                            Err(DbFailure::KeyTaken | DbFailure::Retry) => {}
                            Err(DbFailure::Fail(e)) => return Err(e),
                        }
                    }
                    Err(gave_up(key))
                }

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
                    // Rows are locked in key order: two units of work over the same
                    // rows wait for each other instead of deadlocking.
                    let mut order: Vec<usize> = (0..keys.len()).collect();
                    order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
                    for _ in 0..MAX_ATTEMPTS {
                        let mut tx = self.begin().await.map_err(store_error)?;
                        let mut current = vec![None; keys.len()];
                        let mut failed = None;
                        for &i in &order {
                            match lock_row(&mut tx, tables[i], &key_values[i]).await {
                                Ok(row) => current[i] = row,
                                Err(e) => {
                                    failed = Some(e);
                                    break;
                                }
                            }
                        }
                        let result = match failed {
                            Some(e) => Err(e),
                            None => {
                                let refs: Vec<Option<&Record>> =
                                    current.iter().map(Option::as_ref).collect();
                                let mut mutations = f(&refs);
                                mutations.resize(keys.len(), Mutation::Keep);
                                let mut outcomes = Vec::with_capacity(keys.len());
                                let mut result = Ok(());
                                for (i, mutation) in mutations.into_iter().enumerate() {
                                    let id = keys[i].id.as_str();
                                    match apply(
                                        &mut tx,
                                        tables[i],
                                        id,
                                        &key_values[i],
                                        current[i].take(),
                                        mutation,
                                    )
                                    .await
                                    {
                                        Ok(outcome) => outcomes.push(outcome),
                                        Err(e) => {
                                            result = Err(e);
                                            break;
                                        }
                                    }
                                }
                                result.map(|()| outcomes)
                            }
                        };
                        match result {
                            Ok(outcomes) => {
                                if outcomes
                                    .iter()
                                    .all(|o| matches!(o, UpdateOutcome::Unchanged(_)))
                                {
                                    tx.rollback().await.map_err(store_error)?;
                                    return Ok(outcomes);
                                }
                                match tx.commit().await.map_err(|e| classify(e, tables[0])) {
                                    Ok(()) => return Ok(outcomes),
                                    Err(DbFailure::Fail(e)) => return Err(e),
                                    Err(_) => {}
                                }
                            }
                            Err(DbFailure::KeyTaken | DbFailure::Retry) => {}
                            Err(DbFailure::Fail(e)) => return Err(e),
                        }
                    }
                    Err(gave_up(&keys[0]))
                }

                async fn list(
                    &self,
                    table: &TableInfo,
                ) -> Result<Vec<(EntityId, Record)>, StoreError> {
                    let query = sqlx::query(&table.sql.select_all);
                    fetch_all(self, query, table, cell).await
                }

                async fn select(
                    &self,
                    table: &TableInfo,
                    select: Select,
                ) -> Result<Vec<(EntityId, Record)>, StoreError> {
                    let query = sqlx::query_with(&select.sql, SqlxValues(select.values));
                    fetch_all(self, query, table, cell).await
                }

                async fn import(
                    &self,
                    table: &TableInfo,
                    key: &EntityKey,
                    record: &Record,
                ) -> Result<(), StoreError> {
                    let params =
                        table.insert_values(key.id.as_str(), &record.value, record.version)?;
                    sqlx::query_with(&table.sql.upsert, args(params))
                        .execute(self)
                        .await
                        .map_err(|e| import_error(e, table, key))?;
                    Ok(())
                }

                async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
                    let done = sqlx::raw_sql(sql)
                        .execute(self)
                        .await
                        .map_err(store_error)?;
                    Ok(done.rows_affected())
                }

                async fn close(&self) {
                    sqlx::Pool::close(self).await;
                }
            }

            /// Runs the write `sql` with `params` in the round's transaction.
            async fn write(
                conn: &mut $connection,
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

            /// Locks the row of `key_value` for this transaction and reads it.
            async fn lock_row(
                conn: &mut $connection,
                table: &TableInfo,
                key_value: &SqlValue,
            ) -> Result<Option<Record>, DbFailure> {
                let row =
                    sqlx::query_with(&table.sql.select_for_update, args(vec![key_value.clone()]))
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(|e| classify(e, table))?;
                match row {
                    Some(row) => Ok(Some(decode(&row, table, cell).map_err(DbFailure::Fail)?.1)),
                    None => Ok(None),
                }
            }

            /// Writes what was decided for the locked row of `id`, which held `current`.
            async fn apply(
                conn: &mut $connection,
                table: &TableInfo,
                id: &str,
                key_value: &SqlValue,
                current: Option<Record>,
                mutation: Mutation,
            ) -> Result<UpdateOutcome, DbFailure> {
                let (statement, outcome) = plan(table, id, key_value, current, mutation)?;
                if let Some((sql, params)) = statement {
                    write(conn, table, sql, params).await?;
                }
                Ok(outcome)
            }

            /// One round: lock the row, run the event, write what it decided.
            async fn attempt(
                conn: &mut $connection,
                table: &TableInfo,
                id: &str,
                key_value: &SqlValue,
                f: &mut UpdateFn<'_>,
            ) -> Result<UpdateOutcome, DbFailure> {
                let current = lock_row(conn, table, key_value).await?;
                let mutation = f(current.as_ref());
                apply(conn, table, id, key_value, current, mutation).await
            }
        }
    };
}

pub(crate) use row_locked_backend;
