//! `/todos`: records in SQLite — add, toggle, rename, delete, filter — live in
//! every open tab.

use {starmodel::prelude::*, uuid::Uuid};

/// One thing to do: a row of the `todo` table.
#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(store = "sql", scope = "record", api)]
pub struct Todo {
    /// The record's id: a UUID v7, so the list (ordered by id) is in the order
    /// todos were added.
    #[entity(id)]
    pub id: Uuid,
    /// What to do.
    #[entity(validate(length(min = 1, max = 200)))]
    pub title: String,
    /// Whether it is done.
    #[entity(index)]
    pub done: bool,
}

#[events]
impl Todo {
    /// A new todo (`POST /todo/add`).
    #[event]
    fn add(title: String) -> Self {
        Todo { id: Uuid::now_v7(), title: title.trim().to_owned(), done: false }
    }

    /// Done ↔ not done.
    #[event]
    fn toggle(&mut self) {
        self.done = !self.done;
    }

    /// A new title.
    #[event]
    fn rename(&mut self, title: String) {
        self.title = title.trim().to_owned();
    }

    /// Gone.
    #[event]
    fn remove(&mut self) -> Deleted {
        Deleted
    }
}

/// The live list: rendered once per change, sent to every open `/todos`.
pub fn list(todos: &[Todo]) -> Markup {
    html! {
        ul .todos {
            @for t in todos {
                li .done[t.done] "data-show"=(format!("$filter != '{}'", if t.done { "active" } else { "done" })) {
                    input type="checkbox" checked[t.done] "data-on:change"=(Todo::action(t.id).toggle());
                    input .title value=(t.title) "data-on:change"=(Todo::action(t.id).rename(FromJs("evt.target.value")));
                    button .remove title="Delete" "data-on:click"=(Todo::action(t.id).remove()) { "×" }
                }
            }
        }
        p .muted #todo-count { (todos.iter().filter(|t| !t.done).count()) " of " (todos.len()) " left" }
    }
}

/// `/todos`.
pub async fn page() -> Result<Markup, ErrorResponse> {
    // Cleared by the page shell once the add succeeded (`data-starmodel-reset`).
    let add = Todo::create().add(FromSignals).to_string();
    let body = html! {
        p { a href=(href("/")) { "← showcase" } } h1 { "Todos" }
        form #todo-form data-starmodel-reset "data-signals"="{title: '', filter: 'all'}" "data-on:submit__prevent"=(add) {
            input #new-title "data-bind"="title" placeholder="What needs doing?" maxlength="200";
            button type="submit" { "Add" }
        }
        nav .filters { @for f in ["all", "active", "done"] {
            button "data-on:click"=(format!("$filter = '{f}'")) "data-class:active"=(format!("$filter == '{f}'")) { (f) }
        } }
        (live_view("todos").await?)
    };
    Ok(page_titled("Todos · StarModel", body))
}
