use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: a borrowed parameter.
counter! { #[event] fn rename(&mut self, name: &str) { self.count = name.len() as i64; } }

fn main() {}
