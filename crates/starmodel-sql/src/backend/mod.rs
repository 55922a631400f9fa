//! The connection pools per database engine, and each engine's reads and writes.
//!
//! Each engine is a [`Backend`] in its own module: `sqlite`, `postgres`, `mysql`.
//! PostgreSQL and MySQL share their row-locked unit of work, which lives in
//! `locked`; every engine decodes its rows with [`row`].

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod locked;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::SqlitePools;

use starmodel_core::store::{UpdateFn, UpdateManyFn};
use starmodel_core::{EntityId, EntityKey, Record, StoreError, UpdateOutcome};

use crate::Dialect;
use crate::query::Select;
use crate::table::TableInfo;

/// Rounds of one update before giving up: each lost round means another writer
/// committed, so reaching this takes sustained contention on one instance.
pub(crate) const MAX_ATTEMPTS: usize = 64;

/// Connections per PostgreSQL or MySQL pool.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const POOL_SIZE: u32 = 16;

/// How long a request waits for a free PostgreSQL or MySQL connection before it
/// answers 503: long enough to ride out a burst, short enough to shed a backlog.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A statement and its parameters.
pub(crate) type Statement<'t> = (&'t str, Vec<sea_query::Value>);

/// The statement that writes `mutation` over the row of `id` (which held
/// `current`) inside a transaction that holds the row, with the outcome it
/// leaves: no statement for `Keep` or for deleting a missing row.
pub(crate) fn plan<'t>(
    table: &'t TableInfo,
    id: &str,
    key_value: &sea_query::Value,
    current: Option<Record>,
    mutation: starmodel_core::Mutation,
) -> Result<(Option<Statement<'t>>, UpdateOutcome), crate::error::DbFailure> {
    use crate::error::DbFailure;
    use starmodel_core::Mutation;
    Ok(match (mutation, current) {
        (Mutation::Keep, old) => (None, UpdateOutcome::Unchanged(old)),
        (Mutation::Delete, None) => (None, UpdateOutcome::Deleted),
        (Mutation::Delete, Some(_)) => (
            Some((table.sql.delete.as_str(), vec![key_value.clone()])),
            UpdateOutcome::Deleted,
        ),
        (Mutation::Put(value), None) => {
            let params = table
                .insert_values(id, &value, 1)
                .map_err(DbFailure::Fail)?;
            (
                Some((table.sql.insert.as_str(), params)),
                UpdateOutcome::Written(Record { version: 1, value }),
            )
        }
        (Mutation::Put(value), Some(old)) => {
            let version = old.version + 1;
            let params = table
                .update_values(id, &value, version)
                .map_err(DbFailure::Fail)?;
            (
                Some((table.sql.update.as_str(), params)),
                UpdateOutcome::Written(Record { version, value }),
            )
        }
    })
}

pub(crate) fn gave_up(key: &EntityKey) -> StoreError {
    StoreError::Unavailable(format!(
        "`{key}` kept changing under this write; gave up after {MAX_ATTEMPTS} attempts"
    ))
}

/// One database engine's reads and writes of entity rows, on its own pool type.
///
/// [`SqlPool`] picks the engine on each call with one `match`; the methods are
/// `async fn`s called on the concrete pool, so nothing is boxed on the way.
pub(crate) trait Backend {
    /// The dialect this engine speaks.
    fn dialect(&self) -> Dialect;

    /// The row of `key`, if there is one.
    async fn load(&self, table: &TableInfo, key: &EntityKey) -> Result<Option<Record>, StoreError>;

    /// Runs `f` on the row of `key` and writes what it decides, atomically.
    async fn update(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError>;

    /// Runs `f` on the rows of `keys` (each in its table) and writes all it
    /// decides in one transaction, or nothing.
    async fn update_many(
        &self,
        tables: &[&TableInfo],
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError>;

    /// Every row of `table`.
    async fn list(&self, table: &TableInfo) -> Result<Vec<(EntityId, Record)>, StoreError>;

    /// The rows `select` picks from `table`.
    async fn select(
        &self,
        table: &TableInfo,
        select: Select,
    ) -> Result<Vec<(EntityId, Record)>, StoreError>;

    /// Writes `record` as the row of `key`, version included.
    async fn import(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        record: &Record,
    ) -> Result<(), StoreError>;

    /// Runs `sql` on the writing connection; how many rows it changed.
    async fn execute(&self, sql: &str) -> Result<u64, StoreError>;

    /// Closes every connection, waiting for those in use.
    async fn close(&self);
}

/// The connections of a [`SqlStore`](crate::SqlStore), for running your own SQL
/// next to it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use starmodel_sql::{SqlPool, SqlStore};
/// let store = SqlStore::connect("sqlite::memory:").await.unwrap();
/// store.pool().execute("CREATE TABLE notes (body TEXT)").await.unwrap();
/// if let SqlPool::Sqlite(pools) = store.pool() {
///     let n: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
///         .fetch_one(&pools.reader)
///         .await
///         .unwrap();
///     assert_eq!(n, 0);
/// }
/// # });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlPool {
    /// SQLite's reader and writer pools.
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePools),
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// A MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

impl SqlPool {
    /// Connects to `url`.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let dialect = Dialect::from_url(url).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "`{}` is no database URL: expected sqlite:, postgres: or mysql:",
                url.split_once("://").map_or(url, |(scheme, _)| scheme)
            ))
        })?;
        match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Ok(Self::Sqlite(sqlite::connect(url).await?)),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Ok(Self::Postgres(postgres::connect(url).await?)),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Ok(Self::MySql(mysql::connect(url).await?)),
            #[allow(unreachable_patterns)]
            other => Err(StoreError::Unavailable(format!(
                "starmodel-sql was built without its `{other}` feature"
            ))),
        }
    }

    /// The dialect these connections speak.
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.dialect(),
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.dialect(),
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.dialect(),
        }
    }

    /// Runs `sql` (one or more statements, no parameters) on the writing connection
    /// and returns how many rows it changed.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.execute(sql).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.execute(sql).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.execute(sql).await,
        }
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => Backend::close(engine).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => Backend::close(engine).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => Backend::close(engine).await,
        }
    }

    pub(crate) async fn load(
        &self,
        table: &TableInfo,
        key: &EntityKey,
    ) -> Result<Option<Record>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.load(table, key).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.load(table, key).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.load(table, key).await,
        }
    }

    pub(crate) async fn update(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.update(table, key, f).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.update(table, key, f).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.update(table, key, f).await,
        }
    }

    pub(crate) async fn update_many(
        &self,
        tables: &[&TableInfo],
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.update_many(tables, keys, f).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.update_many(tables, keys, f).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.update_many(tables, keys, f).await,
        }
    }

    pub(crate) async fn list(
        &self,
        table: &TableInfo,
    ) -> Result<Vec<(EntityId, Record)>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.list(table).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.list(table).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.list(table).await,
        }
    }

    pub(crate) async fn select(
        &self,
        table: &TableInfo,
        select: Select,
    ) -> Result<Vec<(EntityId, Record)>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.select(table, select).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.select(table, select).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.select(table, select).await,
        }
    }

    pub(crate) async fn import(
        &self,
        table: &TableInfo,
        key: &EntityKey,
        record: &Record,
    ) -> Result<(), StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(engine) => engine.import(table, key, record).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(engine) => engine.import(table, key, record).await,
            #[cfg(feature = "mysql")]
            Self::MySql(engine) => engine.import(table, key, record).await,
        }
    }
}
