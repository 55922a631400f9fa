use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn consume(self) -> i64 {
        self.count
    }
}

fn main() {}
