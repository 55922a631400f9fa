use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn rename(&mut self, name: &str) {
        self.count = name.len() as i64;
    }
}

fn main() {}
