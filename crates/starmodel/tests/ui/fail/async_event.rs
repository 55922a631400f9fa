use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an `async fn` event.
counter! { #[event] async fn bump(&mut self) { self.count += 1; } }

fn main() {}
