use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ParamError;
use super::text::Text;

/// Everything a request offers an event's parameters, searched in this order:
/// path segments, the query string, the entity's namespaced signals
/// (`counter.amount`), top-level signals (`amount`), the form body.
///
/// The query comes before the signals because typed actions put their arguments
/// there: `Counter::action().set(5)` must win over the page's current
/// `counter.count` signal when the parameter is also called `count`.
///
/// Signals keep their JSON types; text sources (path, query, form) are coerced
/// the way serde would read them from JSON, so `?amount=10` fills an `i64` and
/// `?name=10` fills a `String`.
///
/// ```
/// use starmodel_core::EventInput;
/// let input = EventInput::new("counter")
///     .with_signals(serde_json::json!({"counter": {"step": 2}}))
///     .with_query([("amount".to_owned(), "10".to_owned())]);
/// assert_eq!(input.param::<i64>("amount").unwrap(), 10);
/// assert_eq!(input.param::<Option<i64>>("step").unwrap(), Some(2));
/// assert_eq!(input.param::<Option<i64>>("absent").unwrap(), None);
/// assert!(input.param::<i64>("absent").is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct EventInput {
    namespace: Cow<'static, str>,
    path: Vec<(String, String)>,
    /// The signals, parsed on first use.
    signals: OnceLock<Value>,
    /// A JSON body not parsed yet (most events read only their query).
    raw_signals: Option<Bytes>,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    /// Values injected into events by type (see [`inject`]).
    extensions: http::Extensions,
}

enum Found<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl EventInput {
    /// An empty input for an entity whose signals live under `namespace`.
    pub fn new(namespace: impl Into<Cow<'static, str>>) -> Self {
        Self {
            namespace: namespace.into(),
            ..Self::default()
        }
    }

    /// Adds path parameters.
    pub fn with_path(mut self, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        self.path.extend(pairs);
        self
    }

    /// Sets the signals the browser sent (a JSON object).
    pub fn with_signals(mut self, signals: Value) -> Self {
        self.signals = OnceLock::from(signals);
        self.raw_signals = None;
        self
    }

    /// Sets the signals as a JSON body, parsed only if a parameter is looked up
    /// there. The caller has checked that it is a well-formed JSON object; if it
    /// is not, it reads as no signals.
    pub fn with_signals_json(mut self, body: Bytes) -> Self {
        self.signals = OnceLock::new();
        self.raw_signals = Some(body);
        self
    }

    /// Adds query-string parameters.
    pub fn with_query(mut self, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        self.query.extend(pairs);
        self
    }

    /// Adds form-body fields.
    pub fn with_form(mut self, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        self.form.extend(pairs);
        self
    }

    /// Provides `value` to the event's parameters of type `T` (see [`inject`]).
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// Provides every value of `extensions` (see [`with_extension`](Self::with_extension)).
    pub fn with_extensions(mut self, extensions: http::Extensions) -> Self {
        self.extensions.extend(extensions);
        self
    }

    /// The value of type `T` provided with [`with_extension`](Self::with_extension).
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// All the signals the browser sent (`null` when none).
    pub fn signals(&self) -> &Value {
        self.signals.get_or_init(|| {
            self.raw_signals
                .as_ref()
                .and_then(|raw| serde_json::from_slice(raw).ok())
                .unwrap_or(Value::Null)
        })
    }

    fn find(&self, name: &str) -> Option<Found<'_>> {
        fn text<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
        if let Some(v) = text(&self.path, name).or_else(|| text(&self.query, name)) {
            return Some(Found::Text(v));
        }
        let signals = self.signals();
        if let Some(v) = signals.get(&*self.namespace).and_then(|ns| ns.get(name)) {
            return Some(Found::Json(v));
        }
        if let Some(v) = signals.get(name) {
            return Some(Found::Json(v));
        }
        text(&self.form, name).map(Found::Text)
    }

    /// The parameter `name`, converted to `T`.
    ///
    /// An absent parameter is `None` for `Option<T>` and a [`ParamError::Missing`]
    /// otherwise; an unconvertible one is a [`ParamError::Invalid`] naming it.
    pub fn param<T: DeserializeOwned>(&self, name: &str) -> Result<T, ParamError> {
        let invalid = |e: serde_json::Error| ParamError::Invalid {
            field: name.to_owned(),
            reason: e.to_string(),
        };
        match self.find(name) {
            None => serde_json::from_value(Value::Null).map_err(|_| ParamError::Missing {
                field: name.to_owned(),
            }),
            Some(Found::Json(v)) => T::deserialize(v).map_err(invalid),
            Some(Found::Text(s)) => T::deserialize(Text(s)).map_err(invalid),
        }
    }
}

