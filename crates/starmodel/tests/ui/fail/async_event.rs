use starmodel::prelude::*;

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Note {
    #[entity(id)]
    pub id: String,
}

// Refused: an async create event, and an async event firing changes.
#[events]
impl Note {
    #[event]
    async fn add(id: String) -> Note {
        Note { id }
    }
}

fn main() {}
