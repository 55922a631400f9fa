use starmodel::prelude::*;

include!("../shared/counter.rs");

// Refused: a parameter borrowing inside an `Option`.
counter! { #[event] fn label(&mut self, label: Option<&str>) { self.count = label.map_or(0, |l| l.len() as i64); } }

fn main() {}
