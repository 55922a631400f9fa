//! The application layer: which entity types exist ([`Registry`]) and how an event
//! runs ([`Dispatcher`], the unit of work: load, run, commit, then publish).

mod dispatch;
pub mod outbox;
mod registry;

pub use dispatch::{CommitObserver, Dispatcher, EventOutcome, SessionOf};
pub use registry::{EntityType, Registry};
