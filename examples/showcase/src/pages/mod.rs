//! The showcase's pages, one module each.

pub mod counter;
pub mod todos;

use starmodel::prelude::*;

/// `/`: what the showcase holds.
pub async fn index() -> Markup {
    page_titled(
        "StarModel showcase",
        html! {
            h1 { "StarModel showcase" }
            p .muted { "Each page shows one part of the framework. Open any of them in two tabs." }
            ul {
                li {
                    a href=(href("/counter")) { "Counters" }
                    " — a per-session counter and a global one, live in every tab"
                }
                li {
                    a href=(href("/todos")) { "Todos" }
                    " — records in SQLite: add, toggle, rename, delete, filter, live in every tab"
                }
            }
        },
    )
}
