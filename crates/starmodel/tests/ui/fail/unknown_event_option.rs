use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event(path = "/inc")]
    fn increment(&mut self) {
        self.count += 1;
    }
}

fn main() {}
