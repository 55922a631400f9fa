//! Several parameters of different types: the builder takes them typed and encodes
//! them into the query string.

use starmodel::core::EventInput;
use starmodel::core::event::Changes;
use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub age: u8,
    pub admin: bool,
    pub note: Option<String>,
}

#[events]
impl Profile {
    #[event]
    fn update(&mut self, name: String, age: u8, admin: bool, note: Option<String>) {
        self.name = name;
        self.age = age;
        self.admin = admin;
        self.note = note;
    }

    #[event]
    fn tag(&mut self, r#type: String, tags: Vec<String>) {
        self.note = Some(format!("{type}: {}", tags.join(",")));
    }
}

fn main() {
    assert_eq!(
        Profile::action()
            .update("Ada L.".to_owned(), 36, true, None)
            .to_string(),
        "@post('/profile/update?name=Ada%20L.&age=36&admin=true')"
    );
    assert_eq!(
        Profile::action()
            .update("it's & more".to_owned(), 7, false, Some("n=1".to_owned()))
            .to_string(),
        "@post('/profile/update?name=it%27s%20%26%20more&age=7&admin=false&note=n%3D1')"
    );
    // A `String` that looks like a number stays text, on both ends.
    assert_eq!(
        Profile::action()
            .update("10".to_owned(), 1, false, None)
            .url(),
        "/profile/update?name=10&age=1&admin=false"
    );
    // Raw identifiers lose their `r#` in the request field name.
    assert_eq!(
        Profile::action()
            .tag("kind".to_owned(), vec!["a".to_owned(), "b c".to_owned()])
            .url(),
        "/profile/tag?type=kind&tags=%5B%22a%22%2C%22b%20c%22%5D"
    );
    assert_eq!(
        Profile::events()[0].spec.params,
        ["name", "age", "admin", "note"]
    );
    assert_eq!(Profile::events()[1].spec.params, ["type", "tags"]);

    // What the builder encodes, the handler decodes.
    let mut profile = Profile::default();
    let input = EventInput::new("profile").with_query([
        ("name".to_owned(), "10".to_owned()),
        ("age".to_owned(), "36".to_owned()),
        ("admin".to_owned(), "true".to_owned()),
    ]);
    let output = (Profile::events()[0].handler.as_update().expect("an update event"))(&mut profile, &input, &mut Changes::default());
    assert!(output.is_ok(), "{output:?}");
    assert_eq!(profile.name, "10");
    assert_eq!(profile.age, 36);
    assert!(profile.admin);
    assert_eq!(profile.note, None);

    let input = EventInput::new("profile").with_query([
        ("type".to_owned(), "kind".to_owned()),
        ("tags".to_owned(), "[\"a\",\"b c\"]".to_owned()),
    ]);
    let output = (Profile::events()[1].handler.as_update().expect("an update event"))(&mut profile, &input, &mut Changes::default());
    assert!(output.is_ok(), "{output:?}");
    assert_eq!(profile.note.as_deref(), Some("kind: a,b c"));
}
