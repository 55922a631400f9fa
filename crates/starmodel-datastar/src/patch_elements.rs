//! `datastar-patch-elements`: send HTML that the browser morphs into the page.

use std::fmt;
use std::time::Duration;

use crate::consts;
use crate::encode::{
    DatastarEvent, ProtocolError, SseFields, check_single_line, end_event, write_data,
    write_multiline_data,
};

/// How patched elements are applied to the elements the selector matches.
///
/// ```
/// use starmodel_datastar::ElementPatchMode;
///
/// assert_eq!(ElementPatchMode::default(), ElementPatchMode::Outer);
/// assert_eq!(ElementPatchMode::Append.as_str(), "append");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ElementPatchMode {
    /// Morph the matched element, tag included (the default).
    #[default]
    Outer,
    /// Morph the matched element's children.
    Inner,
    /// Remove the matched element; no elements are sent.
    Remove,
    /// Replace the matched element without morphing.
    Replace,
    /// Insert the elements as the matched element's first children.
    Prepend,
    /// Insert the elements as the matched element's last children.
    Append,
    /// Insert the elements before the matched element.
    Before,
    /// Insert the elements after the matched element.
    After,
}

impl ElementPatchMode {
    /// The value written on the wire.
    ///
    /// ```
    /// assert_eq!(starmodel_datastar::ElementPatchMode::Before.as_str(), "before");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Outer => "outer",
            Self::Inner => "inner",
            Self::Remove => "remove",
            Self::Replace => "replace",
            Self::Prepend => "prepend",
            Self::Append => "append",
            Self::Before => "before",
            Self::After => "after",
        }
    }

    /// Whether the browser can target elements by their `id` alone in this mode; every
    /// other mode needs a selector.
    const fn works_without_selector(self) -> bool {
        matches!(self, Self::Outer | Self::Replace)
    }
}

impl fmt::Display for ElementPatchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The XML namespace the browser parses the elements in.
///
/// ```
/// use starmodel_datastar::Namespace;
///
/// assert_eq!(Namespace::default(), Namespace::Html);
/// assert_eq!(Namespace::MathMl.as_str(), "mathml");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Namespace {
    /// Plain HTML (the default, never written).
    #[default]
    Html,
    /// SVG elements, such as a `<circle>` patched into an `<svg>`.
    Svg,
    /// MathML elements.
    MathMl,
}

impl Namespace {
    /// The value written on the wire.
    ///
    /// ```
    /// assert_eq!(starmodel_datastar::Namespace::Svg.as_str(), "svg");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Svg => "svg",
            Self::MathMl => "mathml",
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `datastar-patch-elements` event, built with chained setters.
///
/// Without a selector the browser matches each top-level element by its `id`.
///
/// ```
/// use std::time::Duration;
/// use starmodel_datastar::{DatastarEvent, ElementPatchMode, PatchElements};
///
/// let event = PatchElements::new("<li>new</li>")
///     .selector("#list")
///     .mode(ElementPatchMode::Append)
///     .id("42")
///     .retry(Duration::from_secs(2));
/// assert_eq!(
///     event.to_bytes()?,
///     "event: datastar-patch-elements\nid: 42\nretry: 2000\n\
///      data: selector #list\ndata: mode append\ndata: elements <li>new</li>\n\n",
/// );
/// # Ok::<(), starmodel_datastar::ProtocolError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct PatchElements {
    elements: String,
    selector: Option<String>,
    mode: ElementPatchMode,
    use_view_transition: bool,
    view_transition_selector: Option<String>,
    namespace: Namespace,
    sse: SseFields,
}

impl PatchElements {
    /// Patches `elements` (HTML, may span lines) in the default `outer` mode.
    ///
    /// ```
    /// let event = starmodel_datastar::PatchElements::new("<div id=\"a\">hi</div>");
    /// ```
    pub fn new(elements: impl Into<String>) -> Self {
        Self {
            elements: elements.into(),
            ..Self::default()
        }
    }

    /// Removes the elements matching `selector` (mode `remove`, no elements).
    ///
    /// ```
    /// use starmodel_datastar::{DatastarEvent, PatchElements};
    ///
    /// assert_eq!(
    ///     PatchElements::remove("#toast").to_bytes()?,
    ///     "event: datastar-patch-elements\ndata: selector #toast\ndata: mode remove\n\n",
    /// );
    /// # Ok::<(), starmodel_datastar::ProtocolError>(())
    /// ```
    pub fn remove(selector: impl Into<String>) -> Self {
        Self::default()
            .selector(selector)
            .mode(ElementPatchMode::Remove)
    }

    /// The CSS selector of the elements to patch. Must be a single line.
    pub fn selector(mut self, selector: impl Into<String>) -> Self {
        self.selector = Some(selector.into());
        self
    }

    /// How the elements are applied; `outer` by default.
    pub fn mode(mut self, mode: ElementPatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// Runs the patch inside a view transition when the browser supports it.
    pub fn use_view_transition(mut self, use_view_transition: bool) -> Self {
        self.use_view_transition = use_view_transition;
        self
    }

    /// Selector of the element the view transition is scoped to. Must be a single line.
    pub fn view_transition_selector(mut self, selector: impl Into<String>) -> Self {
        self.view_transition_selector = Some(selector.into());
        self
    }

    /// Namespace the elements are parsed in; HTML by default.
    pub fn namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = namespace;
        self
    }

