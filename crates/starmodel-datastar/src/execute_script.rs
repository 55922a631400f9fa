//! Running a script in the browser.
//!
//! Datastar v1 has no event of its own for this: like the upstream SDKs, an
//! [`ExecuteScript`] is sent as a `datastar-patch-elements` event that appends a
//! `<script>` element to `<body>`. With `auto_remove` (the default) the element carries
//! `data-effect="el.remove()"`, so it removes itself once it has run.

use std::time::Duration;

use crate::consts;
use crate::encode::{
    DatastarEvent, ProtocolError, SseFields, end_event, start_data, write_data, write_multiline,
};
use crate::patch_elements::ElementPatchMode;

const AUTO_REMOVE_ATTRIBUTE: &str = r#" data-effect="el.remove()""#;

/// A script to run in the browser, built with chained setters.
///
/// ```
/// use starmodel_datastar::{DatastarEvent, ExecuteScript};
///
/// let event = ExecuteScript::new("console.log('hi')").attribute("type", "module");
/// assert_eq!(
///     event.to_bytes()?,
///     "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
///      data: elements <script data-effect=\"el.remove()\" type=\"module\">console.log('hi')</script>\n\n",
/// );
/// # Ok::<(), starmodel_datastar::ProtocolError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ExecuteScript {
    script: String,
    auto_remove: bool,
    attributes: Vec<(String, String)>,
    sse: SseFields,
}

impl ExecuteScript {
    /// Runs `script` (JavaScript, may span lines; must not contain `</script`).
    ///
    /// ```
    /// let event = starmodel_datastar::ExecuteScript::new("window.scrollTo(0, 0)");
    /// ```
    pub fn new(script: impl Into<String>) -> Self {
        Self {
            script: script.into(),
            auto_remove: true,
            attributes: Vec::new(),
            sse: SseFields::default(),
        }
    }

    /// Whether the `<script>` element removes itself after running; `true` by default.
    pub fn auto_remove(mut self, auto_remove: bool) -> Self {
        self.auto_remove = auto_remove;
        self
    }

    /// Adds an attribute to the `<script>` element; attributes keep the order they were
    /// added in. The value is HTML-escaped and must be a single line.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    crate::encode::sse_options!();

    fn validate(&self) -> Result<(), ProtocolError> {
        self.sse.check()?;
        for (name, value) in &self.attributes {
            if !is_attribute_name(name) {
                return Err(ProtocolError::InvalidAttributeName { name: name.clone() });
            }
            if value.contains(['\r', '\n']) {
                return Err(ProtocolError::AttributeLineBreak { name: name.clone() });
            }
        }
        if contains_closing_tag(&self.script) {
            return Err(ProtocolError::ScriptClosingTag);
        }
        Ok(())
    }
}

/// The HTML attribute-name rule, minus the exotic characters no one uses.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '/' | '=')
        })
}

fn contains_closing_tag(script: &str) -> bool {
    const TAG: &[u8] = b"</script";
    script
        .as_bytes()
        .windows(TAG.len())
        .any(|window| window.eq_ignore_ascii_case(TAG))
}

/// Writes `value` as the inside of a double-quoted attribute.
fn write_escaped_attribute(out: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            _ => out.push(byte),
        }
    }
}

impl DatastarEvent for ExecuteScript {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.validate()?;
        self.sse.write_header(out, consts::PATCH_ELEMENTS_EVENT);
        write_data(out, consts::MODE, ElementPatchMode::Append.as_str());
        write_data(out, consts::SELECTOR, "body");
        start_data(out, consts::ELEMENTS);
        out.extend_from_slice(b"<script");
        if self.auto_remove {
            out.extend_from_slice(AUTO_REMOVE_ATTRIBUTE.as_bytes());
        }
        for (name, value) in &self.attributes {
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"=\"");
            write_escaped_attribute(out, value);
            out.push(b'"');
        }
        out.push(b'>');
        write_multiline(out, consts::ELEMENTS, &self.script);
        out.extend_from_slice(b"</script>\n");
        end_event(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encoded;

    #[test]
    fn default_removes_itself() {
        assert_eq!(
            encoded(&ExecuteScript::new("go()")),
            "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
             data: elements <script data-effect=\"el.remove()\">go()</script>\n\n"
        );
    }

    #[test]
    fn every_option_is_written_in_order() {
        let event = ExecuteScript::new("go()")
            .auto_remove(false)
            .attribute("type", "module")
            .attribute("nonce", "a\"b&c")
            .attribute("async", "")
            .id("x")
            .retry(Duration::from_millis(10));
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\nid: x\nretry: 10\ndata: mode append\n\
             data: selector body\ndata: elements <script type=\"module\" \
             nonce=\"a&quot;b&amp;c\" async=\"\">go()</script>\n\n"
        );
    }

    #[test]
    fn multiline_script_splits_inside_the_tag() {
        let event = ExecuteScript::new("a();\r\nb();\rc();\nd();").auto_remove(false);
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
             data: elements <script>a();\ndata: elements b();\ndata: elements c();\n\
             data: elements d();</script>\n\n"
        );
    }

    #[test]
    fn bad_attributes_are_refused() {
        for name in ["", "a b", "a\nb", "a=b", "a\"", "a>", "a/"] {
            let err = ExecuteScript::new("x").attribute(name, "v").to_bytes();
            assert_eq!(
                err,
                Err(ProtocolError::InvalidAttributeName { name: name.into() })
            );
        }
        for value in ["a\nb", "a\r", "\r\n"] {
            let err = ExecuteScript::new("x")
                .attribute("data-x", value)
                .to_bytes();
            assert_eq!(
                err,
                Err(ProtocolError::AttributeLineBreak {
                    name: "data-x".into()
                })
            );
        }
    }

    #[test]
    fn closing_tag_and_bad_id_are_refused() {
        let err = ExecuteScript::new("x = '</SCRIPT>'").to_bytes();
        assert_eq!(err, Err(ProtocolError::ScriptClosingTag));
        assert!(
            ExecuteScript::new("a < b && c > '/script'")
                .to_bytes()
                .is_ok()
        );
        let err = ExecuteScript::new("x").id("1\r2").to_bytes();
        assert_eq!(err, Err(ProtocolError::LineBreak { field: "id" }));
    }
}
