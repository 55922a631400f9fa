//! A connection of any dialect, with just what migrations need: run a statement,
//! read rows of text, hold the migration lock, and run a transaction.
//!
//! The lock: PostgreSQL and MySQL hold a session lock (advisory or named) for the
//! whole run; SQLite has none, so a run on SQLite is one `BEGIN IMMEDIATE`
//! transaction on the writer connection, which holds the database's write lock from
//! the first read of the history to the last step, and each migration inside it is
//! a savepoint. Without that, two processes starting together could both plan the
//! same step and record it twice. The run commits only if it succeeded. Runs that
//! only read (a plan, the history) use a plain transaction on SQLite instead.
//!
//! Cancel-safety: a [`Tx`] or SQLite [`Held`] dropped before it commits rolls back
//! (sqlx queues the `ROLLBACK`), and PostgreSQL and MySQL connections, which hold a
//! session lock during a run, are closed rather than returned to the pool when
//! dropped.

use std::future::Future;
use std::pin::Pin;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use sqlx::pool::PoolConnection;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use sqlx::{Connection as _, Transaction};
use sqlx::{Executor as _, Row as _};

use crate::{Dialect, SqlPool};

/// The key of the advisory lock migrations hold on PostgreSQL ("starmdl" in ASCII).
const POSTGRES_LOCK: i64 = 0x73_74_61_72_6d_64_6c;
/// The named lock migrations hold on MySQL (named locks are server-wide, so the
/// database's name is part of it; at most 64 characters), and how long they wait.
const MYSQL_LOCK: &str = "LEFT(CONCAT('starmodel_migrations:', DATABASE()), 64)";
/// How long a run waits for another process's run to end, on MySQL and SQLite
/// (PostgreSQL's advisory lock waits as long as it takes).
const LOCK_WAIT_SECONDS: u32 = 300;

/// A row with every cell as text (`None` for `NULL`).
pub(crate) type TextRow = Vec<Option<String>>;

/// sqlx's futures, boxed where they are made: left unboxed, the compiler cannot show
/// the store's `prepare` future is `Send` for every lifetime involved.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;

/// A pooled connection held for the length of a migration run (on SQLite, the
/// writer inside the run's transaction).
pub(crate) enum Held {
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(PoolConnection<sqlx::MySql>),
}

/// What a migration run does to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Only reads (a plan, the history): on SQLite it does not keep writers out.
    Read,
    /// Changes the schema or the history.
    Write,
}

impl Held {
    /// A connection of `pool`, holding the migration lock (waiting up to
    /// [`LOCK_WAIT_SECONDS`] for another process's run): on PostgreSQL and MySQL a
    /// session lock; on SQLite the writer in a transaction that has taken the
    /// database's write lock, or for a [`Access::Read`] run a plain transaction
    /// (a consistent view that lets other writers go on).
    pub(crate) async fn acquire(pool: &SqlPool, access: Access) -> Result<Self, sqlx::Error> {
        #[cfg(not(feature = "sqlite"))]
        let _ = access;
        let mut held = match pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(p) => Self::Sqlite(match access {
                Access::Write => sqlite_write_lock(&p.writer).await?,
                Access::Read => p.writer.begin().await?,
            }),
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(p) => {
                let mut c = p.acquire().await?;
                c.close_on_drop();
                Self::Postgres(c)
            }
            #[cfg(feature = "mysql")]
            SqlPool::MySql(p) => {
                let mut c = p.acquire().await?;
                c.close_on_drop();
                Self::MySql(c)
            }
        };
        held.conn().lock().await?;
        Ok(held)
    }

    /// Ends the run: on SQLite commits the run's transaction when it `succeeded`,
    /// else rolls all of it back (so a failed run leaves nothing behind, history
    /// included); elsewhere releases the session lock (each migration committed
    /// on its own). A failure to release is only logged: the connection is closed
    /// when dropped, which releases the lock as well.
    pub(crate) async fn release(mut self, succeeded: bool) -> Result<(), sqlx::Error> {
        #[cfg(not(feature = "sqlite"))]
        let _ = succeeded;
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) if succeeded => tx.commit().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => tx.rollback().await,
            #[allow(unreachable_patterns)]
            _ => {
                self.conn().unlock().await;
                Ok(())
            }
        }
    }

    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => Conn::Sqlite(c),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => Conn::Postgres(c),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => Conn::MySql(c),
        }
    }
}

/// The writer in a transaction holding the database's write lock. Each try waits
/// the connection's busy timeout (seconds); another process's migration run can
/// take longer, so this tries again until [`LOCK_WAIT_SECONDS`] have passed.
#[cfg(feature = "sqlite")]
async fn sqlite_write_lock(
    writer: &sqlx::SqlitePool,
) -> Result<Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_secs(LOCK_WAIT_SECONDS.into());
    loop {
        match writer.begin_with("BEGIN IMMEDIATE").await {
            Err(e) if sqlite_busy(&e) && std::time::Instant::now() < deadline => {
                tracing::info!("waiting for another process's migrations to end");
            }
            result => return result,
        }
    }
}

