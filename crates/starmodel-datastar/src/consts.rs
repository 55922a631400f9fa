//! Names and defaults fixed by the Datastar v1.0.4 protocol.
//!
//! Encoders omit a field whose value equals the default listed here, because the browser
//! assumes it anyway; that keeps every event as short as the upstream SDKs make it.

use std::time::Duration;

/// SSE event name that patches elements into the DOM.
///
/// ```
/// assert_eq!(starmodel_datastar::consts::PATCH_ELEMENTS_EVENT, "datastar-patch-elements");
/// ```
pub const PATCH_ELEMENTS_EVENT: &str = "datastar-patch-elements";

/// SSE event name that patches the browser's signals.
///
/// ```
/// assert_eq!(starmodel_datastar::consts::PATCH_SIGNALS_EVENT, "datastar-patch-signals");
/// ```
pub const PATCH_SIGNALS_EVENT: &str = "datastar-patch-signals";

/// Default `useViewTransition` of a patch-elements event (omitted when equal).
///
/// ```
/// assert!(!starmodel_datastar::consts::DEFAULT_USE_VIEW_TRANSITION);
/// ```
pub const DEFAULT_USE_VIEW_TRANSITION: bool = false;

/// Default `onlyIfMissing` of a patch-signals event (omitted when equal).
///
/// ```
/// assert!(!starmodel_datastar::consts::DEFAULT_ONLY_IF_MISSING);
/// ```
pub const DEFAULT_ONLY_IF_MISSING: bool = false;

/// Default SSE reconnection delay; a `retry:` field equal to it is omitted.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(starmodel_datastar::consts::DEFAULT_RETRY, Duration::from_millis(1000));
/// ```
pub const DEFAULT_RETRY: Duration = Duration::from_millis(1000);

/// Request header the Datastar browser client adds to every request it makes, with the
/// value `true`. HTTP header names are case-insensitive; this is the spelling the spec uses.
///
/// ```
/// let name = http::HeaderName::from_bytes(
///     starmodel_datastar::consts::DATASTAR_REQUEST_HEADER.as_bytes(),
/// ).expect("a valid header name");
/// assert_eq!(name.as_str(), "datastar-request");
/// ```
pub const DATASTAR_REQUEST_HEADER: &str = "Datastar-Request";

/// Query parameter that carries the signals as JSON on `GET` and `DELETE` requests.
///
/// ```
/// assert_eq!(starmodel_datastar::consts::DATASTAR_QUERY_PARAM, "datastar");
/// ```
pub const DATASTAR_QUERY_PARAM: &str = "datastar";

// Data-line keys: the first word of each `data:` line.
pub(crate) const SELECTOR: &str = "selector";
pub(crate) const MODE: &str = "mode";
pub(crate) const USE_VIEW_TRANSITION: &str = "useViewTransition";
pub(crate) const VIEW_TRANSITION_SELECTOR: &str = "viewTransitionSelector";
pub(crate) const NAMESPACE: &str = "namespace";
pub(crate) const ELEMENTS: &str = "elements";
pub(crate) const ONLY_IF_MISSING: &str = "onlyIfMissing";
pub(crate) const SIGNALS: &str = "signals";
