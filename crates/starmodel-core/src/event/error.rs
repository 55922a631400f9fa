use http::StatusCode;

use crate::entity::FieldError;

fn join_fields(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

/// A parameter could not be taken from the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A required parameter is absent from path, signals, query and form.
    #[error("missing parameter `{field}`")]
    Missing {
        /// The parameter's name.
        field: String,
    },
    /// A parameter is present but does not convert to its type.
    #[error("invalid value for parameter `{field}`: {reason}")]
    Invalid {
        /// The parameter's name.
        field: String,
        /// What serde said.
        reason: String,
    },
}

impl ParamError {
    /// The parameter at fault.
    pub fn field(&self) -> &str {
        match self {
            ParamError::Missing { field } | ParamError::Invalid { field, .. } => field,
        }
    }
}

/// An event did not complete; the entity is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A parameter is missing or mistyped (422).
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The event returned `Err` (422): the message is the error's text.
    #[error("{0}")]
    Rejected(String),
    /// The new state breaks the entity's validation rules (422), field by field.
    #[error("{}", join_fields(.0))]
    Invalid(Vec<FieldError>),
    /// The event's code panicked (500); the message says where.
    #[error("event `{event}` panicked: {message}")]
    Panicked {
        /// The event's name.
        event: String,
        /// The panic payload, when it was text.
        message: String,
    },
    /// The stored state does not deserialize into the entity (500).
    #[error("stored state of `{entity}` does not match its type: {reason}")]
    Corrupt {
        /// The entity's name.
        entity: String,
        /// What serde said.
        reason: String,
    },
    /// The application is set up wrong for this event (500): a value it injects
    /// was never provided, a change it fires names no event.
    #[error("{0}")]
    Setup(String),
    /// The event took longer than its timeout (503); nothing was written.
    #[error("event `{event}` took longer than {millis} ms; nothing was changed")]
    TimedOut {
        /// The event's name.
        event: String,
        /// The timeout.
        millis: u128,
    },
}

impl EventError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            EventError::Param(_) | EventError::Rejected(_) | EventError::Invalid(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            EventError::Panicked { .. } | EventError::Corrupt { .. } | EventError::Setup(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            EventError::TimedOut { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why the dispatcher could not run an event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// No entity of that name is registered (404).
    #[error("unknown entity `{0}`")]
    UnknownEntity(String),
    /// The entity has no event of that name (404).
    #[error("entity `{entity}` has no event `{event}`")]
    UnknownEvent {
        /// The entity's name.
        entity: String,
        /// The event asked for.
        event: String,
    },
    /// A record-scope instance that does not exist (404).
    #[error("no `{entity}` with id `{id}`")]
    NotFound {
        /// The entity's name.
        entity: String,
        /// The id asked for.
        id: String,
    },
    /// The event itself failed.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The store failed (503).
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl DispatchError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            DispatchError::UnknownEntity(_)
            | DispatchError::UnknownEvent { .. }
            | DispatchError::NotFound { .. } => StatusCode::NOT_FOUND,
            DispatchError::Event(e) => e.status(),
            DispatchError::Store(e) => e.status(),
        }
    }

    /// The parameter at fault, for field-level error display.
    pub fn field(&self) -> Option<&str> {
        match self {
            DispatchError::Event(EventError::Param(p)) => Some(p.field()),
            DispatchError::Event(EventError::Invalid(errors)) => {
                errors.first().map(|e| e.field.as_str())
            }
            DispatchError::Store(crate::StoreError::Invalid { field, .. }) => field.as_deref(),
            _ => None,
        }
    }

    /// Every field at fault with its message (empty when the error is not about
    /// fields).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            DispatchError::Event(EventError::Param(p)) => vec![FieldError {
                field: p.field().to_owned(),
                message: p.to_string(),
            }],
            DispatchError::Event(EventError::Invalid(errors)) => errors.clone(),
            DispatchError::Store(crate::StoreError::Invalid {
                field: Some(field),
                message,
            }) => vec![FieldError {
                field: field.clone(),
                message: message.clone(),
            }],
            _ => Vec::new(),
        }
    }
}
