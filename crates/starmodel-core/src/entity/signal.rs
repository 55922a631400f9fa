use std::fmt;

/// The name of one entity field as a Datastar signal, such as `counter.count`.
///
/// It renders as a signal *expression* (`$counter.count`), ready for `data-text`,
/// `data-show` and friends; [`path`](Self::path) gives the bare path that
/// `data-bind` takes. The derive generates one per field:
/// `Counter::signal().count`.
///
/// ```
/// use starmodel_core::SignalRef;
/// let count = SignalRef::new("counter.count");
/// assert_eq!(count.to_string(), "$counter.count");
/// assert_eq!(count.path(), "counter.count");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalRef(&'static str);

impl SignalRef {
    /// A signal from its dotted path.
    pub const fn new(path: &'static str) -> Self {
        Self(path)
    }

    /// The dotted path without the `$` sigil.
    pub const fn path(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for SignalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

#[cfg(feature = "maud")]
impl maud::Render for SignalRef {
    fn render_to(&self, buffer: &mut String) {
        buffer.push('$');
        buffer.push_str(self.0);
    }
}
