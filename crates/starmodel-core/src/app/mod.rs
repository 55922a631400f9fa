//! The application layer: which entity types exist ([`Registry`]) and how an event
//! runs ([`Dispatcher`], the unit of work: load, run, commit, then publish).

mod dispatch;
pub mod outbox;
pub mod reaction;
mod registry;

pub use dispatch::{CommitObserver, DEFAULT_EVENT_TIMEOUT, Dispatcher, EventOutcome, SessionOf};
pub use registry::{EntityType, Registry};
