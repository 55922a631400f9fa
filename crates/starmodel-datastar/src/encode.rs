//! The SSE encoder: how an event becomes `event:` / `id:` / `retry:` / `data:` lines.
//!
//! Every event type validates itself completely before writing, so a refused event never
//! leaves half an event in the output buffer. Writing appends to a caller-owned `Vec<u8>`,
//! which lets a stream reuse one buffer for all its events.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::consts::DEFAULT_RETRY;

/// Why an event could not be encoded.
///
/// These are programming errors on the server side (a value that cannot be carried by the
/// protocol), so [`ProtocolError::status`] is `500 Internal Server Error`.
///
/// ```
/// use starmodel_datastar::{DatastarEvent, PatchElements, ProtocolError};
///
/// let err = PatchElements::new("<p>hi</p>").id("a\nb").to_bytes().expect_err("refused");
/// assert_eq!(err, ProtocolError::LineBreak { field: "id" });
/// assert_eq!(err.to_string(), "id must not contain a line break");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A single-line field (`id`, `selector`, `viewTransitionSelector`) contains CR or LF,
    /// which would end the SSE line early and let the value forge fields or events.
    #[error("{field} must not contain a line break")]
    LineBreak {
        /// The field at fault, as named on the wire.
        field: &'static str,
    },
    /// A script attribute value contains CR or LF.
    #[error("script attribute `{name}` must not contain a line break")]
    AttributeLineBreak {
        /// Name of the attribute whose value is at fault.
        name: String,
    },
    /// A script attribute name is empty or holds whitespace, a control character or one of
    /// `"'<>/=`.
    #[error("script attribute name `{name}` is not a valid html attribute name")]
    InvalidAttributeName {
        /// The refused name.
        name: String,
    },
    /// The script text contains `</script`, which would close the `<script>` element early.
    #[error("script must not contain a `</script` closing tag")]
    ScriptClosingTag,
    /// A patch mode other than `outer` or `replace` was used without a selector; the
    /// browser refuses such an event.
    #[error("mode `{mode}` needs a selector")]
    MissingSelector {
        /// The mode that was used.
        mode: &'static str,
    },
}

impl ProtocolError {
    /// The HTTP status this error maps to: always `500 Internal Server Error`.
    ///
    /// ```
    /// use starmodel_datastar::ProtocolError;
    ///
    /// let err = ProtocolError::ScriptClosingTag;
    /// assert_eq!(err.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// An event that can be written as one Datastar server-sent event.
///
/// Implemented by [`PatchElements`](crate::PatchElements),
/// [`PatchSignals`](crate::PatchSignals) and [`ExecuteScript`](crate::ExecuteScript), and
/// forwarded through references and boxes, so a `Vec<Box<dyn DatastarEvent>>` works.
///
/// ```
/// use starmodel_datastar::{DatastarEvent, PatchElements, PatchSignals};
///
/// let events: Vec<Box<dyn DatastarEvent>> = vec![
///     Box::new(PatchElements::new("<div id=\"a\">1</div>")),
///     Box::new(PatchSignals::new(r#"{"count":1}"#)),
/// ];
/// let mut out = Vec::new();
/// for event in &events {
///     event.write_to(&mut out)?;
/// }
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "event: datastar-patch-elements\ndata: elements <div id=\"a\">1</div>\n\n\
///      event: datastar-patch-signals\ndata: signals {\"count\":1}\n\n",
/// );
/// # Ok::<(), starmodel_datastar::ProtocolError>(())
/// ```
pub trait DatastarEvent {
    /// Appends the encoded event, including its closing blank line, to `out`.
    ///
    /// On error nothing is written.
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError>;

    /// Encodes the event into a fresh buffer, ready to be sent as one SSE frame.
    fn to_bytes(&self) -> Result<Bytes, ProtocolError> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(Bytes::from(out))
    }
}

impl<T: DatastarEvent + ?Sized> DatastarEvent for &T {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        (**self).write_to(out)
    }
}

impl<T: DatastarEvent + ?Sized> DatastarEvent for Box<T> {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        (**self).write_to(out)
    }
}

/// The SSE `id` and `retry` builder methods every event type shares; expands inside
/// an `impl` of a type whose `sse` field is an [`SseFields`].
macro_rules! sse_options {
    () => {
        /// SSE event id, echoed by the browser as `Last-Event-ID` on reconnect. Single line.
        pub fn id(mut self, id: impl Into<String>) -> Self {
            self.sse.id = Some(id.into());
            self
        }

        /// SSE reconnection delay, written in whole milliseconds unless it equals the
        /// [`DEFAULT_RETRY`](crate::consts::DEFAULT_RETRY) of one second.
        pub fn retry(mut self, retry: Duration) -> Self {
            self.sse.retry = Some(retry);
            self
        }
    };
}
pub(crate) use sse_options;

/// The SSE fields every event has besides its data lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SseFields {
    /// The event id, echoed by the browser as `Last-Event-ID`.
    pub(crate) id: Option<String>,
    /// The reconnection delay.
    pub(crate) retry: Option<Duration>,
}

