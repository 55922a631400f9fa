//! One pooled connection of any dialect, with just what migrations need: run a
//! statement, read rows of text, and open and close transactions.

use std::future::Future;
use std::pin::Pin;

use sqlx::Row as _;
use sqlx::pool::PoolConnection;

use crate::{Dialect, SqlPool};

/// The key of the advisory lock migrations hold on PostgreSQL ("starmdl" in ASCII).
const POSTGRES_LOCK: i64 = 0x73_74_61_72_6d_64_6c;
/// The named lock migrations hold on MySQL (named locks are server-wide, so the
/// database's name is part of it; at most 64 characters), and how long they wait.
const MYSQL_LOCK: &str = "LEFT(CONCAT('starmodel_migrations:', DATABASE()), 64)";
const MYSQL_LOCK_SECONDS: u32 = 300;

/// A connection held for the length of a migration run.
pub(crate) enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(PoolConnection<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(PoolConnection<sqlx::MySql>),
}

/// A row with every cell as text (`None` for `NULL`).
pub(crate) type TextRow = Vec<Option<String>>;

/// sqlx's futures, boxed where they are made: left unboxed, the compiler cannot show
/// the store's `prepare` future is `Send` for every lifetime involved.
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;

impl Conn {
    /// A connection of `pool` (SQLite's writer: DDL is a write).
    pub(crate) async fn acquire(pool: &SqlPool) -> Result<Self, sqlx::Error> {
        Ok(match pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(p) => Self::Sqlite(p.writer.acquire().await?),
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(p) => Self::Postgres(p.acquire().await?),
            #[cfg(feature = "mysql")]
            SqlPool::MySql(p) => Self::MySql(p.acquire().await?),
        })
    }

    /// Waits for other processes' migrations to finish and keeps new ones waiting
    /// until [`unlock`](Self::unlock) (a session lock on PostgreSQL and MySQL; SQLite
    /// takes its write lock per migration instead).
    pub(crate) async fn lock(&mut self) -> Result<(), sqlx::Error> {
        match self.dialect() {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => {
                self.execute(&format!("SELECT pg_advisory_lock({POSTGRES_LOCK})"))
                    .await
            }
            Dialect::MySql => {
                let got = self
                    .rows(
                        &format!("SELECT GET_LOCK({MYSQL_LOCK}, {MYSQL_LOCK_SECONDS})"),
                        &[],
                    )
                    .await?;
                if got
                    .first()
                    .and_then(|r| r.first())
                    .cloned()
                    .flatten()
                    .as_deref()
                    == Some("1")
                {
                    Ok(())
                } else {
                    Err(sqlx::Error::Protocol(format!(
                        "another process held the migration lock for {MYSQL_LOCK_SECONDS} s"
                    )))
                }
            }
        }
    }

    /// Releases the lock taken by [`lock`](Self::lock); a failure is only logged, as
    /// it means the connection broke, which releases the lock too.
    pub(crate) async fn unlock(&mut self) {
        let sql = match self.dialect() {
            Dialect::Sqlite => return,
            Dialect::Postgres => format!("SELECT pg_advisory_unlock({POSTGRES_LOCK})"),
            Dialect::MySql => format!("SELECT RELEASE_LOCK({MYSQL_LOCK})"),
        };
        if let Err(e) = self.execute(&sql).await {
            tracing::warn!("releasing the migration lock failed: {e}");
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Dialect::MySql,
        }
    }

    /// Runs one statement as plain text (no prepared statement, so DDL never lingers
    /// in a statement cache).
    pub(crate) fn execute<'a>(&'a mut self, sql: &'a str) -> Boxed<'a, ()> {
        use sqlx::Executor as _;
        let query = sqlx::raw_sql(sql);
        let done: Boxed<'a, ()> = match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
        };
        done
    }

    /// Runs a query with text parameters and returns every row, each cell as text.
    pub(crate) fn rows<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [&'a str],
    ) -> Boxed<'a, Vec<TextRow>> {
        Box::pin(self.rows_unboxed(sql, params))
    }

    async fn rows_unboxed(
        &mut self,
        sql: &str,
        params: &[&str],
    ) -> Result<Vec<TextRow>, sqlx::Error> {
        macro_rules! fetch {
            ($c:expr) => {{
                let mut query = sqlx::query(sql);
                for p in params {
                    query = query.bind(*p);
                }
                query
                    .fetch_all(&mut **$c)
                    .await?
                    .iter()
                    .map(|row| (0..row.len()).map(|i| cell!(row, i)).collect())
                    .collect()
            }};
        }
        // Catalogs answer in text, integers or booleans depending on the dialect.
        macro_rules! cell {
            ($row:expr, $i:expr) => {{
                if let Ok(v) = $row.try_get::<Option<String>, _>($i) {
                    v
                } else if let Ok(v) = $row.try_get::<Option<i64>, _>($i) {
                    v.map(|n| n.to_string())
                } else if let Ok(v) = $row.try_get::<Option<bool>, _>($i) {
                    v.map(|b| if b { "1" } else { "0" }.to_owned())
                } else {
                    $row.try_get_unchecked::<Option<Vec<u8>>, _>($i)
                        .ok()
                        .flatten()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                }
            }};
        }
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => fetch!(c),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => fetch!(c),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => fetch!(c),
        })
    }

    /// Opens a transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken
    /// before anything is read.
    pub(crate) async fn begin(&mut self) -> Result<(), sqlx::Error> {
        self.execute(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::MySql => "START TRANSACTION",
        })
        .await
    }

    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.execute("COMMIT").await
    }

    /// Rolls back, ignoring a failure: the rollback follows another error, which is
    /// the one to report.
    pub(crate) async fn rollback(&mut self) {
        if let Err(e) = self.execute("ROLLBACK").await {
            tracing::warn!("migration rollback failed: {e}");
        }
    }
}
