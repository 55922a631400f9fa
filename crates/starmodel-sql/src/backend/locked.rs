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
            use starmodel_core::store::UpdateFn;
            use starmodel_core::{
                EntityId, EntityKey, Mutation, Record, StoreError, UpdateOutcome,
            };

            use super::$cell as cell;
            use $crate::Dialect;
            use $crate::backend::row::{args, decode, fetch_all, fetch_optional};
            use $crate::backend::{Backend, MAX_ATTEMPTS, gave_up};
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

            /// One round: lock the row, run the event, write what it decided.
            async fn attempt(
                conn: &mut $connection,
                table: &TableInfo,
                id: &str,
                key_value: &SqlValue,
                f: &mut UpdateFn<'_>,
            ) -> Result<UpdateOutcome, DbFailure> {
                let fail = |e| classify(e, table);
                let row =
                    sqlx::query_with(&table.sql.select_for_update, args(vec![key_value.clone()]))
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(fail)?;
                let current = match row {
                    Some(row) => Some(decode(&row, table, cell).map_err(DbFailure::Fail)?.1),
                    None => None,
                };
                let written = match (f(current.as_ref()), &current) {
                    (Mutation::Keep, _) => return Ok(UpdateOutcome::Unchanged(current)),
                    (Mutation::Delete, None) => return Ok(UpdateOutcome::Deleted),
                    (Mutation::Delete, Some(_)) => {
                        write(conn, table, &table.sql.delete, vec![key_value.clone()]).await?;
                        return Ok(UpdateOutcome::Deleted);
                    }
                    (Mutation::Put(value), None) => {
                        let params = table
                            .insert_values(id, &value, 1)
                            .map_err(DbFailure::Fail)?;
                        write(conn, table, &table.sql.insert, params).await?;
                        Record { version: 1, value }
                    }
                    (Mutation::Put(value), Some(old)) => {
                        let version = old.version + 1;
                        let params = table
                            .update_values(id, &value, version)
                            .map_err(DbFailure::Fail)?;
                        write(conn, table, &table.sql.update, params).await?;
                        Record { version, value }
                    }
                };
                Ok(UpdateOutcome::Written(written))
            }
        }
    };
}

pub(crate) use row_locked_backend;
