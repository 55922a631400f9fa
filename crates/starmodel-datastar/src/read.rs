//! Reading the signals the browser sends with every Datastar request.
//!
//! `GET` and `DELETE` requests carry them as JSON in the `datastar` query parameter, every
//! other method as the JSON body (this is what the v1.0.4 client does). The result is
//! always a JSON object; a request without signals reads as `{}`.

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value};

use crate::consts::{DATASTAR_QUERY_PARAM, DATASTAR_REQUEST_HEADER};

/// Why the signals of a request could not be read. Every variant is the client's fault:
/// [`ReadSignalsError::status`] is `400 Bad Request`.
///
/// ```
/// use starmodel_datastar::{ReadSignalsError, read_signals};
///
/// let err = read_signals(&http::Method::POST, None, b"[1, 2]").expect_err("refused");
/// assert!(matches!(err, ReadSignalsError::NotAnObject { found: "an array" }));
/// assert_eq!(err.to_string(), "signals must be a json object, found an array");
/// assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadSignalsError {
    /// The signals are not valid JSON; serde's message gives the line and column.
    #[error("signals are not valid json: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The signals are valid JSON but not an object.
    #[error("signals must be a json object, found {found}")]
    NotAnObject {
        /// What was found instead, such as `"an array"`.
        found: &'static str,
    },
    /// The `datastar` query parameter has a `%` not followed by two hex digits.
    #[error("`datastar` query parameter has an invalid percent-escape at byte {offset}")]
    InvalidPercentEscape {
        /// Byte offset of the `%` within the raw parameter value.
        offset: usize,
    },
    /// The `datastar` query parameter is not UTF-8 once percent-decoded.
    #[error("`datastar` query parameter is not valid utf-8 once percent-decoded")]
    InvalidUtf8,
}

