//! StarModel's web adapter for [axum](https://docs.rs/axum).
//!
//! [`StarModel`] builds an [`App`] from registered entities; [`App::router`]
//! gives the `axum::Router`:
//!
//! | route | what |
//! |---|---|
//! | `{METHOD} /{entity}/{event}` | runs an event on the session's or the global instance |
//! | `{METHOD} /{entity}/{id}/{event}` | runs an event on a record |
//! | `{METHOD} /{entity}/{event}` | a record entity's create event |
//!
//! `{METHOD}` is the event's own (`#[event(method = "PUT")]`; `POST` by default).
//! | `GET /_starmodel/stream` | the page's live stream: every entity on the page, kept current |
//! | `GET /_starmodel/datastar-<hash>.js` | the local Datastar bundle, when configured |
//! | what a [`Mount`] adds | the JSON API (`starmodel-api`), and the capabilities to come |
//!
//! Entities are extractors (`async fn index(counter: Counter)`), so is the
//! [`App`] handle, which also reads records and runs events outside requests;
//! [`page`] wraps a view in a shell that loads Datastar and opens the live stream.
//!
//! ## Rooms
//!
//! | module | what lives there |
//! |---|---|
//! | [`app`](App) | the builder ([`StarModel`]), the [`App`] handle, reads, lifecycle, build errors, the [`Mount`] seam |
//! | `server` | [`App::router`] and serving: every route group behind the pipeline |
//! | [`pipeline`] | the one request pipeline: session, same-site policy, body limit, run-to-completion; its [`Policy`](pipeline::Policy) per route group |
//! | [`rejection`] | every refusal as a type that knows its status, rendered in one place |
//! | [`routes`] | the event routes and the live stream route |
//! | `live` | the live hub: one encoded frame per change, live views |
//! | [`view`] | the page shell, entities as signals, live views in pages, the Datastar bundle |
//! | `session` | the signed session cookie |
//! | [`testing`] | an in-process test client: pages, events, the live stream, cookies kept |
//! | `announce` | start-up and shutdown messages, through `tracing` or on stderr |
//!
//! Imports go one way, with no loop: `server` and `routes` on top; then `view`,
//! `pipeline`, `app`; then `session`, `live`, `policy`, `assets`, `layout`
//! and `rejection`, which import no other module but `announce` (start-up messages,
//! on stderr when no tracing subscriber is installed), which imports none.
//!
//! Where the coming capabilities go:
//!
//! | capability | room |
//! |---|---|
//! | JSON API, OpenAPI | crate `starmodel-api` (a [`Mount`]) |
//! | the generated admin and the UI kit | crate `starmodel-admin` (a [`Mount`] with [`Policy::PAGES`](pipeline::Policy::PAGES)-like pages and write policy) |
//! | users, login, guards | `auth/` in this crate: guards attach with `route_layer` inside the pipeline, so every route group (events, mounts, pages) gets them in one place |
//! | browser-storage stores (`client_session`, `client_local`) | `client/` in this crate: a [`Store`](starmodel_core::Store) per kind registered with [`StarModel::store`], plus the page shell's persistence glue |
//! | the Redis store and bus | crate `starmodel-redis`: a [`Store`](starmodel_core::Store) for [`StarModel::store`] and a [`Bus`](starmodel_core::Bus) for [`StarModel::bus`] |
//! | the `starmodel` command and app commands | crate `starmodel-cli`, driving an [`App`] |
//!
//! Events answer `text/event-stream` with Datastar patches; refusals answer their
//! status with a message naming the problem ([`rejection`]).

mod announce;
mod app;
mod assets;
mod extract;
pub mod inject;
mod layout;
mod live;
pub mod pipeline;
mod policy;
pub mod rejection;
pub mod routes;
mod server;
mod session;
mod static_files;
pub mod testing;
pub mod view;

pub use app::{
    App, BuildError, DEFAULT_CAPACITY, DEFAULT_SESSION_TTL, Listed, Mount, SECRET_ENV, ServeError,
    StarModel,
};
pub use extract::extract_entity;
pub use inject::{ClientAddr, State};
pub use rejection::{ERROR_ELEMENT_ID, ERROR_HEADER, ErrorResponse, Rejection};
pub use session::{COOKIE_NAME, Session};
pub use static_files::{STATIC_PATH, StaticError, asset};
pub use view::{STREAM_PATH, live_record, live_view, page, page_titled};
