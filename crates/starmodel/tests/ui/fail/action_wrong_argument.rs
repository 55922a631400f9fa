use starmodel::prelude::*;

include!("../shared/counter.rs");
counter! {}

fn main() {
    let _ = Counter::action().increment("ten");
}
