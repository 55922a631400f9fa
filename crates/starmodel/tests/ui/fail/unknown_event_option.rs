use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an option `#[event]` does not have.
counter! { #[event(path = "/inc")] fn bump(&mut self) { self.count += 1; } }

fn main() {}
