use starmodel::prelude::*;

// Refused: `find` is generated on record entities (`Note::find(&app, id)`).
#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Note {
    #[entity(id)]
    pub id: String,
    pub text: String,
}

#[events]
impl Note {
    #[event]
    fn find(&mut self, text: String) {
        self.text = text;
    }
}

fn main() {}
