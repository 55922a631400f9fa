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

    #[event(name = "increment")]
    fn add_one(&mut self) {
        self.count += 1;
    }
}

fn main() {}
