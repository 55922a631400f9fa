//! StarModel's SQL store: entity state in typed tables on SQLite, PostgreSQL or
//! MySQL/MariaDB.
//!
//! An entity declared with `store = "sql"` lives in a table named after it, one
//! column per field, typed by [`column_type`]; [`SqlStore`] implements
//! [`starmodel_core::Store`] over it. Every statement is built with sea-query for
//! its dialect: identifiers quoted (an entity or field may be called `order`),
//! values bound as parameters.
//!
//! | module | room |
//! |---|---|
//! | [`SqlStore`] | connecting, the unit of work per engine, queries pushed into SQL |
//! | [`ddl`] | `CREATE TABLE` / `CREATE INDEX` for a schema, per [`Dialect`] |
//! | [`migrate`] | start-up migrations from the schema diff |
//! | [`testing`] | throwaway databases for tests and benchmarks |
//!
//! | feature | what it adds |
//! |---|---|
//! | `sqlite` (default) | SQLite, bundled: `sqlite://app.db`, `sqlite::memory:` |
//! | `postgres` | PostgreSQL: `postgres://user@host/db` |
//! | `mysql` | MySQL 8 and MariaDB: `mysql://user@host/db` |
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use starmodel_core::Store;
//! use starmodel_sql::{Dialect, SqlStore};
//! let store = SqlStore::connect("sqlite::memory:").await.unwrap();
//! assert_eq!(store.dialect(), Dialect::Sqlite);
//! store.prepare().await.unwrap();
//! # });
//! ```

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("starmodel-sql needs at least one of its `sqlite`, `postgres`, `mysql` features");

mod backend;
pub mod ddl;
mod dialect;
mod error;
pub mod migrate;
mod query;
mod store;
mod table;
pub mod testing;
mod value;

pub use backend::SqlPool;
#[cfg(feature = "sqlite")]
pub use backend::SqlitePools;
pub use dialect::{ColumnKind, Dialect, column_type};
pub use store::{DEFAULT_URL, SqlStore};
