//! The databases of the SQL benchmark, from the parent process's side: a fresh
//! one per run, read back directly with SQL after the server is gone, dropped
//! afterwards.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use serde::Serialize;
use sqlx::Connection;

use crate::BoxError;
use crate::sql_servers::{Item, Totals};
use starmodel::Entity;

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
    /// A file in a temporary directory, removed when dropped.
    Sqlite {
        /// Holds the file.
        _dir: tempfile::TempDir,
        /// `sqlite://<dir>/bench.db`.
        url: String,
    },
    /// A database of its own on the server `admin_url` points to.
    Postgres {
        /// Where to create and drop it.
        admin_url: String,
        /// `sm_bench_<random>`.
        name: String,
        /// The URL of the new database.
        url: String,
    },
}

impl Database {
    /// A fresh database for `backend`; PostgreSQL's admin URL is `postgres`.
    pub(crate) async fn create(backend: Backend, postgres: Option<&str>) -> Result<Self, BoxError> {
        match backend {
            Backend::Memory => Ok(Database::Memory),
            Backend::Sqlite => {
                let dir = tempfile::Builder::new().prefix("sm_bench").tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                Ok(Database::Sqlite { _dir: dir, url })
            }
            Backend::Postgres => {
                let admin_url = postgres.ok_or("no PostgreSQL URL")?.to_owned();
                let name = random_name();
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                let url = with_database(&admin_url, &name);
                Ok(Database::Postgres {
                    admin_url,
                    name,
                    url,
                })
            }
        }
    }

    /// What the server is told to open: `memory` or the database URL.
    pub(crate) fn store_arg(&self) -> &str {
        match self {
            Database::Memory => "memory",
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
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
            Database::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await?;
                let totals = sqlx::query_as(&sql).fetch_one(&mut conn).await?;
                conn.close().await?;
                totals
            }
            Database::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
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

    /// Removes the database (a SQLite file goes with its directory on drop).
    pub(crate) async fn remove(self) -> Result<(), BoxError> {
        if let Database::Postgres {
            admin_url, name, ..
        } = &self
        {
            let mut admin = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

fn random_name() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("sm_bench_{:016x}", h.finish())
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_path_only() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "sm_x"),
            "postgres://postgres@127.0.0.1:5432/sm_x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "sm_x"),
            "postgres://u@h/sm_x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h", "sm_x"),
            "postgres://u@h/sm_x"
        );
    }
}
