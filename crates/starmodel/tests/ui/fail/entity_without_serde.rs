use starmodel::prelude::*;

#[derive(Entity, Clone, Default)]
pub struct Counter {
    pub count: i64,
}

fn main() {}
