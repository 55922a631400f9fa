use starmodel::prelude::*;

include!("../shared/counter.rs");
counter! {}

#[events]
impl Counter {
    #[event]
    fn reset(&mut self) {
        self.count = 0;
    }
}

fn main() {}
