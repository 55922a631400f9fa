//! Reactions: run after every committed change of their entity, at least once,
//! with a key that is the same for every delivery of one change.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use starmodel::core::EventInput;
use starmodel::prelude::*;
use starmodel::sql::SqlStore;

#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(scope = "record", store = "sql")]
pub struct Note {
    #[entity(id)]
    pub id: String,
    pub title: String,
}

#[events]
impl Note {
    #[event]
    fn add(id: String, title: String) -> Note {
        Note { id, title }
    }

    #[event]
    fn rename(&mut self, title: String) {
        self.title = title;
    }
}

/// What the reaction saw: (key, id, title or None when deleted).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

async fn app(url: &str, seen: &Seen, fail: bool) -> App {
    let seen = seen.clone();
    let app = StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .sql_store(Arc::new(SqlStore::connect(url).await.unwrap()))
        .entity::<Note>()
        .reaction::<Note, _, _>("index", move |_app, change| {
            let seen = seen.clone();
            async move {
                if fail {
                    return Err("the index is down".to_owned());
                }
                seen.lock().unwrap().push((
                    change.key,
                    change.id.to_string(),
                    change.entity.map(|n| n.title),
                ));
                Ok(())
            }
        })
        .build()
        .unwrap();
    app.prepare().await.unwrap();
    app
}

async fn add(app: &App, id: &str, title: &str) {
    let input = EventInput::new("note")
        .with_query([("id".into(), id.into()), ("title".into(), title.into())]);
    app.dispatch("note", "add", "", &input).await.unwrap();
}

async fn pending(app: &App) -> usize {
    let store = app.registry().get("note").unwrap().store().clone();
    store.list("starmodel_outbox").await.unwrap().len()
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not {what} within 2 s");
}

#[tokio::test]
async fn every_change_reaches_the_reaction() {
    let db = starmodel::sql::testing::TempDatabase::sqlite().unwrap();
    let seen = Seen::default();
    let app = app(db.url(), &seen, false).await;
    add(&app, "n1", "first").await;
    let input = EventInput::new("note").with_query([("title".into(), "renamed".into())]);
    app.dispatch("note", "rename", "n1", &input).await.unwrap();
    until("two deliveries", async || seen.lock().unwrap().len() == 2).await;
    until("the outbox emptied", async || pending(&app).await == 0).await;
    let seen = seen.lock().unwrap().clone();
    assert_ne!(seen[0].0, seen[1].0, "each change has its own key");
    assert!(seen.iter().all(|(_, id, _)| id == "n1"));
    assert_eq!(seen[1].2.as_deref(), Some("renamed"));
}

/// A reaction that fails keeps its change in the outbox, in the same database as
/// the note; the next start runs it, once, with the same key.
#[tokio::test]
async fn a_failed_reaction_runs_again_after_a_restart() {
    let db = starmodel::sql::testing::TempDatabase::sqlite().unwrap();
    let seen = Seen::default();
    let down = app(db.url(), &seen, true).await;
    add(&down, "n1", "first").await;
    // Delivered at once, failed, kept.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(pending(&down).await, 1);
    let key = down
        .registry()
        .get("note")
        .unwrap()
        .store()
        .list("starmodel_outbox")
        .await
        .unwrap()[0]
        .0
        .to_string();
    down.shutdown().await;
    drop(down);

    let up = app(db.url(), &seen, false).await; // `prepare` delivers
    assert_eq!(pending(&up).await, 0);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, key, "the same key as the first, failed delivery");
    assert_eq!(seen[0].2.as_deref(), Some("first"));
}
