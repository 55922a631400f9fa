use starmodel::prelude::*;

// Refused: `api` takes `"all"` or `"events"`.
#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record", api = "readonly")]
pub struct Note {
    #[entity(id)]
    pub id: String,
}

fn main() {}
