//! `datastar-patch-signals`: merge JSON into the browser's signals.
//!
//! The JSON is a merge patch (RFC 7386): keys set to `null` remove those signals.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::consts;
use crate::encode::{
    DatastarEvent, ProtocolError, SseFields, end_event, write_data, write_multiline_data,
};

/// A `datastar-patch-signals` event, built with chained setters.
///
/// ```
/// use starmodel_datastar::{DatastarEvent, PatchSignals};
///
/// let event = PatchSignals::from_value(&serde_json::json!({"count": 3}))
///     .only_if_missing(true);
/// assert_eq!(
///     event.to_bytes()?,
///     "event: datastar-patch-signals\ndata: onlyIfMissing true\ndata: signals {\"count\":3}\n\n",
/// );
/// # Ok::<(), starmodel_datastar::ProtocolError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PatchSignals {
    signals: String,
    only_if_missing: bool,
    sse: SseFields,
}

impl PatchSignals {
    /// Patches with raw JSON text, sent as given (a multi-line text becomes several
    /// `data: signals` lines). It should be a JSON object; it is not parsed here.
    ///
    /// ```
    /// let event = starmodel_datastar::PatchSignals::new(r#"{"open": true}"#);
    /// ```
    pub fn new(json: impl Into<String>) -> Self {
        Self {
            signals: json.into(),
            only_if_missing: consts::DEFAULT_ONLY_IF_MISSING,
            sse: SseFields::default(),
        }
    }

    /// Patches with a JSON value, serialised compactly on one line.
    ///
    /// ```
    /// use starmodel_datastar::{DatastarEvent, PatchSignals};
    ///
    /// let event = PatchSignals::from_value(&serde_json::json!({"user": {"name": "Ada"}}));
    /// assert_eq!(
    ///     event.to_bytes()?,
    ///     "event: datastar-patch-signals\ndata: signals {\"user\":{\"name\":\"Ada\"}}\n\n",
    /// );
    /// # Ok::<(), starmodel_datastar::ProtocolError>(())
    /// ```
    pub fn from_value(value: &Value) -> Self {
        Self::new(value.to_string())
    }

    /// Removes the signals at the given dotted paths: `["user.name", "draft"]` sends
    /// `{"draft":null,"user":{"name":null}}`. A path below one already removed is skipped.
    ///
    /// ```
    /// use starmodel_datastar::{DatastarEvent, PatchSignals};
    ///
    /// assert_eq!(
    ///     PatchSignals::remove(["form.email"]).to_bytes()?,
    ///     "event: datastar-patch-signals\ndata: signals {\"form\":{\"email\":null}}\n\n",
    /// );
    /// # Ok::<(), starmodel_datastar::ProtocolError>(())
    /// ```
    pub fn remove<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut root = Map::new();
        for path in paths {
            insert_null(&mut root, path);
        }
        Self::from_value(&Value::Object(root))
    }

    /// Only sets signals that do not exist yet in the browser.
    pub fn only_if_missing(mut self, only_if_missing: bool) -> Self {
        self.only_if_missing = only_if_missing;
        self
    }

    crate::encode::sse_options!();
}

/// Sets `path` (dot-separated) to `null` inside `map`, creating objects on the way.
fn insert_null(map: &mut Map<String, Value>, path: &str) {
    let mut current = map;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            current.insert(segment.to_owned(), Value::Null);
            return;
        }
        let child = current
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match child {
            Value::Object(child) => current = child,
            // An ancestor is already removed, which removes this path too.
            _ => return,
        }
    }
}

impl DatastarEvent for PatchSignals {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.sse.check()?;
        self.sse.write_header(out, consts::PATCH_SIGNALS_EVENT);
        if self.only_if_missing != consts::DEFAULT_ONLY_IF_MISSING {
            write_data(out, consts::ONLY_IF_MISSING, "true");
        }
        write_multiline_data(out, consts::SIGNALS, &self.signals);
        end_event(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::encode::encoded;
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_are_omitted() {
        let event = PatchSignals::new("{\"a\":1}")
            .only_if_missing(false)
            .retry(Duration::from_millis(1000));
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-signals\ndata: signals {\"a\":1}\n\n"
        );
    }

    #[test]
    fn every_option_is_written() {
        let event = PatchSignals::new("{\"a\":1}")
            .only_if_missing(true)
            .id("s1")
            .retry(Duration::from_secs(3));
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-signals\nid: s1\nretry: 3000\n\
             data: onlyIfMissing true\ndata: signals {\"a\":1}\n\n"
        );
    }

    #[test]
    fn raw_json_splits_on_every_line_break() {
        let event = PatchSignals::new("{\r\n\"a\": 1,\r\"b\": 2\n}");
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-signals\ndata: signals {\ndata: signals \"a\": 1,\n\
             data: signals \"b\": 2\ndata: signals }\n\n"
        );
    }

    #[test]
    fn newlines_inside_values_stay_escaped() {
        let event = PatchSignals::from_value(&json!({"text": "a\nb\rc"}));
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-signals\ndata: signals {\"text\":\"a\\nb\\rc\"}\n\n"
        );
    }

    #[test]
    fn remove_builds_nested_nulls() {
        let event = PatchSignals::remove(["a.b", "a.c", "d"]);
        let expected = PatchSignals::from_value(&json!({"a": {"b": null, "c": null}, "d": null}));
        assert_eq!(event, expected);
    }

    #[test]
    fn remove_skips_paths_below_a_removed_ancestor() {
        assert_eq!(
            PatchSignals::remove(["a", "a.b"]),
            PatchSignals::from_value(&json!({"a": null}))
        );
        assert_eq!(
            PatchSignals::remove(["a.b", "a"]),
            PatchSignals::from_value(&json!({"a": null}))
        );
        assert_eq!(PatchSignals::remove([]), PatchSignals::new("{}"));
    }

    #[test]
    fn id_with_line_break_is_refused() {
        let mut out = Vec::new();
        let err = PatchSignals::new("{}").id("x\ny").write_to(&mut out);
        assert_eq!(err, Err(ProtocolError::LineBreak { field: "id" }));
        assert!(out.is_empty());
    }
}
