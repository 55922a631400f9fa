//! `/counter`: a session counter (yours, in every tab of this browser) beside a
//! global one (everybody's), both live.

use starmodel::prelude::*;
use starmodel::{Action, SignalRef};

/// One counter per browser session.
#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "session")]
pub struct Counter {
    /// The value.
    pub count: i64,
    /// How many events changed it.
    pub update_count: i64,
}

/// One counter for everybody.
#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "global")]
pub struct GlobalCounter {
    /// The value.
    pub count: i64,
    /// How many events changed it.
    pub update_count: i64,
}

fn add(count: i64, amount: Option<i64>) -> Result<i64, String> {
    count.checked_add(amount.unwrap_or(1)).ok_or_else(|| {
        format!("the counter cannot go past {}", if count > 0 { i64::MAX } else { i64::MIN })
    })
}

#[events]
impl Counter {
    /// Adds `amount` (default 1).
    #[event]
    fn increment(&mut self, amount: Option<i64>) -> Result<(), String> {
        self.count = add(self.count, amount)?;
        self.update_count += 1;
        Ok(())
    }

    /// Back to zero; says so in the status line.
    #[event(selector = "#session-status")]
    fn reset(&mut self) -> Markup {
        self.count = 0;
        self.update_count += 1;
        html! { p #session-status .muted { "Reset." } }
    }
}

#[events]
impl GlobalCounter {
    /// Adds `amount` (default 1).
    #[event]
    fn increment(&mut self, amount: Option<i64>) -> Result<(), String> {
        self.count = add(self.count, amount)?;
        self.update_count += 1;
        Ok(())
    }

    /// Back to zero; says so in the status line.
    #[event(selector = "#global-status")]
    fn reset(&mut self) -> Markup {
        self.count = 0;
        self.update_count += 1;
        html! { p #global-status .muted { "Reset." } }
    }
}

struct Card<'a> {
    id: &'a str,
    title: &'a str,
    note: &'a str,
    count: i64,
    signal: SignalRef,
    buttons: [(&'a str, Action); 4],
}

fn card(c: Card<'_>) -> Markup {
    let status = format!("{}-status", c.id.trim_end_matches("-counter"));
    html! {
        section .card id=(c.id) {
            h2 { (c.title) }
            p .muted { (c.note) }
            div .count "data-text"=(c.signal) { (c.count) }
            div .buttons {
                @for (label, action) in &c.buttons {
                    button "data-on:click"=(action) { (label) }
                }
            }
            p id=(status) .muted {}
        }
    }
}

/// `/counter`.
pub async fn page(counter: Counter, global: GlobalCounter) -> Markup {
    let mine = Counter::action();
    let ours = GlobalCounter::action();
    page_titled(
        "Counters · StarModel",
        html! {
            p { a href=(href("/")) { "← showcase" } }
            h1 { "Counters" }
            (counter)
            (global)
            div .row {
                (card(Card {
                    id: "session-counter",
                    title: "Your counter",
                    note: "Per session: every tab of this browser shares it.",
                    count: counter.count,
                    signal: Counter::signal().count,
                    buttons: [
                        ("-1", mine.increment(Some(-1))),
                        ("+1", mine.increment(Some(1))),
                        ("+10", mine.increment(Some(10))),
                        ("Reset", mine.reset()),
                    ],
                }))
                (card(Card {
                    id: "global-counter",
                    title: "Everybody's counter",
                    note: "Global: every visitor sees the same value.",
                    count: global.count,
                    signal: GlobalCounter::signal().count,
                    buttons: [
                        ("-1", ours.increment(Some(-1))),
                        ("+1", ours.increment(Some(1))),
                        ("+10", ours.increment(Some(10))),
                        ("Reset", ours.reset()),
                    ],
                }))
            }
        },
    )
}
