//! An event may be called `find` (or `create`, `list`, `all`, `action`) on the
//! wire: the method takes another name, `#[event(name = "..")]` keeps the event's.

use starmodel::prelude::*;

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Note {
    #[entity(id)]
    pub id: String,
    pub text: String,
}

#[events]
impl Note {
    #[event(name = "find")]
    fn look_up(&mut self) {
        self.text.clear();
    }
}

fn main() {
    assert_eq!(Note::events()[0].spec.name, "find");
    assert_eq!(
        Note::action("a").look_up().to_string(),
        "@post('/note/a/find')"
    );
}
