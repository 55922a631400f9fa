//! The notes board of the app-model issue, as a test app: SQL notes, a global
//! "notes on the board" counter changed by the notes' own events in the same unit
//! of work, entity hooks that every write path runs, server-filled fields.
//!
//! The board runs on every store: notes and counter in one memory store, in one
//! SQLite, PostgreSQL or MySQL database (one transaction), and notes in SQLite
//! with the counter in memory (the outbox). Eight writers create notes at once
//! through page events, the JSON API's event operations and the `App` handle
//! (what the admin and the command line call); the counter ends exact.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use starmodel::core::event::EventInput;
use starmodel::core::{MemoryStore, Store};
use starmodel::prelude::*;
use starmodel::testing::TestClient;

/// The board holds at most this many notes.
const ROOM: i64 = 40;

#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record", store = "sql", api = "events", hooks)]
pub struct Note {
    /// Made by the server (`on_create`).
    #[entity(id, server)]
    pub id: String,
    #[entity(validate(length(min = 1, max = 80)))]
    pub title: String,
    pub pinned: bool,
    /// Milliseconds since the epoch, set by the server.
    #[entity(server)]
    pub created_ms: i64,
}

impl Hooks for Note {
    fn on_create(&mut self) {
        if self.id.is_empty() {
            self.id = starmodel::core::entity::new_uuid_v4();
        }
        self.created_ms = 1_700_000_000_000;
    }

    fn normalize(&mut self) {
        self.title = self.title.trim().to_owned();
    }

    fn check(&self) -> Result<(), Vec<FieldError>> {
        if self.title.eq_ignore_ascii_case("spam") {
            return Err(vec![FieldError {
                field: "title".into(),
                message: "looks like spam".into(),
            }]);
        }
        Ok(())
    }
}

#[events]
impl Note {
    #[event]
    fn add(title: String, changes: &mut Changes) -> Result<Self, EventError> {
        changes.fire(Board::action().note_added(ROOM))?;
        Ok(Note {
            id: String::new(),
            title,
            pinned: false,
            created_ms: 0,
        })
    }

    #[event]
    fn pin(&mut self) {
        self.pinned = !self.pinned;
    }

    #[event]
    fn remove(&mut self, changes: &mut Changes) -> Result<Deleted, EventError> {
        changes.fire(Board::action().note_removed())?;
        Ok(Deleted)
    }
}

/// The counter: only the notes' events change it (its events have no route).
#[derive(Entity, Clone, Debug, Default, Serialize, Deserialize)]
#[entity(scope = "global")]
pub struct Board {
    pub notes: i64,
    pub created: i64,
}

#[events]
impl Board {
    #[event(internal)]
    fn note_added(&mut self, room: i64) -> Result<(), String> {
        if self.notes >= room {
            return Err(format!("the board is full ({room} notes)"));
        }
        self.notes += 1;
        self.created += 1;
        Ok(())
    }

    #[event(internal)]
    fn note_removed(&mut self) {
        self.notes -= 1;
    }
}

/// A second entity with the raw JSON API on: its hooks run there too.
#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(scope = "record", api, hooks)]
pub struct Memo {
    #[entity(id, server)]
    pub id: String,
    #[entity(validate(length(min = 1, max = 20)))]
    pub text: String,
    #[entity(server)]
    pub created_ms: i64,
}

impl Hooks for Memo {
    fn on_create(&mut self) {
        self.id = format!("memo-{}", self.text.trim().to_lowercase());
        self.created_ms = 42;
    }
    fn normalize(&mut self) {
        self.text = self.text.trim().to_owned();
    }
    fn check(&self) -> Result<(), Vec<FieldError>> {
        if self.text.eq_ignore_ascii_case("spam") {
            return Err(vec![FieldError {
                field: "text".into(),
                message: "looks like spam".into(),
            }]);
        }
        Ok(())
    }
}

#[events]
impl Memo {}

