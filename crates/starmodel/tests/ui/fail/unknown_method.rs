use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an HTTP method events do not use.
counter! { #[event(method = "fetch")] fn bump(&mut self) { self.count += 1; } }

fn main() {}
