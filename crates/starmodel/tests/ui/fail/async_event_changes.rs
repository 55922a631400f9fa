use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: an async event cannot fire changes (yet).
counter! { #[event] async fn bump(&mut self, changes: &mut Changes) { let _ = changes; self.count += 1; } }

fn main() {}
