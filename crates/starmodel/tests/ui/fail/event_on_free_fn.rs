use starmodel::prelude::*;

#[event]
fn increment(count: &mut i64) {
    *count += 1;
}

fn main() {}
