//! `#[event] async fn` and parameters injected by type: the instance stays
//! serialized while an async event runs, a slow one times out (503) and changes
//! nothing, and events get the request's headers, the `App`, the session and
//! application state.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use serde_json::json;
use starmodel::prelude::*;
use starmodel::testing::TestClient;

/// Shared with the events through `State`.
#[derive(Clone, Default)]
pub struct Calls(Arc<AtomicUsize>);

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(scope = "global")]
pub struct Ledger {
    pub total: i64,
    pub last_agent: String,
    pub entities: usize,
}

#[events]
impl Ledger {
    /// Reads the total, waits, writes it back plus one: only serialized runs
    /// add up.
    #[event]
    async fn add_slowly(&mut self, calls: State<Calls>) {
        calls.0.0.fetch_add(1, Ordering::SeqCst);
        let before = self.total;
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.total = before + 1;
    }

    #[event]
    async fn hang(&mut self) {
        self.total = -1;
        tokio::time::sleep(Duration::from_secs(60)).await;
    }

    #[event]
    fn note_agent(&mut self, headers: HeaderMap, app: App, session: Session, tag: String) {
        let agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        self.last_agent = format!("{agent} {tag} {}", session.id().as_str().len());
        self.entities = app.registry().iter().count();
    }
}

fn app() -> App {
    StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .state(Calls::default())
        .event_timeout(Duration::from_millis(200))
        .entity::<Ledger>()
        .build()
        .unwrap()
}

async fn ledger(app: &App) -> Ledger {
    let state = app
        .dispatcher()
        .state("ledger", &"global".into())
        .await
        .unwrap();
    serde_json::from_value(state.value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_events_on_one_instance_run_one_at_a_time() {
    let app = app();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = TestClient::new(&app);
            tokio::spawn(async move {
                for _ in 0..5 {
                    let r = client
                        .event(&Ledger::action().add_slowly(), json!({}))
                        .await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(ledger(&app).await.total, 40);
}

#[tokio::test]
async fn a_slow_async_event_times_out_and_changes_nothing() {
    let app = app();
    let client = TestClient::new(&app);
    client
        .event(&Ledger::action().add_slowly(), json!({}))
        .await;
    let r = client.event(&Ledger::action().hang(), json!({})).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.body.contains("took longer than 200 ms"), "{}", r.body);
    assert_eq!(ledger(&app).await.total, 1, "nothing written");
}

#[tokio::test]
async fn events_get_headers_the_app_the_session_and_state() {
    let app = app();
    let client = TestClient::new(&app);
    let req = Request::post("/ledger/note_agent?tag=hi")
        .header("datastar-request", "true")
        .header("user-agent", "probe/1")
        .body(Body::empty())
        .unwrap();
    let r = client.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let l = ledger(&app).await;
    assert!(l.last_agent.starts_with("probe/1 hi "), "{}", l.last_agent);
    assert_eq!(l.entities, 1);
    // Injected parameters are not request parameters: the action has only `tag`.
    assert_eq!(
        Ledger::action().note_agent("x".to_owned()).to_string(),
        "@post('/ledger/note_agent?tag=x')"
    );
    // Run without a request, an injected value that is missing is a 500 that
    // names it.
    let input = starmodel::core::EventInput::new("ledger").with_query([("tag".into(), "t".into())]);
    let err = app
        .dispatch("ledger", "note_agent", "global", &input)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.to_string().contains("HeaderMap"), "{err}");
}