    crate::encode::sse_options!();

    fn validate(&self) -> Result<(), ProtocolError> {
        self.sse.check()?;
        match &self.selector {
            Some(selector) => check_single_line(consts::SELECTOR, selector)?,
            None if !self.mode.works_without_selector() => {
                return Err(ProtocolError::MissingSelector {
                    mode: self.mode.as_str(),
                });
            }
            None => {}
        }
        if let Some(selector) = &self.view_transition_selector {
            check_single_line(consts::VIEW_TRANSITION_SELECTOR, selector)?;
        }
        Ok(())
    }
}

impl DatastarEvent for PatchElements {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.validate()?;
        self.sse.write_header(out, consts::PATCH_ELEMENTS_EVENT);
        if let Some(selector) = &self.selector {
            write_data(out, consts::SELECTOR, selector);
        }
        if self.mode != ElementPatchMode::default() {
            write_data(out, consts::MODE, self.mode.as_str());
        }
        if self.use_view_transition != consts::DEFAULT_USE_VIEW_TRANSITION {
            write_data(out, consts::USE_VIEW_TRANSITION, "true");
        }
        if let Some(selector) = &self.view_transition_selector {
            write_data(out, consts::VIEW_TRANSITION_SELECTOR, selector);
        }
        if self.namespace != Namespace::default() {
            write_data(out, consts::NAMESPACE, self.namespace.as_str());
        }
        if !self.elements.is_empty() {
            write_multiline_data(out, consts::ELEMENTS, &self.elements);
        }
        end_event(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encoded;

    #[test]
    fn defaults_are_omitted() {
        let event = PatchElements::new("<p>x</p>")
            .mode(ElementPatchMode::Outer)
            .use_view_transition(false)
            .namespace(Namespace::Html)
            .retry(consts::DEFAULT_RETRY);
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\ndata: elements <p>x</p>\n\n"
        );
    }

    #[test]
    fn every_option_is_written() {
        let event = PatchElements::new("<circle r=\"1\"/>")
            .selector("#chart")
            .mode(ElementPatchMode::Inner)
            .use_view_transition(true)
            .view_transition_selector("#chart-wrap")
            .namespace(Namespace::Svg)
            .id("ev-1")
            .retry(Duration::from_millis(1500));
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\nid: ev-1\nretry: 1500\n\
             data: selector #chart\ndata: mode inner\ndata: useViewTransition true\n\
             data: viewTransitionSelector #chart-wrap\ndata: namespace svg\n\
             data: elements <circle r=\"1\"/>\n\n"
        );
    }

    #[test]
    fn every_mode_and_namespace_has_its_wire_name() {
        use ElementPatchMode::*;
        let modes = [
            Outer, Inner, Remove, Replace, Prepend, Append, Before, After,
        ];
        let names: Vec<_> = modes.iter().map(|mode| mode.to_string()).collect();
        assert_eq!(
            names,
            [
                "outer", "inner", "remove", "replace", "prepend", "append", "before", "after"
            ]
        );
        let event = PatchElements::new("<mi>x</mi>").namespace(Namespace::MathMl);
        assert!(encoded(&event).contains("data: namespace mathml\n"));
    }

    #[test]
    fn elements_split_on_every_line_break() {
        let event = PatchElements::new("<ul>\r\n<li>a</li>\r<li>b</li>\n</ul>");
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\ndata: elements <ul>\ndata: elements <li>a</li>\n\
             data: elements <li>b</li>\ndata: elements </ul>\n\n"
        );
    }

    #[test]
    fn remove_has_no_elements_line() {
        let event = PatchElements::remove("#a").use_view_transition(true);
        assert_eq!(
            encoded(&event),
            "event: datastar-patch-elements\ndata: selector #a\ndata: mode remove\n\
             data: useViewTransition true\n\n"
        );
    }

    #[test]
    fn line_breaks_in_single_line_fields_are_refused() {
        let cases = [
            (PatchElements::new("x").id("a\rb"), "id"),
            (PatchElements::new("x").selector("#a\n#b"), "selector"),
            (
                PatchElements::new("x").view_transition_selector("#a\r\n"),
                "viewTransitionSelector",
            ),
        ];
        for (event, field) in cases {
            let mut out = b"kept".to_vec();
            assert_eq!(
                event.write_to(&mut out),
                Err(ProtocolError::LineBreak { field })
            );
            assert_eq!(out, b"kept", "nothing written on error");
        }
    }

    #[test]
    fn modes_that_need_a_selector_refuse_to_go_without() {
        let err = PatchElements::new("<p>x</p>")
            .mode(ElementPatchMode::Append)
            .to_bytes()
            .expect_err("refused");
        assert_eq!(err, ProtocolError::MissingSelector { mode: "append" });
        assert_eq!(err.to_string(), "mode `append` needs a selector");
        let replace = PatchElements::new("<p id=\"a\">x</p>").mode(ElementPatchMode::Replace);
        assert!(replace.to_bytes().is_ok());
    }
}
