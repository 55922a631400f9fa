use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an event returning a type that is not an event output.
counter! { #[event] fn bump(&mut self) -> i32 { self.count += 1; self.count as i32 } }

fn main() {}
