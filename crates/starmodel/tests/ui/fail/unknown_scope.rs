use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(scope = "weird")]
pub struct Counter {
    pub count: i64,
}

fn main() {}
