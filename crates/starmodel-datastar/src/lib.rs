//! The [Datastar](https://data-star.dev) v1.0.4 wire protocol, framework-agnostic.
//!
//! Datastar is a small browser library driven by the server: a page sends a request
//! (carrying its *signals*, the page's reactive state, as JSON) and the server answers with
//! a stream of server-sent events that patch the page. There are two events:
//!
//! - `datastar-patch-elements` ([`PatchElements`]): HTML morphed into the DOM, by element
//!   `id` or by selector, in one of the [`ElementPatchMode`]s.
//! - `datastar-patch-signals` ([`PatchSignals`]): a JSON merge patch of the signals.
//!
//! [`ExecuteScript`] rides on the first one, as the upstream SDKs do.
//!
//! This crate only turns those events into bytes ([`DatastarEvent`]), reads the signals of a
//! request ([`read_signals`]) and names the response headers ([`sse_headers`]); plugging
//! them into a server is the job of an adapter crate.
//!
//! | Module | What lives there |
//! | --- | --- |
//! | [`consts`] | event names, defaults, header and query-parameter names |
//!
//! The crate has no cargo features.
//!
//! # Example
//!
//! ```
//! use starmodel_datastar::{DatastarEvent, PatchElements, PatchSignals, read_signals};
//!
//! // The browser posted its signals.
//! let signals = read_signals(&http::Method::POST, None, br#"{"count": 1}"#)?;
//! let count = signals["count"].as_i64().unwrap_or(0) + 1;
//!
//! // Answer with two events, encoded into one buffer.
//! let mut body = Vec::new();
//! PatchSignals::from_value(&serde_json::json!({ "count": count })).write_to(&mut body)?;
//! PatchElements::new(format!("<span id=\"count\">{count}</span>")).write_to(&mut body)?;
//!
//! assert_eq!(
//!     String::from_utf8(body)?,
//!     "event: datastar-patch-signals\ndata: signals {\"count\":2}\n\n\
//!      event: datastar-patch-elements\ndata: elements <span id=\"count\">2</span>\n\n",
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod consts;
mod encode;
mod execute_script;
mod patch_elements;
mod patch_signals;
mod read;
mod response;

pub use encode::{DatastarEvent, ProtocolError};
pub use execute_script::ExecuteScript;
pub use patch_elements::{ElementPatchMode, Namespace, PatchElements};
pub use patch_signals::PatchSignals;
pub use read::{ReadSignalsError, is_datastar_request, read_signals};
pub use response::{TEXT_EVENT_STREAM, sse_headers};
