//! A fresh store per backend and test, the entities the tests share, and a
//! dispatcher to run their events.
//!
//! SQLite gets a temporary file; PostgreSQL and MySQL a database `sm_<random>`
//! created through `DATABASE_URL_POSTGRES` / `DATABASE_URL_MYSQL` and dropped when
//! the [`TestDb`] is (also when the test panics). A backend whose variable is unset
//! runs on the local server (`starmodel_sql::testing::local_default`) when that
//! answers, and is skipped with a notice otherwise, unless `CI=true`, where that
//! is a failure.

#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;

mod backends;
pub mod migrate;

use starmodel::prelude::*;
use starmodel_core::{
    DispatchError, Dispatcher, EntityId, EntityKey, EntityType, EventInput, EventOutcome, Filter,
    FilterOp, ListQuery, NodeId, Record, Registry, Store,
};
use starmodel_sql::SqlStore;
use starmodel_sql::testing::TempDatabase;

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
    _db: TempDatabase,
}

/// A fresh store on `backend`, or `None` (with a notice) when the backend is not
/// configured outside CI.
pub async fn fresh(backend: Backend) -> Option<TestDb> {
    let db = match backend.env() {
        None => TempDatabase::sqlite().unwrap(),
        Some(var) => TempDatabase::from_env(var).await?,
    };
    let url = db.url().to_owned();
    let store = SqlStore::connect(&url).await.unwrap();
    Some(TestDb {
        backend,
        store: Arc::new(store),
        url,
        _db: db,
    })
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

/// Runs `event` of `entity` on the instance `id`, with `params` as a query string
/// would carry them.
pub async fn send(
    d: &Dispatcher,
    entity: &'static str,
    event: &str,
    id: impl Into<EntityId>,
    params: &[(&str, &str)],
) -> Result<EventOutcome, DispatchError> {
    d.dispatch(entity, event, id.into(), &input(entity, params))
        .await
}

/// The record of `entity` `id` in `store`, which must hold one.
pub async fn stored(store: &dyn Store, entity: &str, id: &str) -> Record {
    store
        .load(&EntityKey::new(entity, id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {entity} {id}"))
}

/// Runs `task(0)` to `task(count - 1)` at once, each on a task of its own, and
/// waits for all of them; their results in that order.
pub async fn concurrently<F, T>(count: usize, task: impl Fn(usize) -> F) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..count).map(|n| tokio::spawn(task(n))).collect();
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// The filter `field op value`.
pub fn filter(field: &str, op: FilterOp, value: serde_json::Value) -> Filter {
    Filter {
        field: field.into(),
        op,
        value,
    }
}

/// A query of the one filter `field op value`, unsorted and unpaged.
pub fn filtered(field: &str, op: FilterOp, value: serde_json::Value) -> ListQuery {
    ListQuery {
        filters: vec![filter(field, op, value)],
        ..ListQuery::default()
    }
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
