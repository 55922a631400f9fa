//! The domain and application layers of StarModel, free of any web framework.
//!
//! A StarModel application is a set of **entities**: plain Rust structs whose state
//! changes only through **events** (methods marked `#[event]`). This crate holds what
//! every adapter shares:
//!
//! | module | room |
//! |---|---|
//! | [`entity`] | the [`Entity`] trait, [`Scope`], [`EntityKey`], schema metadata, signal names |
//! | [`event`] | event metadata, typed parameter extraction, [`Action`] builders, errors |
//! | [`store`] | the [`Store`] trait, the [`MemoryStore`] (TTL, capacity, snapshot file), verified copies between stores |
//! | [`bus`] | the [`Bus`] trait carrying [`EntityChanged`] between nodes, and [`LocalBus`] |
//! | [`app`] | the [`Registry`] of entity types and the [`Dispatcher`] (the unit of work) |
//!
//! Nothing here speaks HTTP beyond the `http` types used for methods and status codes;
//! the web adapter (`starmodel-axum`) and the stores for other engines build on it.
//!
//! | feature | what it adds |
//! |---|---|
//! | `maud` (off; the `starmodel` façade turns it on) | `maud::Markup` as an event result; `maud::Render` for [`SignalRef`] and [`Action`] |
//!
//! ```
//! use starmodel_core::{EntityKey, MemoryStore, Mutation, Store};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let key = EntityKey::new("counter", "global");
//! store.update(&key, &mut |_| Mutation::Put(serde_json::json!({"count": 1}))).await.unwrap();
//! assert_eq!(store.load(&key).await.unwrap().unwrap().version, 1);
//! # });
//! ```

pub mod app;
pub mod bus;
pub mod entity;
pub mod event;
pub mod store;

pub use app::{Dispatcher, EntityType, EventOutcome, Registry};
pub use bus::{Bus, BusError, BusEvent, EntityChanged, LocalBus, NodeId};
pub use entity::{Entity, EntityId, EntityKey, Schema, Scope, SignalRef, StoreKind};
pub use event::{
    Action, Deleted, DispatchError, EventDef, EventError, EventInput, EventKind, EventMethod,
    EventOutput, EventSpec, Events, Handler, IntoCreated, IntoEventOutput, ParamError,
};
pub use store::{
    Filter, FilterOp, ListQuery, MemoryStore, Mutation, Page, Record, Sort, Store, StoreError,
    UpdateOutcome,
};

/// Items the macros' generated code names; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
}
