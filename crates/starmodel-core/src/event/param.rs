//! The traits and helpers the `#[events]` macro's code uses for parameters and
//! typed actions: [`EventParam`] (a type an event parameter can have),
//! [`ActionArg`] (what an action builder accepts for one), [`FromSignals`] and
//! [`FromJs`] (arguments the page supplies).

use super::{Action, EventError, EventInput};
use crate::Entity;

/// Passed to an action builder for a parameter, leaves it out of the URL: the event
/// reads it from the page's signals instead (`$todo.title` or `$title`), as the
/// user typed it into an input bound with `data-bind`.
///
/// ```
/// use starmodel_core::{Action, EventMethod};
/// use starmodel_core::event::{ActionArg, FromSignals};
/// let action = <FromSignals as ActionArg<String>>::add_arg(
///     FromSignals,
///     Action::new(EventMethod::Post, "/todo/add"),
///     "title",
/// );
/// assert_eq!(action.to_string(), "@post('/todo/add')");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FromSignals;

/// Passed to an action builder for a parameter, computes it in the browser when
/// the action fires, from a JavaScript expression (`evt.target.value` is the
/// value of the input that fired a `data-on:change`).
///
/// ```
/// use starmodel_core::{Action, EventMethod};
/// use starmodel_core::event::{ActionArg, FromJs};
/// let action = <FromJs as ActionArg<String>>::add_arg(
///     FromJs("evt.target.value"),
///     Action::new(EventMethod::Post, "/todo/1/rename"),
///     "title",
/// );
/// assert!(action.to_string().contains("evt.target.value"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromJs(pub &'static str);

/// A type an event parameter can have: read from an [`EventInput`], written into
/// an action's query string. Every `Serialize + DeserializeOwned` type is one.
///
/// ```
/// use starmodel_core::EventInput;
/// use starmodel_core::event::EventParam;
/// let input = EventInput::new("counter").with_query(vec![("amount".into(), "5".into())]);
/// assert_eq!(<i64 as EventParam>::from_input(&input, "amount").unwrap(), 5);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event parameter",
    label = "needs `serde::Serialize` and `serde::Deserialize`",
    note = "the handler decodes parameters from the request (`Deserialize`) and typed \
            actions encode them into URLs (`Serialize`): use types such as `i64`, \
            `String`, `bool` or `Option<T>`, or derive both traits"
)]
pub trait EventParam: Sized {
    /// Reads the parameter `name` from `input`.
    fn from_input(input: &EventInput, name: &str) -> Result<Self, EventError>;
    /// Adds the value to an action's query string.
    fn add_to(&self, action: Action, name: &str) -> Action;
}

impl<T: serde::de::DeserializeOwned + serde::Serialize> EventParam for T {
    fn from_input(input: &EventInput, name: &str) -> Result<Self, EventError> {
        input.param(name).map_err(EventError::from)
    }

    fn add_to(&self, action: Action, name: &str) -> Action {
        action.arg(name, self)
    }
}

/// What an action builder accepts for a parameter of type `T`: a `T`,
/// [`FromSignals`] or [`FromJs`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed for a `{T}` parameter of an action",
    note = "pass a `{T}`, or `FromSignals` to let the event read it from the page's signals"
)]
pub trait ActionArg<T> {
    /// Adds the argument to the action's query string (or nothing).
    fn add_arg(self, action: Action, name: &str) -> Action;
}

impl<T: EventParam> ActionArg<T> for T {
    fn add_arg(self, action: Action, name: &str) -> Action {
        self.add_to(action, name)
    }
}

impl<T> ActionArg<T> for FromJs {
    fn add_arg(self, action: Action, name: &str) -> Action {
        action.arg_expr(name, self.0)
    }
}

impl<T> ActionArg<T> for FromSignals {
    fn add_arg(self, action: Action, _: &str) -> Action {
        action
    }
}

/// Reads one event parameter (what `#[events]` generates for each).
pub fn param<T: EventParam>(input: &EventInput, name: &str) -> Result<T, EventError> {
    T::from_input(input, name)
}

/// The path every event URL of a session or global entity `E` starts with.
pub fn route_base<E: Entity>() -> String {
    format!("/{}", E::NAME)
}

/// The path every event URL of the record `id` of `E` starts with.
pub fn record_route_base<E: Entity>(id: &dyn std::fmt::Display) -> String {
    let mut base = format!("/{}/", E::NAME);
    super::percent_encode_into(&id.to_string(), b"", &mut base);
    base
}
