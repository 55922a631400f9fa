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
//! ## Where things live
//!
//! | crate | room |
//! |---|---|
//! | [`core`] (`starmodel-core`) | entities, events, stores, buses, the dispatcher — no web |
//! | [`datastar`] (`starmodel-datastar`) | the Datastar v1.0.4 wire protocol |
//! | [`axum`](mod@web) (`starmodel-axum`) | routes, sessions, live streams, pages |
//! | `starmodel-macros` | `#[derive(Entity)]`, `#[events]`, `#[event]` |
//!
//! ## Feature flags
//!
//! The default build is the memory store and the axum adapter. Each SQL engine
//! comes behind a flag of its own and brings `starmodel::sql` (`starmodel-sql`):
//!
//! | flag | adds |
//! |---|---|
//! | `sqlite` | `SqlStore` over SQLite (bundled): `sqlite://app.db` |
//! | `postgres` | PostgreSQL: `postgres://user@host/db` |
//! | `mysql` | MySQL and MariaDB: `mysql://user@host/db` |
//!
//! Your `Cargo.toml` also needs `serde` (for the entity derives) and `maud` (for
//! `html!`): both macros name their crate directly.

pub use starmodel_axum as web;
pub use starmodel_core as core;
pub use starmodel_datastar as datastar;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use starmodel_sql as sql;

pub use starmodel_axum::{
    App, BuildError, ErrorResponse, Listed, ServeError, Session, StarModel, live_record, live_view,
    page, page_titled,
};
pub use starmodel_core::{Action, Deleted, Entity, Events, MemoryStore, SignalRef};
pub use starmodel_macros::{Entity, event, events};

/// Passed to an action builder for a parameter, leaves it out of the URL: the event
/// reads it from the page's signals instead (`$todo.title` or `$title`), as the
/// user typed it into an input bound with `data-bind`.
///
/// ```ignore
/// form "data-on:submit"=(Todo::create().add(FromSignals)) {
///     input "data-bind"="todo.title";
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FromSignals;

/// Passed to an action builder for a parameter, computes it in the browser when
/// the action fires, from a JavaScript expression (`evt.target.value` is the
/// value of the input that fired a `data-on:change`).
///
/// ```ignore
/// input value=(todo.title) "data-on:change"=(Todo::action(todo.id).rename(FromJs("evt.target.value")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromJs(pub &'static str);

/// Everything an application usually needs, in one import.
pub mod prelude {
    pub use axum::routing::{delete, get, post};
    pub use maud::{Markup, html};
    pub use serde::{Deserialize, Serialize};
    pub use starmodel_axum::{
        ErrorResponse, Session, StarModel, live_record, live_view, page, page_titled,
    };
    pub use starmodel_core::{Deleted, Entity, Events, ListQuery, MemoryStore};
    pub use starmodel_macros::{Entity, event, events};

    pub use crate::{FromJs, FromSignals};
}

/// What the macros' generated code names. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use axum;
    pub use maud;
    pub use starmodel_axum::records;
    pub use starmodel_axum::{ErrorResponse, Listed, extract_entity, view::render_entity};
    pub use starmodel_core::entity::{Field, FieldType, Rule};
    pub use starmodel_core::{
        Action, Entity, EntityId, EventDef, EventError, EventInput, EventKind, EventMethod,
        EventOutput, EventSpec, Events, Handler, IntoCreated, IntoEventOutput, ListQuery, Schema,
        Scope, SignalRef, StoreKind,
    };

    /// A type an event parameter can have.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be an event parameter",
        label = "needs `serde::Serialize` and `serde::Deserialize`",
        note = "the handler decodes parameters from the request (`Deserialize`) and typed \
                actions encode them into URLs (`Serialize`): use types such as `i64`, \
                `String`, `bool` or `Option<T>`, or derive both traits"
    )]
    pub trait EventParam: Sized {
        /// Reads the parameter `name` from `input`.
        fn from_input(input: &EventInput, name: &str) -> Result<Self, EventError>;
        /// Adds the value to an action's query string.
        fn add_to(&self, action: Action, name: &str) -> Action;
    }

    impl<T: serde::de::DeserializeOwned + serde::Serialize> EventParam for T {
        fn from_input(input: &EventInput, name: &str) -> Result<Self, EventError> {
            input.param(name).map_err(EventError::from)
        }

        fn add_to(&self, action: Action, name: &str) -> Action {
            action.arg(name, self)
        }
    }

    /// What an action builder accepts for a parameter of type `T`: a `T`, or
    /// [`FromSignals`](crate::FromSignals).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be passed for a `{T}` parameter of an action",
        note = "pass a `{T}`, or `FromSignals` to let the event read it from the page's signals"
    )]
    pub trait ActionArg<T> {
        /// Adds the argument to the action's query string (or nothing).
        fn add_arg(self, action: Action, name: &str) -> Action;
    }

    impl<T: EventParam> ActionArg<T> for T {
        fn add_arg(self, action: Action, name: &str) -> Action {
            self.add_to(action, name)
        }
    }

    impl<T> ActionArg<T> for crate::FromJs {
        fn add_arg(self, action: Action, name: &str) -> Action {
            action.arg_expr(name, self.0)
        }
    }

    impl<T> ActionArg<T> for crate::FromSignals {
        fn add_arg(self, action: Action, _: &str) -> Action {
            action
        }
    }

    /// Reads one event parameter.
    pub fn param<T: EventParam>(input: &EventInput, name: &str) -> Result<T, EventError> {
        T::from_input(input, name)
    }

    /// The path every event URL of a session or global entity `E` starts with.
    pub fn route_base<E: Entity>() -> String {
        format!("/{}", E::NAME)
    }

    /// The path every event URL of the record `id` of `E` starts with.
    pub fn record_route_base<E: Entity>(id: &dyn std::fmt::Display) -> String {
        let mut base = format!("/{}/", E::NAME);
        starmodel_core::event::percent_encode_into(&id.to_string(), &mut base);
        base
    }
}
