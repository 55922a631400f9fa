//! A fresh store per backend and test, the entities the tests share, and a
//! dispatcher to run their events.
//!
//! SQLite gets a temporary file; PostgreSQL and MySQL a database `sm_<random>`
//! created through `DATABASE_URL_POSTGRES` / `DATABASE_URL_MYSQL` and dropped when
//! the [`TestDb`] is (also when the test panics). A backend whose variable is unset
//! is skipped with a notice, unless `CI=true`, where that is a failure.

#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

mod backends;

use sqlx::Connection;
use starmodel::prelude::*;
use starmodel_core::{Dispatcher, EntityType, EventInput, NodeId, Registry, Store};
use starmodel_sql::SqlStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

pub const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

impl Backend {
    fn env(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("DATABASE_URL_POSTGRES"),
            Backend::MySql => Some("DATABASE_URL_MYSQL"),
        }
    }
}

/// A store on a database of its own, dropped with it.
pub struct TestDb {
    pub backend: Backend,
    pub store: Arc<SqlStore>,
    /// The URL of this test's database (another store can connect to it).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(#[allow(dead_code)] tempfile::TempDir),
    Server { admin_url: String, name: String },
}

fn random_name() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("sm_{:016x}", h.finish())
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

/// A fresh store on `backend`, or `None` (with a notice) when the backend is not
/// configured outside CI.
pub async fn fresh(backend: Backend) -> Option<TestDb> {
    let Some(var) = backend.env() else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        return Some(TestDb {
            backend,
            store: Arc::new(store),
            url,
            cleanup: Cleanup::File(dir),
        });
    };
    let admin_url = match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{var} is not set: CI runs every backend");
            }
            eprintln!("notice: {var} is not set; skipping the {backend:?} part of this test");
            return None;
        }
    };
    let name = random_name();
    match backend {
        Backend::Postgres => {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
        Backend::MySql => {
            let mut admin = sqlx::MySqlConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE `{name}`"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
        Backend::Sqlite => unreachable!(),
    }
    let url = with_database(&admin_url, &name);
    let store = SqlStore::connect(&url).await.unwrap();
    Some(TestDb {
        backend,
        store: Arc::new(store),
        url,
        cleanup: Cleanup::Server { admin_url, name },
    })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Server { admin_url, name } = &self.cleanup else {
            return;
        };
        let (backend, admin_url, name) = (self.backend, admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which must not be blocked on: a thread
        // of its own with its own runtime drops the database.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                match backend {
                    Backend::Postgres => {
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        sqlx::raw_sql(&sql).execute(&mut admin).await?;
                    }
                    Backend::MySql => {
                        let mut admin = sqlx::MySqlConnection::connect(&admin_url).await?;
                        let sql = format!("DROP DATABASE IF EXISTS `{name}`");
                        sqlx::raw_sql(&sql).execute(&mut admin).await?;
                    }
                    Backend::Sqlite => {}
                }
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.url);
        }
    }
}

/// A dispatcher running `types` (already given the store).
pub fn dispatcher(types: Vec<EntityType>) -> Dispatcher {
    let mut registry = Registry::new();
    for ty in types {
        registry.insert(ty);
    }
    Dispatcher::new(registry, None, NodeId::random())
}

/// Attaches `E` to `db`'s store, creates its table, and returns its type.
pub async fn entity<E: Events>(db: &TestDb) -> EntityType {
    db.store.attach(E::schema()).unwrap();
    db.store.prepare().await.unwrap();
    EntityType::of::<E>(db.store.clone())
}

/// Event parameters, as a query string would carry them.
pub fn input(namespace: &'static str, pairs: &[(&str, &str)]) -> EventInput {
    EventInput::new(namespace).with_query(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub struct Todo {
    #[entity(id)]
    pub id: String,
    #[entity(validate(length(min = 1, max = 200)), index)]
    pub title: String,
    pub done: bool,
}

#[events]
impl Todo {
    #[event]
    fn add(id: String, title: String) -> Self {
        Todo {
            id,
            title,
            done: false,
        }
    }

    #[event]
    fn toggle(&mut self) {
        self.done = !self.done;
    }

    #[event]
    fn rename(&mut self, title: String) {
        self.title = title;
    }

    #[event]
    fn refuse(&mut self) -> Result<(), String> {
        self.title = "changed before failing".to_owned();
        Err("not today".to_owned())
    }

    #[event]
    fn explode(&mut self) {
        self.done = !self.done;
        panic!("boom in an event");
    }

    #[event]
    fn remove(&mut self) -> Deleted {
        Deleted
    }
}

/// A record counter for the concurrency tests.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Tally {
    #[entity(id)]
    pub id: i64,
    pub count: i64,
}

#[events]
impl Tally {
    #[event]
    fn open(id: i64) -> Self {
        Tally { id, count: 0 }
    }

    #[event]
    fn increment(&mut self) {
        self.count += 1;
    }
}

/// A unique field, for conflicts.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Account {
    #[entity(id)]
    pub id: String,
    #[entity(unique)]
    pub email: String,
}

#[events]
impl Account {
    #[event]
    fn signup(id: String, email: String) -> Self {
        Account { id, email }
    }

    #[event]
    fn change_email(&mut self, email: String) {
        self.email = email;
    }
}

/// Reserved words everywhere: the table `order`, columns `select`, `group`, `from`.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", name = "order")]
pub struct Order {
    #[entity(id)]
    pub select: String,
    #[entity(index)]
    pub group: i64,
    #[entity(unique)]
    pub from: Option<String>,
}

#[events]
impl Order {
    #[event]
    fn place(select: String, group: i64) -> Self {
        Order {
            select,
            group,
            from: None,
        }
    }

    #[event]
    fn regroup(&mut self, group: i64, from: Option<String>) {
        self.group = group;
        self.from = from;
    }
}

/// A session-scope entity: stored under a `_id` key column.
#[derive(Entity, Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "session")]
pub struct Visits {
    pub count: i64,
}

#[events]
impl Visits {
    #[event]
    fn visit(&mut self) {
        self.count += 1;
    }
}
