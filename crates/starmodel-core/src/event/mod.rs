//! Events: the only way entity state changes.
//!
//! `#[events]` turns each `#[event]` method into an [`EventDef`]: its route metadata
//! ([`EventSpec`]) and a handler that pulls typed parameters out of an [`EventInput`],
//! calls the method and converts its return value with [`IntoEventOutput`]. It also
//! generates typed [`Action`] builders so views cannot name an event that does not
//! exist.

mod action;
mod changes;
mod error;
mod input;
mod output;
mod param;
mod text;

pub use action::{Action, percent_encode_into, url_prefix, with_url_prefix};
pub use changes::{Call, Changes};
pub use error::{DispatchError, EventError, ParamError};
pub use input::{EventInput, inject};
pub use output::{Deleted, EventOutput, IntoCreated, IntoEventOutput};
pub use param::{ActionArg, EventParam, FromJs, FromSignals, param, record_route_base, route_base};

pub use starmodel_datastar::ElementPatchMode;

use crate::Entity;

/// The HTTP method an event answers to (default `POST`: events change state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventMethod {
    /// `GET`; signals travel in the `datastar` query parameter.
    Get,
    /// `POST`, the default.
    #[default]
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`; signals travel in the `datastar` query parameter.
    Delete,
}

impl EventMethod {
    /// The Datastar action name: `get`, `post`, ...
    pub fn action_name(self) -> &'static str {
        match self {
            EventMethod::Get => "get",
            EventMethod::Post => "post",
            EventMethod::Put => "put",
            EventMethod::Patch => "patch",
            EventMethod::Delete => "delete",
        }
    }

    /// The matching `http` method.
    pub fn to_http(self) -> http::Method {
        match self {
            EventMethod::Get => http::Method::GET,
            EventMethod::Post => http::Method::POST,
            EventMethod::Put => http::Method::PUT,
            EventMethod::Patch => http::Method::PATCH,
            EventMethod::Delete => http::Method::DELETE,
        }
    }
}

/// Whether an event changes an existing instance or makes a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventKind {
    /// A method taking `&mut self`: runs on one instance (`/todo/{id}/toggle`).
    #[default]
    Update,
    /// An associated function returning `Self` (record entities): creates a record
    /// whose id is the returned value's `#[entity(id)]` field (`/todo/add`).
    Create,
}

/// The type of one event parameter, as the derive read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamKind {
    /// The Rust type as written, like [`Field::rust_type`](crate::entity::Field::rust_type)
    /// (`u8`, `Option<String>`).
    pub rust_type: &'static str,
    /// How its values look in JSON.
    pub ty: crate::entity::FieldType,
    /// An `Option<T>`: may be left out or `null`.
    pub nullable: bool,
}

impl ParamKind {
    /// The parameter `name` described as a field (its JSON kind and whether it
    /// may be null; no rules).
    pub const fn field(&self, name: &'static str) -> crate::entity::Field {
        let field = crate::entity::Field::new(name, self.rust_type, self.ty);
        if self.nullable {
            field.nullable()
        } else {
            field
        }
    }
}

/// What `#[event(...)]` says about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The event's name, its last URL segment.
    pub name: &'static str,
    /// The HTTP method.
    pub method: EventMethod,
    /// The parameters' names in declaration order.
    pub params: &'static [&'static str],
    /// The parameters' types, in the same order (what the JSON API documents).
    pub param_kinds: &'static [ParamKind],
    /// Where returned markup goes (`#status`); `None` patches by element id.
    pub selector: Option<&'static str>,
    /// How returned markup is applied; `None` leaves Datastar's default (`outer`).
    pub mode: Option<ElementPatchMode>,
    /// Update or create.
    pub kind: EventKind,
    /// `#[event(internal)]`: no route and no API operation; other events run it
    /// through [`Changes::fire`].
    pub internal: bool,
    /// The event takes a [`Changes`]: it may change other entities.
    pub fires: bool,
    /// `async fn`: runs outside the store's lock, on a copy, with the instance
    /// held by this node until it is written (see `Dispatcher::dispatch_event`).
    pub asynchronous: bool,
    /// The event takes parameters injected by type (headers, the client's
    /// address, the session, the `App`, application state): the web adapter
    /// provides them as [`EventInput`] extensions.
    pub injects: bool,
}

/// The generated code behind one event: extracts the parameters, calls the method,
/// converts its result.
pub enum Handler<E> {
    /// Runs on an instance's state.
    Update(UpdateFn<E>),
    /// Makes a new instance.
    Create(CreateFn<E>),
    /// Runs on an instance's state and awaits something (`async fn`).
    UpdateAsync(AsyncUpdateFn<E>),
}

/// The boxed future of an async event.
pub type EventFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<EventOutput, EventError>> + Send + 'a>,
>;

/// The function behind an async update event.
pub type AsyncUpdateFn<E> = for<'a> fn(&'a mut E, &'a EventInput) -> EventFuture<'a>;

/// The function behind an update event.
pub type UpdateFn<E> = fn(&mut E, &EventInput, &mut Changes) -> Result<EventOutput, EventError>;

/// The function behind a create event.
pub type CreateFn<E> = fn(&EventInput, &mut Changes) -> Result<E, EventError>;

impl<E> Handler<E> {
    /// The function of an update event (`None` for a create event).
    pub fn as_update(self) -> Option<UpdateFn<E>> {
        match self {
            Handler::Update(f) => Some(f),
            Handler::Create(_) | Handler::UpdateAsync(_) => None,
        }
    }
}

impl<E> Clone for Handler<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Handler<E> {}

/// One event of entity `E`: metadata plus the generated handler.
pub struct EventDef<E> {
    /// Route metadata.
    pub spec: EventSpec,
    /// The generated code.
    pub handler: Handler<E>,
}

impl<E> Clone for EventDef<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for EventDef<E> {}

impl<E> std::fmt::Debug for EventDef<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDef")
            .field("spec", &self.spec)
            .finish()
    }
}

/// The events of an entity; implemented by `#[events]`.
pub trait Events: Entity {
    /// Every event in declaration order.
    fn events() -> &'static [EventDef<Self>];
}
