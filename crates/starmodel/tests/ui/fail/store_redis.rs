use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "redis")]
pub struct Counter {
    pub count: i64,
}

fn main() {}
