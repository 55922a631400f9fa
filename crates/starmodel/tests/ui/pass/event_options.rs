//! `#[event(method, name, selector, mode)]`, `Result` returns, `&self` events and
//! plain methods living beside events in one `#[events]` impl.

use starmodel::core::EventMethod;
use starmodel::core::event::ElementPatchMode;
use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "session")]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event(method = "delete", name = "clear")]
    fn wipe(&mut self) {
        self.count = 0;
    }

    #[event(method = "PUT", selector = "#list", mode = "append")]
    fn add_row(&mut self) -> Markup {
        self.count += 1;
        html! { li { (self.count) } }
    }

    #[event(method = "get", name = "peek-value")]
    fn peek(&self) -> Result<Markup, String> {
        Ok(html! { span { (self.count) } })
    }

    #[event]
    fn checked_add(&mut self, amount: i64) -> Result<(), String> {
        self.count = self
            .count
            .checked_add(amount)
            .ok_or_else(|| "the counter would overflow".to_owned())?;
        Ok(())
    }

    /// Not an event: stays an ordinary method.
    fn doubled(&self) -> i64 {
        self.count * 2
    }

    /// Not an event either, and takes a parameter type no event could.
    fn bump_by(&mut self, by: &i64) {
        self.count += *by;
    }
}

fn main() {
    assert_eq!(
        Counter::action().wipe().to_string(),
        "@delete('/counter/clear')"
    );
    assert_eq!(
        Counter::action().add_row().to_string(),
        "@put('/counter/add_row')"
    );
    assert_eq!(
        Counter::action().peek().to_string(),
        "@get('/counter/peek-value')"
    );
    assert_eq!(
        Counter::action().checked_add(-3).to_string(),
        "@post('/counter/checked_add?amount=-3')"
    );

    let specs: Vec<_> = Counter::events().iter().map(|e| e.spec).collect();
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    // Plain methods are not events.
    assert_eq!(names, ["clear", "add_row", "peek-value", "checked_add"]);
    assert_eq!(specs[0].method, EventMethod::Delete);
    assert_eq!(specs[1].method, EventMethod::Put);
    assert_eq!(specs[1].selector, Some("#list"));
    assert_eq!(specs[1].mode, Some(ElementPatchMode::Append));
    assert_eq!(specs[2].method, EventMethod::Get);
    assert_eq!(specs[3].method, EventMethod::Post);
    assert_eq!(specs[3].params, ["amount"]);

    let mut counter = Counter { count: 4 };
    assert_eq!(counter.doubled(), 8);
    counter.bump_by(&1);
    assert_eq!(counter.count, 5);
    // Event methods remain callable as methods too.
    counter.wipe();
    assert_eq!(counter.count, 0);
    assert!(counter.checked_add(i64::MAX).is_ok());
    assert_eq!(
        counter.checked_add(1),
        Err("the counter would overflow".to_owned())
    );
}
