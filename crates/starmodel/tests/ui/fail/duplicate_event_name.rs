use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: two events answering to one name.
counter! { #[event(name = "increment")] fn add_one(&mut self) { self.count += 1; } }

fn main() {}
