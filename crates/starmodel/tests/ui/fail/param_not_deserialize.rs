use starmodel::prelude::*;

pub struct Point {
    pub x: i64,
}

include!("../shared/counter.rs");
counter! { #[event] fn jump(&mut self, to: Point) { self.count = to.x; } }

fn main() {}
