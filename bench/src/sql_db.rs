//! The databases of the SQL benchmark, from the parent process's side: a fresh
//! one per run, read back directly with SQL after the server is gone, dropped
//! afterwards.

use serde::Serialize;
use sqlx::Connection;

use crate::BoxError;
use crate::sql_servers::{Item, Totals};
use starmodel::Entity;
use starmodel::sql::testing::TempDatabase;

/// Where a run keeps its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Backend {
    /// The memory store, inside the server process.
    Memory,
    /// A SQLite file (WAL mode, which the store sets).
    Sqlite,
    /// PostgreSQL, through `DATABASE_URL_POSTGRES`.
    Postgres,
}

impl Backend {
    /// The name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A run's fresh database.
#[derive(Debug)]
pub(crate) enum Database {
    /// Nothing outside the server.
    Memory,
    /// A SQLite file or a PostgreSQL database of its own, removed when dropped.
    Sql {
        /// What it is.
        backend: Backend,
        /// Where it is.
        db: TempDatabase,
    },
}

impl Database {
    /// A fresh database for `backend`; PostgreSQL's admin URL is `postgres`.
    pub(crate) async fn create(backend: Backend, postgres: Option<&str>) -> Result<Self, BoxError> {
        let db = match backend {
            Backend::Memory => return Ok(Database::Memory),
            Backend::Sqlite => TempDatabase::sqlite()?,
            Backend::Postgres => {
                TempDatabase::on_server(postgres.ok_or("no PostgreSQL URL")?).await?
            }
        };
        Ok(Database::Sql { backend, db })
    }

    /// What the server is told to open: `memory` or the database URL.
    pub(crate) fn store_arg(&self) -> &str {
        match self {
            Database::Memory => "memory",
            Database::Sql { db, .. } => db.url(),
        }
    }

    /// The [`Totals`] of the item table, read with SQL on a connection of our
    /// own; `None` for the memory store.
    pub(crate) async fn totals(&self) -> Result<Option<Totals>, BoxError> {
        let sql = format!(
            "SELECT count(*), CAST(COALESCE(sum(\"count\"), 0) AS BIGINT), \
             CAST(COALESCE(sum(\"_version\"), 0) AS BIGINT) FROM \"{}\"",
            Item::NAME
        );
        let (rows, count, versions): (i64, i64, i64) = match self {
            Database::Memory => return Ok(None),
            Database::Sql {
                backend: Backend::Sqlite,
                db,
            } => {
                let mut conn = sqlx::SqliteConnection::connect(db.url()).await?;
                let totals = sqlx::query_as(&sql).fetch_one(&mut conn).await?;
                conn.close().await?;
                totals
            }
            Database::Sql { db, .. } => {
                let mut conn = sqlx::PgConnection::connect(db.url()).await?;
                let totals = sqlx::query_as(&sql).fetch_one(&mut conn).await?;
                conn.close().await?;
                totals
            }
        };
        Ok(Some(Totals {
            rows,
            count,
            versions,
        }))
    }
}
