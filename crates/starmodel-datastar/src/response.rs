//! Response headers of a Datastar SSE stream.
//!
//! Only `content-type` and `cache-control` are set. `connection: keep-alive` is left out
//! on purpose: HTTP/1.1 connections are persistent by default and the server manages that
//! header itself, while HTTP/2 and HTTP/3 forbid connection-specific headers outright.

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue};

/// The `content-type` of a Datastar event stream.
///
/// ```
/// assert_eq!(starmodel_datastar::TEXT_EVENT_STREAM, "text/event-stream");
/// ```
pub const TEXT_EVENT_STREAM: &str = "text/event-stream";

/// Headers for a response that streams Datastar events:
/// `content-type: text/event-stream` and `cache-control: no-cache`.
///
/// Send them with status 200, then write each event and flush it.
///
/// ```
/// let mut response = http::Response::new(());
/// response.headers_mut().extend(starmodel_datastar::sse_headers());
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert_eq!(response.headers()["cache-control"], "no-cache");
/// ```
pub fn sse_headers() -> [(HeaderName, HeaderValue); 2] {
    [
        (CONTENT_TYPE, HeaderValue::from_static(TEXT_EVENT_STREAM)),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_event_stream_and_no_cache() {
        let [(name1, value1), (name2, value2)] = sse_headers();
        assert_eq!(
            (name1.as_str(), value1.to_str().ok()),
            ("content-type", Some("text/event-stream"))
        );
        assert_eq!(
            (name2.as_str(), value2.to_str().ok()),
            ("cache-control", Some("no-cache"))
        );
    }
}