/// Where the board's two entities live.
enum Layout {
    /// Both in the app's memory store.
    Memory,
    /// Both in one SQL database.
    Sql(Arc<dyn Store>),
    /// Notes in SQL, the counter in memory.
    Split(Arc<dyn Store>),
}

fn board(layout: &Layout) -> StarModel {
    let memory = MemoryStore::new();
    let app = StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .memory_store(memory.clone())
        .mount(starmodel::api::JsonApi)
        .entity::<Memo>();
    match layout {
        Layout::Memory => app
            .entity_with_store::<Note>(Arc::new(memory.clone()))
            .entity::<Board>(),
        Layout::Sql(sql) => app
            .sql_store(sql.clone())
            .entity::<Note>()
            .entity_with_store::<Board>(sql.clone()),
        Layout::Split(sql) => app
            .sql_store(sql.clone())
            .entity::<Note>()
            .entity::<Board>(),
    }
}

async fn counter(app: &App) -> (i64, i64) {
    let state = app
        .dispatcher()
        .state("board", &"global".into())
        .await
        .unwrap();
    let board: Board = serde_json::from_value(state.value).unwrap();
    (board.notes, board.created)
}

fn api_post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Eight writers add `ROOM` notes through three paths at once, one more is
/// refused as a whole, removing one counts down, and the API keeps the
/// entity's rules.
async fn the_board_counts_exactly(layout: Layout) {
    let app = board(&layout).build().unwrap();
    app.prepare().await.unwrap();
    let writers = (0..8).map(|w| {
        let app = app.clone();
        tokio::spawn(async move {
            let client = TestClient::new(&app);
            for i in 0..ROOM / 8 {
                let title = format!("  note {w}-{i}  ");
                let status = match (w + i) % 3 {
                    0 => {
                        client
                            .event(&Note::create().add(title), json!({}))
                            .await
                            .status
                    }
                    1 => {
                        client
                            .send(api_post("/api/note/add", &json!({ "title": title })))
                            .await
                            .status
                    }
                    _ => {
                        let input =
                            EventInput::new("note").with_query([("title".to_owned(), title)]);
                        match app.dispatch("note", "add", "", &input).await {
                            Ok(_) => StatusCode::OK,
                            Err(e) => e.status(),
                        }
                    }
                };
                assert!(status.is_success(), "writer {w}, note {i}: {status}");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let notes = Note::all(&app).await.unwrap();
    assert_eq!(notes.len(), ROOM as usize);
    assert_eq!(counter(&app).await, (ROOM, ROOM));
    for note in &notes {
        assert!(note.title.starts_with("note "), "trimmed: {:?}", note.title);
        assert_eq!(note.created_ms, 1_700_000_000_000);
        assert_eq!(note.id.len(), 36);
    }

    // The board is full: the note's insert is undone with the counter's refusal
    // (in one store one transaction; across stores the counter is written first
    // by nothing, so the refusal comes from the delivery and is logged).
    let client = TestClient::new(&app);
    let full = client
        .send(api_post(
            "/api/note/add",
            &json!({ "title": "one too many" }),
        ))
        .await;
    if matches!(layout, Layout::Split(_)) {
        // Across stores the note commits first; the counter's refusal happens
        // on delivery, stays in the outbox and is reported, never applied twice.
        assert_eq!(full.status, StatusCode::CREATED, "{}", full.body);
        assert_eq!(counter(&app).await, (ROOM, ROOM));
    } else {
        assert_eq!(
            full.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            full.body
        );
        assert!(full.body.contains("the board is full"), "{}", full.body);
        assert_eq!(Note::all(&app).await.unwrap().len(), ROOM as usize);
        assert_eq!(counter(&app).await, (ROOM, ROOM));

        let gone = client
            .event(&Note::action(&notes[0].id).remove(), json!({}))
            .await;
        assert!(gone.status.is_success(), "{}", gone.body);
        assert_eq!(counter(&app).await, (ROOM - 1, ROOM));
        assert_eq!(Note::all(&app).await.unwrap().len(), ROOM as usize - 1);
    }

    // The API cannot skip the entity's logic: no raw create, no server fields,
    // the hooks' rules.
    let raw = client
        .send(api_post("/api/note", &json!({ "title": "raw" })))
        .await;
    assert_eq!(raw.status, StatusCode::METHOD_NOT_ALLOWED, "{}", raw.body);
    let spam = client
        .send(api_post("/api/note/add", &json!({ "title": "  SPAM " })))
        .await;
    assert_eq!(
        spam.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        spam.body
    );
    assert!(spam.body.contains("looks like spam"), "{}", spam.body);
    // The counter's event is not an endpoint.
    let direct = client
        .event(&Board::action().note_removed(), json!({}))
        .await;
    assert_eq!(direct.status, StatusCode::NOT_FOUND, "{}", direct.body);
}

#[tokio::test]
async fn board_in_memory() {
    the_board_counts_exactly(Layout::Memory).await;
}

#[tokio::test]
async fn board_on_sqlite() {
    let db = starmodel::sql::testing::TempDatabase::sqlite().unwrap();
    let store = starmodel::sql::SqlStore::connect(db.url()).await.unwrap();
    the_board_counts_exactly(Layout::Sql(Arc::new(store))).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn board_on_postgres() {
    let Some(db) = starmodel::sql::testing::TempDatabase::from_env("DATABASE_URL_POSTGRES").await
    else {
        return;
    };
    let store = starmodel::sql::SqlStore::connect(db.url()).await.unwrap();
    the_board_counts_exactly(Layout::Sql(Arc::new(store))).await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn board_on_mysql() {
    let Some(db) = starmodel::sql::testing::TempDatabase::from_env("DATABASE_URL_MYSQL").await
    else {
        return;
    };
    let store = starmodel::sql::SqlStore::connect(db.url()).await.unwrap();
    the_board_counts_exactly(Layout::Sql(Arc::new(store))).await;
}

#[tokio::test]
async fn board_across_sqlite_and_memory() {
    let db = starmodel::sql::testing::TempDatabase::sqlite().unwrap();
    let store = starmodel::sql::SqlStore::connect(db.url()).await.unwrap();
    the_board_counts_exactly(Layout::Split(Arc::new(store))).await;
}

/// The raw JSON API runs the hooks: trims, fills the server's fields, refuses
/// what `check` refuses and what only the server may set.
#[tokio::test]
async fn raw_api_writes_run_the_hooks() {
    let app = board(&Layout::Memory).build().unwrap();
    let client = TestClient::new(&app);
    let made = client
        .send(api_post("/api/memo", &json!({ "text": "  Hello " })))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        made.json(),
        json!({ "id": "memo-hello", "text": "Hello", "created_ms": 42 })
    );
    let spam = client
        .send(api_post("/api/memo", &json!({ "text": "spam" })))
        .await;
    assert_eq!(
        spam.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        spam.body
    );
    let forged = client
        .send(api_post(
            "/api/memo",
            &json!({ "text": "x", "created_ms": 1 }),
        ))
        .await;
    assert_eq!(
        forged.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        forged.body
    );
    assert!(forged.body.contains("set by the server"), "{}", forged.body);

    let put = Request::put("/api/memo/memo-hello")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "text": " Bye  " }).to_string()))
        .unwrap();
    let replaced = client.send(put).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(
        replaced.json(),
        json!({ "id": "memo-hello", "text": "Bye", "created_ms": 42 }),
        "normalized, and the server's fields kept"
    );
    let patch = Request::patch("/api/memo/memo-hello")
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .body(Body::from(json!({ "text": "SPAM" }).to_string()))
        .unwrap();
    assert_eq!(
        client.send(patch).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let doc = client
        .send(
            Request::get("/api/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    let create = &doc["components"]["schemas"];
    let text = create.to_string();
    assert!(
        text.contains("\"readOnly\":true"),
        "server fields are read-only: {text}"
    );
    assert!(
        doc["paths"]["/api/note/add"]["post"].is_object(),
        "create events are operations"
    );
    assert!(doc["paths"]["/api/board/global/note_added"].is_null());
}
