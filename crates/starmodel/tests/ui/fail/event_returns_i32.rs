use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn increment(&mut self) -> i32 {
        self.count += 1;
        self.count as i32
    }
}

fn main() {}
