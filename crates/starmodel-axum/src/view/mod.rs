//! Rendering: entities as namespaced Datastar signals, the page shell that loads
//! Datastar and opens the live stream, and the Datastar bundle's delivery.
//!
//! Views are plain [maud](https://maud.lambda.xyz) templates. Datastar v1
//! attributes are written as maud attributes with quoted names; the typed pieces
//! come from the entity: `Counter::signal().count` renders `$counter.count`,
//! `Counter::action().increment(Some(1))` renders
//! `@post('/counter/increment?amount=1')`.
//!
//! ```
//! use maud::html;
//! use starmodel_core::{Action, EventMethod, SignalRef};
//! let count = SignalRef::new("counter.count");
//! let plus = Action::new(EventMethod::Post, "/counter/increment").arg("amount", &1);
//! let markup = html! {
//!     span "data-text"=(count) {}
//!     input "data-bind"=(count.path());
//!     button "data-on:click"=(plus) { "+1" }
//! };
//! assert_eq!(
//!     markup.into_string(),
//!     "<span data-text=\"$counter.count\"></span>\
//!      <input data-bind=\"counter.count\">\
//!      <button data-on:click=\"@post('/counter/increment?amount=1')\">+1</button>"
//! );
//! ```

pub(crate) mod assets;
mod live;
mod page;
mod render;

pub use assets::{BundleError, DATASTAR_CDN_URL, DATASTAR_JS_ENV, DATASTAR_SRI, DatastarBundle};
pub(crate) use assets::{serve_bundle, with_bundle};
pub use live::{live_record, live_view};
pub use page::{live_stream, page, page_titled};
pub(crate) use render::namespaced_json;
pub use render::render_entity;
