use std::fmt::Display;

use super::EventError;

/// What an event produced besides the new state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EventOutput {
    /// Nothing: the response patches the entity's signals.
    #[default]
    Signals,
    /// Markup to patch into the page, besides the signals.
    Elements(String),
    /// The event removes the instance (it returned [`Deleted`]).
    Deleted,
}

/// Returned by an event that removes its record: `fn remove(&mut self) -> Deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted;

impl IntoEventOutput for Deleted {
    fn into_event_output(self) -> Result<EventOutput, EventError> {
        Ok(EventOutput::Deleted)
    }
}

/// Converts a create event's return value into the new instance.
///
/// Implemented for the entity itself and `Result<E, Err>` where the error is shown
/// to the user (status 422).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a create event of `{E}`",
    note = "an event without `self` creates a record: it returns `Self` or `Result<Self, E>` with `E: Display`"
)]
pub trait IntoCreated<E> {
    /// The conversion.
    fn into_created(self) -> Result<E, EventError>;
}

impl<E: crate::Entity> IntoCreated<E> for E {
    fn into_created(self) -> Result<E, EventError> {
        Ok(self)
    }
}

impl<E: crate::Entity, Err: Display> IntoCreated<E> for Result<E, Err> {
    fn into_created(self) -> Result<E, EventError> {
        self.map_err(|e| EventError::Rejected(e.to_string()))
    }
}

/// Converts an event method's return value into an [`EventOutput`].
///
/// Implemented for `()`, `maud::Markup` (feature `maud`) and `Result<T, E>` where
/// the error is shown to the user (status 422, its `Display` text as the message).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an event",
    note = "an event returns `()`, `Markup` or `Result<T, E>` where `T` is one of those and `E: Display`"
)]
pub trait IntoEventOutput {
    /// The conversion.
    fn into_event_output(self) -> Result<EventOutput, EventError>;
}

impl IntoEventOutput for () {
    fn into_event_output(self) -> Result<EventOutput, EventError> {
        Ok(EventOutput::Signals)
    }
}

#[cfg(feature = "maud")]
impl IntoEventOutput for maud::Markup {
    fn into_event_output(self) -> Result<EventOutput, EventError> {
        Ok(EventOutput::Elements(self.into_string()))
    }
}

impl<T: IntoEventOutput, E: Display> IntoEventOutput for Result<T, E> {
    fn into_event_output(self) -> Result<EventOutput, EventError> {
        match self {
            Ok(value) => value.into_event_output(),
            Err(error) => Err(EventError::Rejected(error.to_string())),
        }
    }
}
