use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn increment(&mut self) {
        self.count += 1;
    }
}

#[events]
impl Counter {
    #[event]
    fn reset(&mut self) {
        self.count = 0;
    }
}

fn main() {}
