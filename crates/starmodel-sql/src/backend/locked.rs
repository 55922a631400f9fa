//! What PostgreSQL and MySQL share: each update is one transaction holding the
//! row's lock (`SELECT … FOR UPDATE`) while the event runs; a transaction that
//! meets a key created meanwhile, a deadlock or a serialization failure rolls back
//! and starts over.
//!
//! The two engines differ in their sqlx types, in how they connect and in how
//! they decode a column, so [`row_locked_store!`] writes the rest once for the
//! types it is given; each engine's module keeps its own `connect` and `cell`.
//! (Functions generic over `sqlx::Database` would need higher-ranked `Executor`
//! and `IntoArguments` bounds on every one, and sqlx has no generic
//! `rows_affected`.)

use sea_query::{Value as SqlValue, Values};
use sea_query_binder::SqlxValues;
use sqlx::{ConnectOptions, Connection};
use starmodel_core::StoreError;

use crate::error::store_error;

/// The bound parameters of one statement.
pub(crate) fn args(values: Vec<SqlValue>) -> SqlxValues {
    SqlxValues(Values(values))
}

/// Opens and closes one plain connection: a pool retries a refused connection
/// until its acquire timeout, so this makes a wrong URL or a server that is down
/// fail at once.
pub(crate) async fn probe<O>(options: &O) -> Result<(), StoreError>
where
    O: ConnectOptions,
    O::Connection: Sized,
{
    options
        .connect()
        .await
        .map_err(store_error)?
        .close()
        .await
        .ok();
    Ok(())
}

/// Writes `load`, `update`, `list`, `select`, `import` and `execute` for one
/// engine, given its pool, connection and row types (full paths) and the name of
/// its `fn(&Row, usize, ColumnKind) -> Result<Option<serde_json::Value>, sqlx::Error>`
/// decoding one column.
macro_rules! row_locked_store {
    (pool: $pool:ty, connection: $connection:ty, row: $row:ty, cell: $cell:ident $(,)?) => {
        pub(crate) use row_locked::{execute, import, list, load, select, update};

        mod row_locked {
            use sea_query::Value as SqlValue;
            use sea_query_binder::SqlxValues;
            use serde_json::Value;
            use sqlx::Row;
            use starmodel_core::store::UpdateFn;
            use starmodel_core::{
                EntityId, EntityKey, Mutation, Record, StoreError, UpdateOutcome,
            };

            use super::$cell as cell;
            use $crate::backend::locked::args;
            use $crate::backend::{MAX_ATTEMPTS, gave_up};
            use $crate::error::{DbFailure, classify, store_error};
            use $crate::table::TableInfo;

            /// A row of `table`'s selects: its columns, then `_version`.
            fn decode(row: &$row, table: &TableInfo) -> Result<(EntityId, Record), StoreError> {
                let mut cells = Vec::with_capacity(table.columns.len());
                for (i, column) in table.columns.iter().enumerate() {
                    let cell = cell(row, i, column.kind).map_err(store_error)?;
                    cells.push(cell.unwrap_or(Value::Null));
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

            pub(crate) async fn load(
                pool: &$pool,
                table: &TableInfo,
                key: &EntityKey,
            ) -> Result<Option<Record>, StoreError> {
                let row = sqlx::query_with(
                    &table.sql.select,
                    args(vec![table.key_value(key.id.as_str())?]),
                )
                .fetch_optional(pool)
                .await
                .map_err(store_error)?;
                Ok(row.map(|r| decode(&r, table)).transpose()?.map(|(_, r)| r))
            }

            pub(crate) async fn update(
                pool: &$pool,
                table: &TableInfo,
                key: &EntityKey,
                f: &mut UpdateFn<'_>,
            ) -> Result<UpdateOutcome, StoreError> {
                let id = key.id.as_str();
                let key_value = table.key_value(id)?;
                for _ in 0..MAX_ATTEMPTS {
                    let mut tx = pool.begin().await.map_err(store_error)?;
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
                    Some(row) => Some(decode(&row, table).map_err(DbFailure::Fail)?.1),
                    None => None,
                };
                let written = match (f(current.as_ref()), &current) {
                    (Mutation::Keep, _) => return Ok(UpdateOutcome::Unchanged(current)),
                    (Mutation::Delete, None) => return Ok(UpdateOutcome::Deleted),
                    (Mutation::Delete, Some(_)) => {
                        sqlx::query_with(&table.sql.delete, args(vec![key_value.clone()]))
                            .execute(&mut *conn)
                            .await
                            .map_err(fail)?;
                        return Ok(UpdateOutcome::Deleted);
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
                        let params = table
                            .update_values(id, &value, version)
                            .map_err(DbFailure::Fail)?;
                        sqlx::query_with(&table.sql.update, args(params))
                            .execute(&mut *conn)
                            .await
                            .map_err(fail)?;
                        Record { version, value }
                    }
                };
                Ok(UpdateOutcome::Written(written))
            }

            pub(crate) async fn list(
                pool: &$pool,
                table: &TableInfo,
            ) -> Result<Vec<(EntityId, Record)>, StoreError> {
                let rows = sqlx::query(&table.sql.select_all)
                    .fetch_all(pool)
                    .await
                    .map_err(store_error)?;
                rows.iter().map(|r| decode(r, table)).collect()
            }

            pub(crate) async fn select(
                pool: &$pool,
                table: &TableInfo,
                select: $crate::query::Select,
            ) -> Result<Vec<(EntityId, Record)>, StoreError> {
                let rows = sqlx::query_with(&select.sql, SqlxValues(select.values))
                    .fetch_all(pool)
                    .await
                    .map_err(store_error)?;
                rows.iter().map(|r| decode(r, table)).collect()
            }

            pub(crate) async fn import(
                pool: &$pool,
                table: &TableInfo,
                key: &EntityKey,
                record: &Record,
            ) -> Result<(), StoreError> {
                let params = table.insert_values(key.id.as_str(), &record.value, record.version)?;
                sqlx::query_with(&table.sql.upsert, args(params))
                    .execute(pool)
                    .await
                    .map_err(|e| match classify(e, table) {
                        DbFailure::Fail(e) => e,
                        other => StoreError::Unavailable(format!("import of `{key}`: {other:?}")),
                    })?;
                Ok(())
            }

            pub(crate) async fn execute(pool: &$pool, sql: &str) -> Result<u64, StoreError> {
                let done = sqlx::raw_sql(sql)
                    .execute(pool)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use row_locked_store;
