use starmodel::prelude::*;

include!("../shared/counter.rs");
counter! {}

fn main() {
    let _ = Counter::action().incremnt(Some(1));
}
