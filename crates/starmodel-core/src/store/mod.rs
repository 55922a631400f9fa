//! Stores keep entity state. Each entity picks one; the [`MemoryStore`] is the
//! default and the SQL and Redis stores live in their own crates.
//!
//! A store speaks JSON values (`serde_json::Value`, one object per instance) and
//! keeps a version number per instance. Its one writing primitive,
//! [`Store::update`], runs a closure on the current state *atomically* for that
//! instance: the memory store holds a per-instance lock, a SQL store a row lock
//! inside a transaction, Redis a `WATCH`/`MULTI` retry (so the closure may run more
//! than once and must not have side effects of its own).

pub mod copy;
mod memory;
pub mod query;
pub mod testing;

pub use copy::{Checksum, CopyError, CopyOptions, CopyReport, EntityCopy, checksum, copy};
pub use memory::{MemoryStore, MemoryStoreBuilder};
pub use query::{Filter, FilterOp, ListQuery, Page, Sort};

use async_trait::async_trait;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{EntityId, EntityKey, Schema};

/// A stored instance: its state and how many times it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Starts at 1 and grows by one with every write.
    pub version: u64,
    /// The entity's fields as a JSON object.
    pub value: Value,
}

/// What an [`Store::update`] closure decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// Write this state (version + 1).
    Put(Value),
    /// Remove the instance.
    Delete,
    /// Leave everything as it was (an event failed, or nothing changed).
    Keep,
}

/// What [`Store::update`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// The new record was written.
    Written(Record),
    /// The instance was removed.
    Deleted,
    /// Nothing was written; the current record, if any.
    Unchanged(Option<Record>),
}

/// The closure [`Store::update`] runs on the current record.
pub type UpdateFn<'a> = dyn FnMut(Option<&Record>) -> Mutation + Send + 'a;

/// The closure [`Store::update_many`] runs on the current records of its keys (in
/// the order of the keys): one [`Mutation`] per key, or an empty `Vec` to leave
/// every instance as it was.
pub type UpdateManyFn<'a> = dyn FnMut(&[Option<&Record>]) -> Vec<Mutation> + Send + 'a;

/// A store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or refused the operation (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store is full and could not make room (503).
    #[error("store is full ({capacity} instances)")]
    Full {
        /// The configured capacity.
        capacity: usize,
    },
    /// A write would break a constraint: a unique value taken, or a record
    /// created with an id that exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The query names a field the entity has not, or compares it with a value of
    /// the wrong type (400).
    #[error("{0}")]
    BadQuery(String),
    /// The backend cannot hold a value of a valid instance: text longer than its
    /// column, U+0000 in PostgreSQL text, a date out of the column's range (422).
    /// `message` says why, without the field's name.
    #[error("{}", invalid_text(field.as_deref(), message))]
    Invalid {
        /// The field, when the backend names it.
        field: Option<String>,
        /// What is wrong with the value.
        message: String,
    },
    /// Stored bytes do not decode (500).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store cannot do what was asked (500): a programming error, such as a
    /// unit of work over several instances on a store that writes one at a time.
    #[error("{0}")]
    Unsupported(String),
    /// Reading or writing a file failed (500).
    #[error("store i/o failed on `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn invalid_text(field: Option<&str>, message: &str) -> String {
    match field {
        Some(field) => format!("`{field}` {message}"),
        None => message.to_owned(),
    }
}

impl StoreError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            StoreError::Unavailable(_) | StoreError::Full { .. } => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::BadQuery(_) => StatusCode::BAD_REQUEST,
            StoreError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Corrupt(_) | StoreError::Io { .. } | StoreError::Unsupported(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// Whether `a` and `b` hold the same data (see [`Store::identity`]).
pub fn same_store(a: &dyn Store, b: &dyn Store) -> bool {
    a.identity() == b.identity()
}

/// Where entity state lives. Object-safe: entities hold an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Told, when the application is built and before any other call, of each
    /// entity kept here. A SQL store learns its tables' columns from it; the default
    /// does nothing.
    fn attach(&self, schema: &'static Schema) -> Result<(), StoreError> {
        let _ = schema;
        Ok(())
    }

    /// Which store this is: two handles with the same identity hold the same data
    /// (clones of one [`MemoryStore`] or `SqlStore`), so one transaction covers
    /// both. The default is the handle's own address; stores that are cheap
    /// handles to shared state return that state's address.
    fn identity(&self) -> usize {
        std::ptr::from_ref(self).cast::<()>() as usize
    }

    /// Gets ready to serve the attached entities, before the application takes
    /// requests (a SQL store applies its start-up migrations here). Called by
    /// `App::prepare` and on serving; must be safe to call more than once.
    async fn prepare(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The current record, if the instance exists.
    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError>;

    /// Runs `f` on the current record with every other writer of this instance
    /// held off, and applies what it decides.
    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError>;

    /// Runs `f` on the current records of every key in `keys` with every other
    /// writer of those instances held off, and applies all it decides or nothing:
    /// one transaction. How an event changes other entities of the same store in
    /// its unit of work. `keys` holds no key twice.
    ///
    /// The default serves a single key through [`update`](Self::update) and refuses
    /// more with [`StoreError::Unsupported`]; the memory and SQL stores override it.
    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        match keys {
            [key] => {
                let outcome = self
                    .update(key, &mut |current| {
                        f(&[current]).pop().unwrap_or(Mutation::Keep)
                    })
                    .await?;
                Ok(vec![outcome])
            }
            _ => Err(StoreError::Unsupported(
                "this store cannot change several instances in one unit of work".to_owned(),
            )),
        }
    }

    /// Every instance of one entity, ordered by id (for copies, admin and APIs).
    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError>;

    /// One page of instances of `entity` matching `query`. The default filters and
    /// sorts [`list`](Self::list) in memory; SQL stores push it into the database.
    async fn query(&self, entity: &str, query: &ListQuery) -> Result<Page, StoreError> {
        Ok(query::apply(self.list(entity).await?, query))
    }

    /// Writes `record` exactly as given (version included), replacing any instance
    /// under `key`: how data is copied between stores.
    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError>;

    /// Writes anything buffered to durable storage (called on graceful shutdown).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