impl ReadSignalsError {
    /// The HTTP status this error maps to: always `400 Bad Request`.
    ///
    /// ```
    /// use starmodel_datastar::read_signals;
    ///
    /// let err = read_signals(&http::Method::GET, Some("datastar=%zz"), b"").expect_err("refused");
    /// assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    /// ```
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// Reads the signals of a request from its method, raw query string (without `?`) and body.
///
/// `GET` and `DELETE` use the `datastar` query parameter (absent: `{}`); other methods parse
/// the body (empty: `{}`).
///
/// ```
/// use http::Method;
/// use serde_json::json;
/// use starmodel_datastar::read_signals;
///
/// let query = "datastar=%7B%22count%22%3A1%7D&other=x";
/// assert_eq!(read_signals(&Method::GET, Some(query), b"")?, json!({"count": 1}));
/// assert_eq!(read_signals(&Method::POST, None, br#"{"count":2}"#)?, json!({"count": 2}));
/// assert_eq!(read_signals(&Method::DELETE, None, b"")?, json!({}));
/// # Ok::<(), starmodel_datastar::ReadSignalsError>(())
/// ```
pub fn read_signals(
    method: &Method,
    query: Option<&str>,
    body: &[u8],
) -> Result<Value, ReadSignalsError> {
    let value = if *method == Method::GET || *method == Method::DELETE {
        match query.and_then(find_datastar_param) {
            Some(raw) => parse(&percent_decode(raw)?)?,
            None => Value::Object(Map::new()),
        }
    } else {
        parse(body)?
    };
    match value {
        Value::Object(_) => Ok(value),
        other => Err(ReadSignalsError::NotAnObject {
            found: json_kind(&other),
        }),
    }
}

/// Whether a request was made by the Datastar client (`Datastar-Request: true`).
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use starmodel_datastar::is_datastar_request;
///
/// let mut headers = HeaderMap::new();
/// assert!(!is_datastar_request(&headers));
/// headers.insert("datastar-request", HeaderValue::from_static("true"));
/// assert!(is_datastar_request(&headers));
/// ```
pub fn is_datastar_request(headers: &HeaderMap) -> bool {
    headers
        .get(DATASTAR_REQUEST_HEADER)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"))
}

fn parse(json: &[u8]) -> Result<Value, ReadSignalsError> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(json).map_err(ReadSignalsError::InvalidJson)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The raw (still encoded) value of the first `datastar` parameter of a query string.
fn find_datastar_param(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let matches = key == DATASTAR_QUERY_PARAM
            || percent_decode(key).is_ok_and(|key| key == DATASTAR_QUERY_PARAM.as_bytes());
        matches.then_some(value)
    })
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte.
/// Unlike browsers it refuses a stray `%` instead of keeping it.
fn percent_decode(raw: &str) -> Result<Vec<u8>, ReadSignalsError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex_value);
                let low = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(ReadSignalsError::InvalidPercentEscape { offset: i });
                };
                out.push(high << 4 | low);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    // Checked here so a bad byte sequence is reported as such, not as a json error.
    if std::str::from_utf8(&out).is_err() {
        return Err(ReadSignalsError::InvalidUtf8);
    }
    Ok(out)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(raw: &str) -> Result<String, ReadSignalsError> {
        percent_decode(raw).map(|bytes| String::from_utf8(bytes).expect("checked utf-8"))
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a+b%20c").expect("valid"), "a b c");
        assert_eq!(decode("%7b%7D%2B").expect("valid"), "{}+");
        assert_eq!(decode("%C3%A9t%c3%a9").expect("valid"), "été");
        assert_eq!(decode("").expect("valid"), "");
        assert_eq!(decode("plain-é").expect("valid"), "plain-é");
    }

    #[test]
    fn percent_decoding_refuses_bad_input() {
        for (raw, offset) in [("%", 0), ("a%2", 1), ("ab%zz", 2), ("%%41", 0)] {
            assert!(matches!(
                decode(raw),
                Err(ReadSignalsError::InvalidPercentEscape { offset: o }) if o == offset
            ));
        }
        assert!(matches!(decode("%C3"), Err(ReadSignalsError::InvalidUtf8)));
        assert!(matches!(
            decode("%FF%FE"),
            Err(ReadSignalsError::InvalidUtf8)
        ));
    }

    #[test]
    fn finds_the_datastar_parameter() {
        assert_eq!(find_datastar_param("a=1&datastar=x&datastar=y"), Some("x"));
        assert_eq!(find_datastar_param("%64atastar=z"), Some("z"));
        assert_eq!(find_datastar_param("datastar"), Some(""));
        assert_eq!(find_datastar_param("datastarx=1&%zz=2"), None);
        assert_eq!(find_datastar_param(""), None);
    }

    #[test]
    fn get_and_delete_read_the_query() {
        let query = Some("datastar=%7B%22a%22%3A%22x+y%22%7D");
        for method in [Method::GET, Method::DELETE] {
            let signals = read_signals(&method, query, b"{\"ignored\":1}").expect("reads");
            assert_eq!(signals, json!({"a": "x y"}));
            assert_eq!(read_signals(&method, None, b"").expect("reads"), json!({}));
            assert_eq!(
                read_signals(&method, Some("x=1"), b"").expect("reads"),
                json!({})
            );
            assert_eq!(
                read_signals(&method, Some("datastar="), b"").expect("reads"),
                json!({})
            );
        }
    }

    #[test]
    fn other_methods_read_the_body() {
        for method in [Method::POST, Method::PUT, Method::PATCH] {
            let signals = read_signals(&method, Some("datastar=%7B%7D"), b" {\"a\":[1]} ");
            assert_eq!(signals.expect("reads"), json!({"a": [1]}));
            assert_eq!(read_signals(&method, None, b"").expect("reads"), json!({}));
            assert_eq!(
                read_signals(&method, None, b" \n").expect("reads"),
                json!({})
            );
        }
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = read_signals(&Method::POST, None, b"{\n\"a\": }").expect_err("refused");
        assert!(matches!(err, ReadSignalsError::InvalidJson(_)));
        assert_eq!(
            err.to_string(),
            "signals are not valid json: expected value at line 2 column 6"
        );
        let err = read_signals(&Method::GET, Some("datastar=%7B"), b"").expect_err("refused");
        assert!(matches!(err, ReadSignalsError::InvalidJson(_)));
    }

    #[test]
    fn non_objects_are_refused() {
        for (body, found) in [
            ("null", "null"),
            ("true", "a boolean"),
            ("1.5", "a number"),
            ("\"s\"", "a string"),
            ("[]", "an array"),
        ] {
            let err = read_signals(&Method::POST, None, body.as_bytes()).expect_err("refused");
            assert!(matches!(err, ReadSignalsError::NotAnObject { found: f } if f == found));
        }
    }

    #[test]
    fn query_errors_are_bad_requests() {
        let err = read_signals(&Method::GET, Some("datastar=%7"), b"").expect_err("refused");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            err.to_string(),
            "`datastar` query parameter has an invalid percent-escape at byte 0"
        );
        let err = read_signals(&Method::GET, Some("datastar=%FF"), b"").expect_err("refused");
        assert!(matches!(err, ReadSignalsError::InvalidUtf8));
    }
}