impl SseFields {
    /// Refuses an id that would break out of its line.
    pub(crate) fn check(&self) -> Result<(), ProtocolError> {
        match &self.id {
            Some(id) => check_single_line("id", id),
            None => Ok(()),
        }
    }

    /// Writes the `event:`, `id:` and `retry:` lines of an `event` event.
    pub(crate) fn write_header(&self, out: &mut Vec<u8>, event: &str) {
        write_header(out, event, self.id.as_deref(), self.retry);
    }
}

/// An event encoded as text, for the encoders' tests.
#[cfg(test)]
pub(crate) fn encoded(event: &impl DatastarEvent) -> String {
    String::from_utf8(event.to_bytes().expect("encodes").to_vec()).expect("utf-8")
}

/// Refuses a value that would break out of its SSE line.
pub(crate) fn check_single_line(field: &'static str, value: &str) -> Result<(), ProtocolError> {
    if value.contains(['\r', '\n']) {
        return Err(ProtocolError::LineBreak { field });
    }
    Ok(())
}

/// Writes `event:`, then `id:` and `retry:` when they differ from the defaults.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    event: &str,
    id: Option<&str>,
    retry: Option<Duration>,
) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.as_bytes());
    out.push(b'\n');
    if let Some(id) = id {
        out.extend_from_slice(b"id: ");
        out.extend_from_slice(id.as_bytes());
        out.push(b'\n');
    }
    if let Some(retry) = retry.filter(|retry| *retry != DEFAULT_RETRY) {
        out.extend_from_slice(b"retry: ");
        write_decimal(out, retry.as_millis());
        out.push(b'\n');
    }
}

/// Writes one complete `data: <key> <value>` line; `value` must be a single line.
pub(crate) fn write_data(out: &mut Vec<u8>, key: &str, value: &str) {
    start_data(out, key);
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// Writes `data: <key> ` and leaves the line open for the value.
pub(crate) fn start_data(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(key.as_bytes());
    out.push(b' ');
}

/// Continues an open data line with `text`, starting a new `data: <key> ` line at every
/// CRLF, CR or LF. The last line is left open.
pub(crate) fn write_multiline(out: &mut Vec<u8>, key: &str, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' | b'\n' => {
                out.extend_from_slice(&bytes[start..i]);
                if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                out.push(b'\n');
                start_data(out, key);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Writes a whole multi-line value as `data: <key> ...` lines.
pub(crate) fn write_multiline_data(out: &mut Vec<u8>, key: &str, text: &str) {
    start_data(out, key);
    write_multiline(out, key, text);
    out.push(b'\n');
}

/// Closes the event with its blank line.
pub(crate) fn end_event(out: &mut Vec<u8>) {
    out.push(b'\n');
}

fn write_decimal(out: &mut Vec<u8>, mut n: u128) {
    // u128::MAX has 39 decimal digits.
    let mut buf = [0u8; 39];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multiline(text: &str) -> String {
        let mut out = Vec::new();
        write_multiline_data(&mut out, "k", text);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn splits_on_lf_cr_and_crlf() {
        for (input, expected) in [
            ("a\nb", "data: k a\ndata: k b\n"),
            ("a\rb", "data: k a\ndata: k b\n"),
            ("a\r\nb", "data: k a\ndata: k b\n"),
            ("a\n\rb", "data: k a\ndata: k \ndata: k b\n"),
            ("a\r\n\r\nb", "data: k a\ndata: k \ndata: k b\n"),
        ] {
            assert_eq!(multiline(input), expected, "{input:?}");
        }
    }

    #[test]
    fn keeps_single_line_and_edge_breaks() {
        for (input, expected) in [
            ("plain", "data: k plain\n"),
            ("", "data: k \n"),
            ("a\n", "data: k a\ndata: k \n"),
            ("\r\na", "data: k \ndata: k a\n"),
            ("é\r\nü", "data: k é\ndata: k ü\n"),
        ] {
            assert_eq!(multiline(input), expected, "{input:?}");
        }
    }

    #[test]
    fn header_omits_defaults() {
        let mut out = Vec::new();
        write_header(&mut out, "e", None, Some(DEFAULT_RETRY));
        assert_eq!(out, b"event: e\n");
        out.clear();
        write_header(&mut out, "e", Some("7"), Some(Duration::from_millis(2500)));
        assert_eq!(out, b"event: e\nid: 7\nretry: 2500\n");
        out.clear();
        write_header(&mut out, "e", None, Some(Duration::ZERO));
        assert_eq!(out, b"event: e\nretry: 0\n");
    }

    #[test]
    fn decimal_writes_extremes() {
        let mut out = Vec::new();
        write_decimal(&mut out, u128::MAX);
        assert_eq!(out, u128::MAX.to_string().as_bytes());
    }

    #[test]
    fn single_line_check_names_the_field() {
        assert!(check_single_line("selector", "#a").is_ok());
        for bad in ["a\nb", "a\rb", "\r\n"] {
            assert_eq!(
                check_single_line("selector", bad),
                Err(ProtocolError::LineBreak { field: "selector" })
            );
        }
    }
}