/// `SQLITE_BUSY` (in any of its extended forms): another connection writes.
#[cfg(feature = "sqlite")]
fn sqlite_busy(e: &sqlx::Error) -> bool {
    let code = e.as_database_error().and_then(|d| d.code());
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}

/// A borrowed connection, inside a transaction or not.
pub(crate) enum Conn<'c> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut sqlx::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'c mut sqlx::PgConnection),
    #[cfg(feature = "mysql")]
    MySql(&'c mut sqlx::MySqlConnection),
}

impl Conn<'_> {
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
        let query = sqlx::raw_sql(sql);
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => Box::pin(async move { c.execute(query).await.map(drop) }),
        }
    }

    /// Runs a query with text parameters and returns every row, each cell as text.
    pub(crate) fn rows<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [&'a str],
    ) -> Boxed<'a, Vec<TextRow>> {
        macro_rules! fetch {
            ($c:expr) => {
                Box::pin(async move {
                    let mut query = sqlx::query(sql);
                    for p in params {
                        query = query.bind(*p);
                    }
                    Ok(query
                        .fetch_all(&mut **$c)
                        .await?
                        .iter()
                        .map(|row| (0..row.len()).map(|i| cell!(row, i)).collect())
                        .collect())
                })
            };
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
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => fetch!(c),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => fetch!(c),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => fetch!(c),
        }
    }

    /// Opens a transaction: a savepoint inside the run's transaction on SQLite;
    /// none on MySQL.
    pub(crate) fn begin(&mut self) -> Boxed<'_, Tx<'_>> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => Box::pin(async move { Ok(Tx::Sqlite(c.begin().await?)) }),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => Box::pin(async move { Ok(Tx::Postgres(c.begin().await?)) }),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => Box::pin(async move { Ok(Tx::MySql(c)) }),
        }
    }

    /// Waits for other processes' migrations to finish and keeps new ones waiting
    /// until [`unlock`](Self::unlock) (a session lock on PostgreSQL and MySQL; on
    /// SQLite the run's transaction is the lock).
    async fn lock(&mut self) -> Result<(), sqlx::Error> {
        match self.dialect() {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => {
                self.execute(&format!("SELECT pg_advisory_lock({POSTGRES_LOCK})"))
                    .await
            }
            Dialect::MySql => {
                let sql = format!("SELECT GET_LOCK({MYSQL_LOCK}, {LOCK_WAIT_SECONDS})");
                let got = self.rows(&sql, &[]).await?;
                if got.first().and_then(|r| r.first()) == Some(&Some("1".to_owned())) {
                    Ok(())
                } else {
                    Err(sqlx::Error::Protocol(format!(
                        "another process held the migration lock for {LOCK_WAIT_SECONDS} s"
                    )))
                }
            }
        }
    }

    /// Releases the lock taken by [`lock`](Self::lock).
    async fn unlock(&mut self) {
        let sql = match self.dialect() {
            Dialect::Sqlite => return,
            Dialect::Postgres => format!("SELECT pg_advisory_unlock({POSTGRES_LOCK})"),
            Dialect::MySql => format!("SELECT RELEASE_LOCK({MYSQL_LOCK})"),
        };
        if let Err(e) = self.execute(&sql).await {
            tracing::warn!("releasing the migration lock failed: {e}");
        }
    }
}

/// A transaction, or on MySQL (whose schema changes commit at once) the bare
/// connection.
pub(crate) enum Tx<'c> {
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<'c, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Transaction<'c, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(&'c mut sqlx::MySqlConnection),
}

impl<'c> Tx<'c> {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => Conn::Sqlite(tx),
            #[cfg(feature = "postgres")]
            Self::Postgres(tx) => Conn::Postgres(tx),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => Conn::MySql(c),
        }
    }

    pub(crate) fn commit(self) -> Boxed<'c, ()> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => Box::pin(tx.commit()),
            #[cfg(feature = "postgres")]
            Self::Postgres(tx) => Box::pin(tx.commit()),
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Box::pin(async { Ok(()) }),
        }
    }

    /// Rolls back now (dropping the transaction would, a little later).
    pub(crate) fn rollback(self) -> Boxed<'c, ()> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => Box::pin(tx.rollback()),
            #[cfg(feature = "postgres")]
            Self::Postgres(tx) => Box::pin(tx.rollback()),
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Box::pin(async { Ok(()) }),
        }
    }
}
