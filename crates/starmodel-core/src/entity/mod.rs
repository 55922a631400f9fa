//! Entities: the [`Entity`] trait the derive implements, how instances are identified
//! ([`Scope`], [`EntityId`], [`EntityKey`]) and what the derive says about their shape
//! ([`Schema`], [`FieldKind`], [`SignalRef`]).

mod key;
mod kind;
mod schema;
mod signal;

pub use key::{EntityId, EntityKey};
pub use kind::{FieldKind, base_type, is_uuid};
pub use schema::{Field, FieldError, FieldType, Rule, Schema};
pub use signal::SignalRef;

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
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Counter { count: i64 }
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
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
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
}
