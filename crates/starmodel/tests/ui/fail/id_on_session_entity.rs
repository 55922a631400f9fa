use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(scope = "session")]
pub struct Cart {
    #[entity(id)]
    pub id: u64,
    pub items: Vec<String>,
}

fn main() {}
