//! The connection pools per database engine, and each engine's reads and writes.
//! Each module holds one engine's row decoding and its unit of work; PostgreSQL
//! and MySQL share theirs, which lives in `locked`.

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod locked;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::SqlitePools;

use starmodel_core::{EntityKey, StoreError};

use crate::Dialect;

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

pub(crate) fn gave_up(key: &EntityKey) -> StoreError {
    StoreError::Unavailable(format!(
        "`{key}` kept changing under this write; gave up after {MAX_ATTEMPTS} attempts"
    ))
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
            Self::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Dialect::MySql,
        }
    }

    /// Runs `sql` (one or more statements, no parameters) on the writing connection
    /// and returns how many rows it changed.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => sqlite::execute(p, sql).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => postgres::execute(p, sql).await,
            #[cfg(feature = "mysql")]
            Self::MySql(p) => mysql::execute(p, sql).await,
        }
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => p.close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => p.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(p) => p.close().await,
        }
    }
}
