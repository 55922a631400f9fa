//! Parameters may be named like the generated handler's locals, and record
//! entities build their action URLs from the record's id.

use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Form {
    pub input: String,
    pub this: i64,
}

#[events]
impl Form {
    #[event]
    fn set(&mut self, input: String, this: i64) {
        self.input = input;
        self.this = this;
    }
}

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record")]
pub struct Todo {
    #[entity(id)]
    pub id: String,
    pub done: bool,
}

#[events]
impl Todo {
    #[event]
    fn toggle(&mut self) {
        self.done = !self.done;
    }
}

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct HTTPCounter2D {
    pub n: i64,
}

#[events]
impl HTTPCounter2D {}

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
}

fn main() {
    assert_eq!(
        Form::action().set("a".to_owned(), 2).to_string(),
        "@post('/form/set?input=a&this=2')"
    );
    assert_eq!(
        Todo::action("a b/1").toggle().to_string(),
        "@post('/todo/a%20b%2F1/toggle')"
    );
    assert_eq!(HTTPCounter2D::NAME, "http_counter2_d");
    assert_eq!(Note::action().clear().to_string(), "@post('/note/clear')");
}

mod elsewhere {
    //! `#[events]` on an impl in another module than the entity.
    use starmodel::prelude::*;

    #[events]
    impl super::Note {
        #[event]
        fn clear(&mut self) {
            self.text.clear();
        }
    }
}
