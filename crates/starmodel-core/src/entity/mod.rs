//! Entities: the [`Entity`] trait the derive implements, how instances are identified
//! ([`Scope`], [`EntityId`], [`EntityKey`]) and what the derive says about their shape
//! ([`Schema`], [`FieldKind`], [`SignalRef`]).

mod key;
mod kind;
mod schema;
mod signal;
mod uuid;

pub use key::{EntityId, EntityKey};
pub use kind::{FieldKind, base_type, is_uuid};
pub use schema::{Field, FieldError, FieldType, Rule, Schema};
pub use signal::SignalRef;
pub use uuid::new_uuid_v4;

use serde::{Serialize, de::DeserializeOwned};

/// How many instances of an entity exist and how a request finds its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One instance per browser session; the id is the signed session cookie's id.
    Session,
    /// One instance shared by every visitor.
    Global,
    /// Many instances; the id comes from the URL (`/todo/{id}/toggle`).
    Record,
}

impl Scope {
    /// The scope's name as written in `#[entity(scope = "...")]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Session => "session",
            Scope::Global => "global",
            Scope::Record => "record",
        }
    }
}

/// Where an entity's state is kept, as written in `#[entity(store = "...")]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// The application's [`MemoryStore`](crate::MemoryStore) (the default).
    Memory,
    /// A SQL database (SQLite, PostgreSQL, MySQL).
    Sql,
    /// Redis, one JSON value per instance (not built yet: the derive refuses
    /// `store = "redis"`).
    Redis,
    /// A store given to the application builder for this entity (not built yet: the
    /// derive refuses `store = "custom"`).
    Custom,
}

impl StoreKind {
    /// The kind's name as written in `#[entity(store = "...")]`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Sql => "sql",
            StoreKind::Redis => "redis",
            StoreKind::Custom => "custom",
        }
    }
}

/// The id every global-scope instance is stored under.
pub const GLOBAL_ID: &str = "global";

/// A piece of application state with its own storage, events and live view.
///
/// Implemented by `#[derive(Entity)]`; its events come from `#[events]`
/// (see [`Events`](crate::Events)). The derive picks `NAME` as the struct name in
/// snake_case: it is the URL segment (`/counter/increment`) and the signal namespace
/// (`$counter.count`).
///
/// ```
/// use starmodel_core::{Entity, EntityId, Scope, Schema, StoreKind};
/// use starmodel_core::entity::Hooks;
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Counter { count: i64 }
/// impl Hooks for Counter {}
/// impl Entity for Counter {
///     const NAME: &'static str = "counter";
///     const SCOPE: Scope = Scope::Global;
///     const STORE: StoreKind = StoreKind::Memory;
///     fn schema() -> &'static Schema {
///         static SCHEMA: Schema = Schema::new("counter", &[]);
///         &SCHEMA
///     }
///     fn initial(_: &EntityId) -> Option<Self> { Some(Self::default()) }
/// }
/// assert_eq!(Counter::NAME, "counter");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a StarModel entity",
    note = "add `#[derive(Entity, Serialize, Deserialize)]` to the struct"
)]
pub trait Entity: Hooks + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The entity's name: URL segment and signal namespace.
    const NAME: &'static str;
    /// How instances are identified.
    const SCOPE: Scope;
    /// Where instances are kept.
    const STORE: StoreKind;

    /// Field metadata used by stores, forms and APIs.
    fn schema() -> &'static Schema;

    /// The state of an instance nobody has changed yet; `None` when an instance must
    /// be created explicitly (record scope).
    fn initial(id: &EntityId) -> Option<Self>;

    /// The values a client does not send for the `#[entity(server)]` fields (ids,
    /// timestamps, owners): each type's `Default`, until [`Hooks::on_create`] sets
    /// the real one. The derive writes it; empty when no field is `server`.
    fn server_defaults() -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// An entity's own logic around every write, declared once and run on every write
/// path: events, the JSON API, the admin and the command line.
///
/// `#[derive(Entity)]` implements it with no hooks; write `#[entity(hooks)]` on
/// the struct and implement it yourself to have some. Hooks run on a copy of the
/// state inside the write's unit of work, so they must not have side effects: a
/// store may run them more than once.
///
/// ```
/// use starmodel_core::entity::{FieldError, Hooks};
/// struct Note { title: String, pinned: bool, words: usize }
/// impl Hooks for Note {
///     fn normalize(&mut self) {
///         self.title = self.title.trim().to_owned();
///         self.words = self.title.split_whitespace().count();
///     }
///     fn check(&self) -> Result<(), Vec<FieldError>> {
///         if self.pinned && self.title.is_empty() {
///             return Err(vec![FieldError {
///                 field: "title".into(),
///                 message: "a pinned note needs a title".into(),
///             }]);
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Hooks {
    /// Puts a new state in its canonical form before it is checked and written
    /// (trim text, fold case, derive fields from others).
    fn normalize(&mut self) {}

    /// Fills what the server decides about a record being created, before
    /// `normalize`: ids, timestamps, an owner. Runs on create events and on the
    /// JSON API's creates.
    fn on_create(&mut self) {}

    /// Rules that involve several fields or the whole state, beyond the field
    /// rules of `#[entity(validate(...))]`. An error refuses the write with a 422
    /// naming the fields; nothing is written.
    fn check(&self) -> Result<(), Vec<FieldError>> {
        Ok(())
    }
}
