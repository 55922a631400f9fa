use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an event taking `self` by value.
counter! { #[event] fn consume(self) -> i64 { self.count } }

fn main() {}
