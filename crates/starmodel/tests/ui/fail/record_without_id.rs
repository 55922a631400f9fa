use starmodel::prelude::*;

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Todo {
    pub id: u64,
    pub title: String,
}

fn main() {}
