use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: a create event (no `self`) on an entity that is not a record.
counter! { #[event] fn start(count: i64) -> Counter { Counter { count, update_count: 0 } } }

fn main() {}
