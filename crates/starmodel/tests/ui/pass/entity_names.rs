//! Entity names: snake_case of the type by default, `#[entity(name)]` to override;
//! global and record scopes.

use starmodel::core::{Scope, StoreKind};
use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "global")]
pub struct GlobalCounter {
    pub count: i64,
}

#[events]
impl GlobalCounter {
    #[event]
    fn increment(&mut self) {
        self.count += 1;
    }
}

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(name = "c2")]
pub struct SecondCounter {
    pub count: i64,
}

#[events]
impl SecondCounter {
    #[event]
    fn increment(&mut self) {
        self.count += 1;
    }
}

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record", store = "memory")]
pub struct Todo {
    #[entity(id)]
    pub id: u64,
    pub title: String,
    pub done: Option<bool>,
}

fn main() {
    assert_eq!(GlobalCounter::NAME, "global_counter");
    assert_eq!(GlobalCounter::SCOPE, Scope::Global);
    assert_eq!(
        GlobalCounter::action().increment().to_string(),
        "@post('/global_counter/increment')"
    );
    assert_eq!(
        GlobalCounter::signal().count.to_string(),
        "$global_counter.count"
    );

    // Defaults: session scope, memory store.
    assert_eq!(SecondCounter::NAME, "c2");
    assert_eq!(SecondCounter::SCOPE, Scope::Session);
    assert_eq!(SecondCounter::STORE, StoreKind::Memory);
    assert_eq!(
        SecondCounter::action().increment().to_string(),
        "@post('/c2/increment')"
    );
    assert_eq!(SecondCounter::signal().count.to_string(), "$c2.count");

    assert_eq!(Todo::NAME, "todo");
    assert_eq!(Todo::SCOPE, Scope::Record);
    let schema = Todo::schema();
    let id = schema.field("id").expect("id field");
    assert!(id.id);
    assert!(!id.nullable);
    let done = schema.field("done").expect("done field");
    assert!(!done.id);
    assert!(done.nullable);
    assert_eq!(done.rust_type, "Option<bool>");
    assert_eq!(Todo::signal().title.path(), "todo.title");
}
