//! # StarModel
//!
//! Write an **entity** once — a struct and the `#[event]` methods that change it —
//! and StarModel provides the rest: storage, an HTTP endpoint per event, and a live
//! browser UI over [Datastar](https://data-star.dev) server-sent events that
//! updates every viewer the moment the data changes. No JavaScript to write.
//!
//! ```no_run
//! use starmodel::prelude::*;
//!
//! #[derive(Entity, Clone, Default, Serialize, Deserialize)]
//! #[entity(store = "memory", scope = "session")]
//! pub struct Counter {
//!     pub count: i64,
//! }
//!
//! #[events]
//! impl Counter {
//!     #[event] // POST /counter/increment
//!     fn increment(&mut self, amount: Option<i64>) {
//!         self.count += amount.unwrap_or(1);
//!     }
//! }
//!
//! async fn index(counter: Counter) -> Markup {
//!     page(html! {
//!         (counter)
//!         span "data-text"=(Counter::signal().count) { (counter.count) }
//!         button "data-on:click"=(Counter::action().increment(Some(10))) { "+10" }
//!     })
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), starmodel::ServeError> {
//!     StarModel::new()
//!         .entity::<Counter>()
//!         .route("/", get(index))
//!         .serve("127.0.0.1:5001")
//!         .await
//! }
//! ```
//!
//! ## Guides
//!
//! The [`guide`] module holds the long-form guides (the repository's `docs/*.md`,
//! every example a doctest): [entities](guide::entities), [events](guide::events),
//! [live views](guide::live_views), [records and SQL stores](guide::records) and
//! [the JSON API](guide::api).
//!
//! ## Where things live
//!
//! | crate | re-exported as | room |
//! |---|---|---|
//! | `starmodel-core` | [`core`] | entities, events, stores, buses, the dispatcher — no web |
//! | `starmodel-datastar` | [`datastar`] | the Datastar v1.0.4 wire protocol |
//! | `starmodel-macros` | [`Entity`], [`events`], [`event`] | the derive and attribute macros |
//! | `starmodel-axum` | [`web`] | the web adapter: builder, [`App`] handle, request pipeline, rejections, event and stream routes, live hub, page shell |
//! | `starmodel-sql` | `sql` (features `sqlite`, `postgres`, `mysql`) | the SQL store and its migrations |
//! | `starmodel-api` | `api` (feature `api`) | the JSON API and its OpenAPI document, a [`Mount`](web::Mount) |
//!
//! ## Feature flags
//!
//! | flag | default | adds |
//! |---|---|---|
//! | `sqlite` | yes | `sql::SqlStore` over SQLite (bundled): `sqlite://app.db` |
//! | `postgres` | no | PostgreSQL: `postgres://user@host/db` |
//! | `mysql` | no | MySQL and MariaDB: `mysql://user@host/db` |
//! | `api` | yes | `api::JsonApi`: mount it with `.mount(starmodel::api::JsonApi)` to serve entities marked `#[entity(api)]` |
//!
//! The memory store and the axum adapter are always there. Your `Cargo.toml`
//! also needs `serde` (for the entity derives) and `maud` (for `html!`): both
//! macros name their crate directly.

pub mod guide;

#[cfg(feature = "api")]
pub use starmodel_api as api;
pub use starmodel_axum as web;
/// Testing an application in-process ([`testing::TestClient`]); throwaway
/// databases are in `sql::testing`.
pub use starmodel_axum::testing;
pub use starmodel_core as core;
pub use starmodel_datastar as datastar;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use starmodel_sql as sql;

pub use starmodel_axum::{
    App, BuildError, ErrorResponse, Listed, ServeError, Session, StarModel, live_record, live_view,
    page, page_titled,
};
pub use starmodel_core::event::{FromJs, FromSignals};
pub use starmodel_core::{Action, Deleted, Entity, Events, MemoryStore, SignalRef};
pub use starmodel_macros::{Entity, event, events};

/// Everything an application usually needs, in one import.
pub mod prelude {
    pub use axum::routing::{delete, get, post};
    pub use maud::{DOCTYPE, Markup, PreEscaped, Render, html};
    pub use serde::{Deserialize, Serialize};
    pub use starmodel_axum::view::{Layout, href};
    pub use starmodel_axum::{
        App, ClientAddr, ErrorResponse, Session, StarModel, State, asset, live_record, live_view,
        page, page_titled,
    };
    pub use starmodel_core::entity::{FieldError, GLOBAL_ID, Hooks};
    pub use starmodel_core::event::{Changes, EventError, FromJs, FromSignals};
    pub use starmodel_core::{Deleted, Entity, Events, ListQuery, MemoryStore};
    pub use starmodel_macros::{Entity, event, events};
}

/// What the macros' generated code names. Not a stable API: only re-exports.
#[doc(hidden)]
pub mod __private {
    pub use axum;
    pub use maud;
    pub use starmodel_axum::{App, ErrorResponse, Listed, extract_entity, view::render_entity};
    pub use starmodel_core::__private::serde_json;
    pub use starmodel_core::entity::{Field, FieldType, Hooks, Rule};
    pub use starmodel_core::event::inject;
    pub use starmodel_core::event::{
        ActionArg, Changes, ElementPatchMode, EventParam, ParamKind, param, record_route_base,
        route_base,
    };
    pub use starmodel_core::{
        Action, Entity, EntityId, EventDef, EventError, EventInput, EventKind, EventMethod,
        EventOutput, EventSpec, Events, Handler, IntoCreated, IntoEventOutput, ListQuery, Schema,
        Scope, SignalRef, StoreKind, event::EventFuture,
    };
}
