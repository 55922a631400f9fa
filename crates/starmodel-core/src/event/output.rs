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
