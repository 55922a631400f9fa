use std::fmt::{self, Write as _};
use std::future::Future;
use std::sync::Arc;

use futures_util::future::Either;
use serde::Serialize;

use super::EventMethod;

tokio::task_local! {
    /// The path an application is mounted under (`/app`), while a request of it
    /// or a rendering of its views runs.
    static URL_PREFIX: Arc<str>;
}

/// Runs `f` with `prefix` (an application's mount path, such as `/app`) put in
/// front of every [`Action`] made in it: a page rendered under `/app` posts to
/// `/app/counter/increment`. With `None`, `f` runs as it is. The web adapter
/// does this around every request and view rendering of an app mounted under a
/// prefix.
pub fn with_url_prefix<F: Future>(
    prefix: Option<&Arc<str>>,
    f: F,
) -> Either<tokio::task::futures::TaskLocalFuture<Arc<str>, F>, F> {
    match prefix {
        Some(prefix) => Either::Left(URL_PREFIX.scope(prefix.clone(), f)),
        None => Either::Right(f),
    }
}

/// The mount path of the application whose request or view runs now (see
/// [`with_url_prefix`]); empty when there is none.
///
/// ```
/// assert_eq!(&*starmodel_core::event::url_prefix(), "");
/// ```
pub fn url_prefix() -> Arc<str> {
    URL_PREFIX
        .try_with(Clone::clone)
        .unwrap_or_else(|_| Arc::from(""))
}

/// A Datastar action expression that fires one event, such as
/// `@post('/counter/increment?amount=10')`.
///
/// `#[events]` generates typed builders that return these
/// (`Counter::action().increment(Some(10))`), so a renamed event or a mistyped
/// argument is a compile error. Arguments travel in the query string; `None`
/// arguments are left out.
///
/// ```
/// use starmodel_core::{Action, EventMethod};
/// let action = Action::new(EventMethod::Post, "/counter/increment")
///     .arg("amount", &Some(10))
///     .arg("note", &None::<String>)
///     .arg("label", "it's");
/// assert_eq!(
///     action.to_string(),
///     "@post('/counter/increment?amount=10&label=it%27s')"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    method: EventMethod,
    url: String,
    /// Where the path given to [`new`](Self::new) starts in `url` (after the
    /// application's mount path).
    base: usize,
    has_query: bool,
    /// Arguments computed in the browser: `(name, JavaScript expression)`.
    exprs: Vec<(String, String)>,
}

impl Action {
    /// An action on `path` with no arguments yet. Characters that would end the
    /// JavaScript string (`'`, `\`) or do not belong in a URL (spaces, controls)
    /// are percent-encoded; everything else is kept as given. An absolute `path`
    /// made while an application mounted under a prefix runs gets the prefix
    /// (see [`with_url_prefix`]).
    pub fn new(method: EventMethod, path: impl Into<String>) -> Self {
        let mut path = path.into();
        let mut base = 0;
        if path.starts_with('/') {
            let _ = URL_PREFIX.try_with(|prefix| {
                if !prefix.is_empty() {
                    path.insert_str(0, prefix);
                    base = prefix.len();
                }
            });
        }
        let url = if path
            .bytes()
            .any(|b| b == b'\'' || b == b'\\' || b <= b' ' || b == 0x7f)
        {
            let mut url = String::with_capacity(path.len() + 8);
            for c in path.chars() {
                if c == '\'' || c == '\\' || c <= ' ' || c == '\u{7f}' {
                    let _ = write!(url, "%{:02X}", c as u32);
                } else {
                    url.push(c);
                }
            }
            url
        } else {
            path
        };
        Self {
            method,
            url,
            base,
            has_query: false,
            exprs: Vec::new(),
        }
    }

    /// Adds an argument whose value the browser computes when the action fires,
    /// from a JavaScript expression such as `evt.target.value`.
    ///
    /// ```
    /// use starmodel_core::{Action, EventMethod};
    /// let action = Action::new(EventMethod::Post, "/todo/7/rename").arg_expr("title", "evt.target.value");
    /// assert_eq!(
    ///     action.to_string(),
    ///     "@post('/todo/7/rename?title=' + encodeURIComponent(evt.target.value))"
    /// );
    /// ```
    pub fn arg_expr(mut self, name: &str, expr: &str) -> Self {
        let mut encoded = String::new();
        percent_encode_into(name, b"", &mut encoded);
        self.exprs.push((encoded, expr.to_owned()));
        self
    }

