use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(scope = "record", admin)]
pub struct Todo {
    #[entity(id)]
    pub id: i64,
    pub title: String,
}

fn main() {}
