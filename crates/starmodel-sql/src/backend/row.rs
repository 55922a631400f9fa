//! A row of a table's selects as an entity record, for every engine; each engine
//! decodes a column with its own `cell`, most of them through [`get`].

use sea_query::{Value as SqlValue, Values};
use sea_query_binder::SqlxValues;
use serde_json::Value;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, Row, Type};
use starmodel_core::{EntityId, Record, StoreError};

use crate::dialect::ColumnKind;
use crate::error::store_error;
use crate::table::TableInfo;

/// The bound parameters of one statement.
pub(crate) fn args(values: Vec<SqlValue>) -> SqlxValues {
    SqlxValues(Values(values))
}

/// Column `i` of an engine's row, a `kind` column, as JSON; `None` is SQL `NULL`.
pub(crate) type Cell<R> = fn(&R, usize, ColumnKind) -> Result<Option<Value>, StoreError>;

/// A row of `table`'s selects: its columns, decoded by `cell`, then `_version`.
pub(crate) fn decode<R>(
    row: &R,
    table: &TableInfo,
    cell: Cell<R>,
) -> Result<(EntityId, Record), StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Type<R::Database> + for<'r> Decode<'r, R::Database>,
{
    let mut cells = Vec::with_capacity(table.columns.len());
    for (i, column) in table.columns.iter().enumerate() {
        cells.push(cell(row, i, column.kind)?.unwrap_or(Value::Null));
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

/// The rows of `table` that `query` selects through `executor`.
pub(crate) async fn fetch_all<'q, E, DB, A>(
    executor: E,
    query: Query<'q, DB, A>,
    table: &TableInfo,
    cell: Cell<DB::Row>,
) -> Result<Vec<(EntityId, Record)>, StoreError>
where
    DB: Database,
    A: IntoArguments<'q, DB> + 'q,
    for<'c> E: Executor<'c, Database = DB> + 'q,
    usize: ColumnIndex<DB::Row>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    let rows = query.fetch_all(executor).await.map_err(store_error)?;
    rows.iter().map(|r| decode(r, table, cell)).collect()
}

/// The record of `table` that `query` selects through `executor`, if there is one.
pub(crate) async fn fetch_optional<'q, E, DB, A>(
    executor: E,
    query: Query<'q, DB, A>,
    table: &TableInfo,
    cell: Cell<DB::Row>,
) -> Result<Option<Record>, StoreError>
where
    DB: Database,
    A: IntoArguments<'q, DB> + 'q,
    for<'c> E: Executor<'c, Database = DB> + 'q,
    usize: ColumnIndex<DB::Row>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    let row = query.fetch_optional(executor).await.map_err(store_error)?;
    Ok(row
        .map(|r| decode(&r, table, cell))
        .transpose()?
        .map(|(_, r)| r))
}

/// Column `i` of `row`, a `T` or SQL `NULL`, as JSON.
pub(crate) fn get<R, T>(
    row: &R,
    i: usize,
    json: impl FnOnce(T) -> Value,
) -> Result<Option<Value>, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    T: Type<R::Database> + for<'r> Decode<'r, R::Database>,
{
    let cell: Option<T> = row.try_get(i).map_err(store_error)?;
    Ok(cell.map(json))
}
