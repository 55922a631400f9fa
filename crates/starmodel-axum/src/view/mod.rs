//! Rendering: entities as namespaced Datastar signals, the page shell that loads
//! Datastar and opens the live stream, live views in pages, and the Datastar
//! bundle ([`DatastarBundle`]: served, or loaded from the CDN).
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

mod live;
mod page;
mod render;

pub use crate::assets::{
    BundleError, DATASTAR_CDN_URL, DATASTAR_JS_ENV, DATASTAR_SRI, DatastarBundle,
};

pub use crate::layout::Layout;
pub use live::{live_record, live_view};
pub use page::{STREAM_PATH, href, live_stream, page, page_titled};
pub use render::render_entity;
