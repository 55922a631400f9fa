use starmodel::prelude::*;

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Todo {
    #[entity(id)]
    pub id: String,
    #[entity(validate(lenght(max = 10)))]
    pub title: String,
}

fn main() {}