/// An injected event parameter of type `T`: what the web adapter provided with
/// [`EventInput::with_extension`] (the request's `HeaderMap`, its `ClientAddr`,
/// the `Session`, the `App`, a `State<T>` given to the builder). Missing, it is an
/// [`EventError::Setup`](super::EventError::Setup) naming the type.
pub fn inject<T: Clone + Send + Sync + 'static>(
    input: &EventInput,
) -> Result<T, super::EventError> {
    input.extension::<T>().cloned().ok_or_else(|| {
        let name = std::any::type_name::<T>();
        super::EventError::Setup(format!(
            "no `{name}` to inject into this event: an application state must be \
             given to the builder (`StarModel::state(value)`), and request values \
             exist only for events run by a request"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input() -> EventInput {
        EventInput::new("counter")
            .with_path([("id".to_owned(), "42".to_owned())])
            .with_signals(json!({"counter": {"amount": 3}, "amount": 4, "flag": true}))
            .with_query([
                ("amount".to_owned(), "5".to_owned()),
                ("name".to_owned(), "10".to_owned()),
                ("bad".to_owned(), "abc".to_owned()),
                ("empty".to_owned(), String::new()),
            ])
            .with_form([("formonly".to_owned(), "true".to_owned())])
    }

    #[test]
    fn sources_are_searched_in_order() {
        let i = input();
        assert_eq!(i.param::<i64>("id").unwrap(), 42);
        assert_eq!(i.param::<i64>("amount").unwrap(), 5);
        let signals_only =
            EventInput::new("counter").with_signals(json!({"counter": {"amount": 3}}));
        assert_eq!(signals_only.param::<i64>("amount").unwrap(), 3);
        assert!(i.param::<bool>("flag").unwrap());
        assert!(i.param::<bool>("formonly").unwrap());
        let top = EventInput::new("other").with_signals(json!({"amount": 4}));
        assert_eq!(top.param::<i64>("amount").unwrap(), 4);
    }

    #[test]
    fn text_coerces_like_json() {
        let i = input();
        assert_eq!(i.param::<String>("name").unwrap(), "10");
        assert_eq!(i.param::<u8>("name").unwrap(), 10);
        assert_eq!(i.param::<Option<i64>>("empty").unwrap(), None);
        assert_eq!(i.param::<String>("empty").unwrap(), "");
    }

    #[test]
    fn a_json_body_is_parsed_only_when_needed() {
        let lazy = EventInput::new("counter")
            .with_query([("amount".to_owned(), "2".to_owned())])
            .with_signals_json(Bytes::from_static(br#"{"counter": {"step": 3}}"#));
        assert_eq!(lazy.param::<i64>("amount").unwrap(), 2);
        assert!(lazy.signals.get().is_none(), "the query answered first");
        assert_eq!(lazy.param::<i64>("step").unwrap(), 3);
    }

    #[test]
    fn errors_name_the_field() {
        let i = input();
        let missing = i.param::<i64>("nope").unwrap_err();
        assert_eq!(missing.to_string(), "missing parameter `nope`");
        let bad = i.param::<i64>("bad").unwrap_err();
        assert_eq!(bad.field(), "bad");
        assert!(
            bad.to_string()
                .starts_with("invalid value for parameter `bad`")
        );
        let mistyped = i.param::<String>("flag").unwrap_err();
        assert_eq!(mistyped.field(), "flag");
    }
}