    /// Adds one argument; `None` and unit values are skipped, text is sent as is,
    /// numbers and booleans as their JSON text, anything else as JSON.
    pub fn arg<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        let text = match serde_json::to_value(value) {
            Ok(serde_json::Value::Null) | Err(_) => return self,
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
        };
        self.url.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        percent_encode_into(name, b"", &mut self.url);
        self.url.push('=');
        percent_encode_into(&text, b"", &mut self.url);
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> EventMethod {
        self.method
    }

    /// The URL with its query string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL without the application's mount path: the path given to
    /// [`new`](Self::new), with its query string.
    pub fn app_url(&self) -> &str {
        &self.url[self.base..]
    }

    /// Whether some argument is computed in the browser ([`arg_expr`](Self::arg_expr)).
    pub fn computed_in_browser(&self) -> bool {
        !self.exprs.is_empty()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}('{}", self.method.action_name(), self.url)?;
        let mut sep = if self.has_query { '&' } else { '?' };
        for (i, (name, expr)) in self.exprs.iter().enumerate() {
            if i > 0 {
                f.write_str(" + '")?;
            }
            write!(f, "{sep}{name}=' + encodeURIComponent({expr})")?;
            sep = '&';
        }
        f.write_str(if self.exprs.is_empty() { "')" } else { ")" })
    }
}

#[cfg(feature = "maud")]
impl maud::Render for Action {
    fn render_to(&self, buffer: &mut String) {
        // Arguments are percent-encoded, but `new` takes any path: escape it all.
        let mut escaper = maud::Escaper::new(buffer);
        let _ = write!(escaper, "{self}");
    }
}

/// Appends `s` percent-encoded: ASCII letters, digits, `-._~` and the bytes in
/// `keep` stay as they are, every other byte becomes `%XX`.
///
/// With an empty `keep` the result is safe as a URL path segment or query component
/// (RFC 3986's unreserved characters only). A header value may keep more (spaces,
/// punctuation) so it stays readable.
///
/// ```
/// let mut url = String::from("/todo/");
/// starmodel_core::event::percent_encode_into("a b/c", b"", &mut url);
/// assert_eq!(url, "/todo/a%20b%2Fc");
///
/// let mut header = String::new();
/// starmodel_core::event::percent_encode_into("a b/c", b" /", &mut header);
/// assert_eq!(header, "a b/c");
/// ```
pub fn percent_encode_into(s: &str, keep: &[u8], out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || keep.contains(&b)
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_encoded() {
        let a = Action::new(EventMethod::Delete, "/todo/1/remove")
            .arg("tags", &vec!["a b", "c"])
            .arg("yes", &true)
            .arg("unit", &());
        assert_eq!(
            a.to_string(),
            "@delete('/todo/1/remove?tags=%5B%22a%20b%22%2C%22c%22%5D&yes=true')"
        );
    }

    #[cfg(feature = "maud")]
    #[test]
    fn renders_into_markup_escaped() {
        let a = Action::new(EventMethod::Post, "/x")
            .arg("a", &1)
            .arg("copy", &2);
        assert_eq!(
            maud::html! { (a) }.into_string(),
            "@post('/x?a=1&amp;copy=2')"
        );
    }

    #[cfg(feature = "maud")]
    #[test]
    fn a_path_cannot_break_out_of_the_attribute() {
        let a = Action::new(EventMethod::Post, "/x\"><script>' \\");
        assert_eq!(
            maud::html! { b "data-on:click"=(a) {} }.into_string(),
            "<b data-on:click=\"@post('/x&quot;&gt;&lt;script&gt;%27%20%5C')\"></b>"
        );
    }

    #[cfg(feature = "maud")]
    #[test]
    fn renders_into_markup_unchanged() {
        let a = Action::new(EventMethod::Post, "/counter/increment").arg("amount", &-1);
        assert_eq!(
            maud::html! { (a) }.into_string(),
            "@post('/counter/increment?amount=-1')"
        );
    }
}
