//! StarModel's web adapter for [axum](https://docs.rs/axum).
//!
//! [`StarModel`] turns registered entities into an `axum::Router`:
//!
//! | route | what |
//! |---|---|
//! | `POST /{entity}/{event}` | runs an event on the session's or the global instance |
//! | `POST /{entity}/{id}/{event}` | runs an event on a record |
//! | `POST /{entity}/{event}` | a record entity's create event |
//! | `GET /_starmodel/stream` | the page's live stream: every entity on the page, kept current |
//! | `GET /_starmodel/datastar-<hash>.js` | the local Datastar bundle, when configured |
//! | `GET`, `POST /api/{entity}`; `GET`, `PUT`, `PATCH`, `DELETE /api/{entity}/{id}` | JSON API of record entities marked `#[entity(api)]` |
//! | `GET /api/openapi.json` | its OpenAPI 3.0.3 document |
//!
//! Every request gets a signed-cookie [`Session`] (a new one sets the cookie on
//! the response). Entities are
//! extractors (`async fn index(counter: Counter)`), and [`page`] wraps a view in a
//! shell that loads Datastar and opens the live stream.
//!
//! Events answer `text/event-stream` with Datastar patches; failures answer their
//! status with a message naming the problem ([`ErrorResponse`]).

mod api;
mod app;
mod context;
mod error;
mod extract;
mod live;
pub mod records;
mod routes;
mod session;
pub mod view;

pub use app::{
    App, BuildError, DEFAULT_CAPACITY, DEFAULT_SESSION_TTL, SECRET_ENV, ServeError, StarModel,
};
pub use error::{ERROR_ELEMENT_ID, ERROR_HEADER, ErrorResponse};
pub use extract::extract_entity;
pub use records::{Listed, live_record, live_view};
pub use routes::STREAM_PATH;
pub use session::{COOKIE_NAME, Session};
pub use view::{page, page_titled};
