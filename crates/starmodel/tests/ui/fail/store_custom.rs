use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "custom")]
pub struct Counter {
    pub count: i64,
}

fn main() {}
