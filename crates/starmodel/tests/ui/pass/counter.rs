//! The DESIGN counter: names, scope, signals, event specs and typed actions.

use starmodel::core::{EventMethod, Scope, StoreKind};
use starmodel::prelude::*;

include!("../shared/counter.rs");
counter! { reset }

fn main() {
    assert_eq!(Counter::NAME, "counter");
    assert_eq!(Counter::SCOPE, Scope::Session);
    assert_eq!(Counter::STORE, StoreKind::Memory);

    assert_eq!(
        Counter::action().increment(Some(10)).to_string(),
        "@post('/counter/increment?amount=10')"
    );
    assert_eq!(
        Counter::action().increment(None).to_string(),
        "@post('/counter/increment')"
    );
    assert_eq!(
        Counter::action().reset().to_string(),
        "@post('/counter/reset')"
    );
    assert_eq!(Counter::action().reset().method(), EventMethod::Post);

    assert_eq!(Counter::signal().count.to_string(), "$counter.count");
    assert_eq!(
        Counter::signal().update_count.path(),
        "counter.update_count"
    );

    let events = <Counter as Events>::events();
    let names: Vec<&str> = events.iter().map(|e| e.spec.name).collect();
    assert_eq!(names, ["increment", "reset"]);

    let increment = events[0].spec;
    assert_eq!(increment.method, EventMethod::Post);
    assert_eq!(increment.params, ["amount"]);
    assert_eq!(increment.selector, None);
    assert_eq!(increment.mode, None);

    let reset = events[1].spec;
    assert_eq!(reset.method, EventMethod::Post);
    assert!(reset.params.is_empty());
    assert_eq!(reset.selector, Some("#status"));
    assert_eq!(reset.mode, None);

    let schema = Counter::schema();
    assert_eq!(schema.name, "counter");
    let fields: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
    assert_eq!(fields, ["count", "update_count"]);

    // The action renders into markup as an attribute value.
    let markup = html! { button "data-on:click"=(Counter::action().increment(Some(1))) { "+1" } };
    assert_eq!(
        markup.into_string(),
        "<button data-on:click=\"@post('/counter/increment?amount=1')\">+1</button>"
    );
}
