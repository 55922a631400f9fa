//! What events get injected by type (`#[event] fn f(&mut self, headers: HeaderMap,
//! app: App, config: State<Config>)`): the request's headers, the client's
//! address, the session, the [`App`] and the application's state values.
//!
//! The web adapter puts them in the event's input only for events that take
//! such a parameter ([`EventSpec::injects`](starmodel_core::EventSpec::injects)),
//! so other events pay nothing.

use std::net::SocketAddr;
use std::ops::Deref;

use axum::extract::ConnectInfo;
use http::request::Parts;
use starmodel_core::app::SessionOf;
use starmodel_core::{EventInput, EventSpec};

use crate::App;
use crate::session::SessionSlot;

/// The address of the client that sent the request (the TCP peer: behind a
/// proxy, the proxy's). Injected into events; also an extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// A value given to the builder with [`StarModel::state`](crate::StarModel::state),
/// injected into events that take a `State<T>` parameter. Cloned per event: wrap
/// large or shared values in an `Arc`.
///
/// ```
/// use starmodel_axum::{StarModel, State};
/// #[derive(Clone)]
/// struct Limits { max_notes: usize }
/// let app = StarModel::new().state(Limits { max_notes: 100 });
/// # let _ = app;
/// let limits = State(Limits { max_notes: 3 });
/// assert_eq!(limits.max_notes, 3);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Adds to `input` what `spec`'s event is injected from the request `parts`
/// served by `app`: for an event that fires changes, the session (its
/// session-scope changes use it); for one with injected parameters, the headers,
/// the client's address (when the server records it), the session, the `App` and
/// the state values.
pub fn provide(mut input: EventInput, parts: &Parts, app: &App, spec: &EventSpec) -> EventInput {
    if !spec.fires && !spec.injects {
        return input;
    }
    let session = SessionSlot::of(parts).map(|slot| slot.session());
    if spec.fires
        && let Some(session) = &session
    {
        input = input.with_extension(SessionOf(session.id().clone()));
    }
    if spec.injects {
        input = input
            .with_extensions(app.context().states.clone())
            .with_extension(parts.headers.clone())
            .with_extension(app.clone());
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            input = input.with_extension(ClientAddr(*addr));
        }
        if let Some(session) = session {
            input = input.with_extension(session);
        }
    }
    input
}
