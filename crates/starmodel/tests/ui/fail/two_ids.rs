use starmodel::prelude::*;

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Todo {
    #[entity(id)]
    pub id: u64,
    #[entity(id)]
    pub slug: String,
}

fn main() {}
