//! The application layer: which entity types exist ([`Registry`]) and how an event
//! runs ([`Dispatcher`], the unit of work: load, run, commit, then publish).

mod dispatch;
mod registry;

pub use dispatch::{CommitObserver, Dispatcher, EventOutcome};
pub use registry::{EntityType, Registry};
