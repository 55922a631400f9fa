//! A change for another store is applied exactly once, even when the process is
//! killed (`SIGKILL`, nothing flushed) between the two commits.
//!
//! Notes live in one SQLite file, the board counter in another: adding a note
//! commits the note and an outbox entry in the first, then applies the counter's
//! event in the second. The test runs this binary again as a child process
//! (`crash_child`, ignored in normal runs) that holds one of the steps forever,
//! kills it there, and starts it again to see what the outbox makes of it:
//!
//! - held before the counter's commit: the next start applies it (counter 1);
//! - held after the counter's commit, before the entry is removed: the next start
//!   finds the marker and does not apply it again (counter still 1).

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use async_trait::async_trait;
use starmodel::core::event::EventInput;
use starmodel::core::store::{ListQuery, Page, UpdateFn, UpdateManyFn};
use starmodel::core::{EntityId, EntityKey, Record, Store, StoreError, UpdateOutcome};
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
    fn add(id: String, title: String, changes: &mut Changes) -> Result<Self, EventError> {
        changes.fire(Board::action().note_added())?;
        Ok(Note { id, title })
    }
}

#[derive(Entity, Clone, Debug, Default, Serialize, Deserialize)]
#[entity(scope = "global", store = "sql")]
pub struct Board {
    pub notes: i64,
}

#[events]
impl Board {
    #[event(internal)]
    fn note_added(&mut self) {
        self.notes += 1;
    }
}

/// Where the child stops forever.
#[derive(Clone, Copy, PartialEq)]
enum Hold {
    /// Nowhere.
    None,
    /// When the counter's store is asked to apply the change.
    Target,
    /// When the notes' store is asked to remove the delivered entry.
    Source,
}

/// A store that announces and then never finishes the write `hold` names.
struct Holding {
    inner: SqlStore,
    hold: Hold,
    target: bool,
}

impl Holding {
    async fn stop_here(&self) -> ! {
        println!("HOLDING");
        std::future::pending().await
    }
}

#[async_trait]
impl Store for Holding {
    fn attach(&self, schema: &'static starmodel::core::Schema) -> Result<(), StoreError> {
        self.inner.attach(schema)
    }
    async fn prepare(&self) -> Result<(), StoreError> {
        self.inner.prepare().await
    }
    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        self.inner.load(key).await
    }
    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        if !self.target && self.hold == Hold::Source && &*key.entity == "starmodel_outbox" {
            self.stop_here().await;
        }
        self.inner.update(key, f).await
    }
    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        if self.target && self.hold == Hold::Target {
            self.stop_here().await;
        }
        let outcomes = self.inner.update_many(keys, f).await?;
        if self.target {
            println!("APPLIED");
        }
        Ok(outcomes)
    }
    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        self.inner.list(entity).await
    }
    async fn query(&self, entity: &str, query: &ListQuery) -> Result<Page, StoreError> {
        self.inner.query(entity, query).await
    }
    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        self.inner.import(key, record).await
    }
}

async fn app(dir: &Path, hold: Hold) -> App {
    let url = |name: &str| format!("sqlite://{}", dir.join(name).display());
    let notes = SqlStore::connect(&url("notes.sqlite")).await.unwrap();
    let board = SqlStore::connect(&url("board.sqlite")).await.unwrap();
    let app = StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .sql_store(Arc::new(Holding {
            inner: notes,
            hold,
            target: false,
        }))
        .entity::<Note>()
        .entity_with_store::<Board>(Arc::new(Holding {
            inner: board,
            hold,
            target: true,
        }))
        .build()
        .unwrap();
    app.prepare().await.unwrap();
    app
}

/// The child: with `CRASH_HOLD` set, adds one note and holds where it says;
/// without, starts (which delivers the outbox) and prints what it finds.
#[tokio::test]
#[ignore = "run by the crash tests as their child process"]
async fn crash_child() {
    let dir = std::path::PathBuf::from(std::env::var("CRASH_DIR").unwrap());
    let hold = match std::env::var("CRASH_HOLD").as_deref() {
        Ok("target") => Hold::Target,
        Ok("source") => Hold::Source,
        _ => Hold::None,
    };
    let app = app(&dir, hold).await;
    if hold != Hold::None {
        let input = EventInput::new("note")
            .with_query([("id".into(), "n1".into()), ("title".into(), "first".into())]);
        app.dispatch("note", "add", "", &input).await.unwrap();
        panic!("the hold did not hold");
    }
    let notes = Note::all(&app).await.unwrap().len();
    let board = app
        .dispatcher()
        .state("board", &"global".into())
        .await
        .unwrap();
    let outbox = app
        .registry()
        .get("note")
        .unwrap()
        .store()
        .list("starmodel_outbox")
        .await
        .unwrap()
        .len();
    println!(
        "STATE notes={notes} board={} outbox={outbox}",
        board.value["notes"]
    );
}

/// Runs the child; with a hold, kills it (SIGKILL) once it holds. The child's
/// `STATE` line, if it printed one.
fn child(dir: &Path, hold: &str) -> Option<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CRASH_DIR", dir)
        .env("CRASH_HOLD", hold)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut state = None;
    let mut applied = false;
    // libtest starts the line (`test crash_child ... `) that the child's first
    // output continues.
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.ends_with("APPLIED") {
            applied = true;
        }
        if line.ends_with("HOLDING") {
            // The hold on the source comes after the counter's commit.
            assert_eq!(applied, hold == "source", "held at the wrong step");
            child.kill().unwrap();
            break;
        }
        if let Some((_, rest)) = line.split_once("STATE ") {
            state = Some(rest.to_owned());
        }
    }
    let status = child.wait().unwrap();
    if hold.is_empty() {
        assert!(status.success(), "the child failed: {status}");
    } else {
        assert!(!status.success(), "the child was killed");
    }
    state
}

fn killed_then_restarted(hold: &str) {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(child(dir.path(), hold), None);
    // Started again: the outbox is delivered (or found delivered) exactly once.
    let expected = "notes=1 board=1 outbox=0";
    assert_eq!(child(dir.path(), "").as_deref(), Some(expected));
    // And a third start changes nothing.
    assert_eq!(child(dir.path(), "").as_deref(), Some(expected));
}

#[test]
fn a_kill_before_the_second_commit_applies_the_change_on_restart() {
    killed_then_restarted("target");
}

#[test]
fn a_kill_after_the_second_commit_does_not_apply_the_change_again() {
    killed_then_restarted("source");
}
