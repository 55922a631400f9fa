//! Throwaway databases for tests and benchmarks: a SQLite file in a directory of
//! its own, or a fresh, uniquely named database on a PostgreSQL or MySQL server.
//! Both are removed when the [`TempDatabase`] is dropped (also when a test
//! panics).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use starmodel_sql::{SqlStore, testing::TempDatabase};
//! let db = TempDatabase::sqlite().unwrap();
//! let store = SqlStore::connect(db.url()).await.unwrap();
//! # drop(store);
//! # });
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::time::Duration;

use starmodel_core::StoreError;

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TempDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    Server {
        admin_url: String,
        name: String,
    },
}

/// `sm_<16 hex digits>`: unique per process and call.
fn random_name() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("sm_{:016x}", h.finish())
}

/// `url` with its database (the path) replaced by `name`, query kept.
///
/// ```
/// use starmodel_sql::testing::with_database;
/// assert_eq!(
///     with_database("postgres://u@h:5432/test?sslmode=disable", "sm_1"),
///     "postgres://u@h:5432/sm_1?sslmode=disable"
/// );
/// assert_eq!(with_database("mysql://root@h", "sm_2"), "mysql://root@h/sm_2");
/// ```
pub fn with_database(url: &str, name: &str) -> String {
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

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl TempDatabase {
    /// A SQLite file `db.sqlite` in a new directory under the system's temp dir.
    pub fn sqlite() -> Result<Self, StoreError> {
        let dir = std::env::temp_dir().join(random_name());
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Self {
            url: format!("sqlite://{}", dir.join("db.sqlite").display()),
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A new database on the server `admin_url` names (`postgres://…` or
    /// `mysql://…`), created through it.
    pub async fn on_server(admin_url: &str) -> Result<Self, StoreError> {
        let name = random_name();
        execute(admin_url, &create_sql(admin_url, &name)?).await?;
        Ok(Self {
            url: with_database(admin_url, &name),
            cleanup: Cleanup::Server {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// A new database on the server the environment variable `var` names
    /// (`DATABASE_URL_POSTGRES`, `DATABASE_URL_MYSQL`). When it is unset, the
    /// local server those tests expect ([`local_default`]) is used if it
    /// answers; else this prints a notice and gives `None`, so the caller skips,
    /// except under `CI=true`, where every backend must run and this panics.
    ///
    /// # Panics
    ///
    /// Under `CI=true` without the variable, or when the server cannot create the
    /// database.
    #[allow(clippy::panic)]
    pub async fn from_env(var: &str) -> Option<Self> {
        let admin_url = match std::env::var(var) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{var} is not set: under CI=true every backend runs"
                );
                return Self::on_local_default(var).await;
            }
        };
        match Self::on_server(&admin_url).await {
            Ok(db) => Some(db),
            Err(e) => panic!("creating a database through {var}: {e}"),
        }
    }

    /// A database on the local default server for `var`, if one answers.
    async fn on_local_default(var: &str) -> Option<Self> {
        let Some(url) = local_default(var) else {
            eprintln!("notice: {var} is not set; skipping what needs it");
            return None;
        };
        let attempt = tokio::time::timeout(Duration::from_secs(5), Self::on_server(url)).await;
        match attempt {
            Ok(Ok(db)) => {
                eprintln!("notice: {var} is not set; using the local server {url}");
                Some(db)
            }
            Ok(Err(e)) => {
                eprintln!(
                    "notice: {var} is not set and {url} is not usable ({e}); skipping what needs it"
                );
                None
            }
            Err(_) => {
                eprintln!(
                    "notice: {var} is not set and {url} did not answer; skipping what needs it"
                );
                None
            }
        }
    }

    /// The URL to connect to it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn create_sql(admin_url: &str, name: &str) -> Result<String, StoreError> {
    if admin_url.starts_with("postgres") {
        Ok(format!("CREATE DATABASE \"{name}\""))
    } else if admin_url.starts_with("mysql") || admin_url.starts_with("mariadb") {
        Ok(format!("CREATE DATABASE `{name}`"))
    } else {
        Err(StoreError::Unavailable(format!(
            "`{admin_url}` is not a PostgreSQL or MySQL URL"
        )))
    }
}

fn drop_sql(admin_url: &str, name: &str) -> String {
    if admin_url.starts_with("postgres") {
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
    } else {
        format!("DROP DATABASE IF EXISTS `{name}`")
    }
}

/// Runs one statement on a connection of its own to `url`.
async fn execute(url: &str, sql: &str) -> Result<(), StoreError> {
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres") {
        return execute_on::<sqlx::PgConnection>(url, sql).await;
    }
    #[cfg(feature = "mysql")]
    if url.starts_with("mysql") || url.starts_with("mariadb") {
        return execute_on::<sqlx::MySqlConnection>(url, sql).await;
    }
    let _ = sql;
    Err(unavailable(format!(
        "starmodel-sql was built without the feature for `{url}`"
    )))
}

/// Runs `sql` on a new connection of type `C` to `url`, then closes it.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn execute_on<C>(url: &str, sql: &str) -> Result<(), StoreError>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await.map_err(unavailable)?;
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .map_err(unavailable)?;
    conn.close().await.map_err(unavailable)
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Server { admin_url, name } => {
                let (admin_url, sql) = (admin_url.clone(), drop_sql(admin_url, name));
                // Drop may run inside an async runtime, which must not be blocked
                // on: a thread of its own with its own runtime drops the database.
                let dropped = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(unavailable)?
                        .block_on(execute(&admin_url, &sql))
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("warning: could not drop the test database {}", self.url);
                }
            }
        }
    }
}

/// The local server a variable of [`TempDatabase::from_env`] falls back to:
/// PostgreSQL at `postgres://postgres@127.0.0.1:5432/test` for
/// `DATABASE_URL_POSTGRES`, MariaDB or MySQL at `mysql://root@127.0.0.1:3306/test`
/// for `DATABASE_URL_MYSQL`.
pub fn local_default(var: &str) -> Option<&'static str> {
    match var {
        "DATABASE_URL_POSTGRES" => Some("postgres://postgres@127.0.0.1:5432/test"),
        "DATABASE_URL_MYSQL" => Some("mysql://root@127.0.0.1:3306/test"),
        _ => None,
    }
}
