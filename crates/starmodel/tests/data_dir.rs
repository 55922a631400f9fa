//! `StarModel::data_dir`: session entities and the session secret survive a
//! restart (the memory store's snapshot and the secret file live there).

#![allow(clippy::unwrap_used, missing_docs)]

use axum::body::Body;
use http::{Request, header};
use serde_json::json;
use starmodel::prelude::*;
use starmodel::testing::TestClient;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Visits {
    pub n: i64,
}

#[events]
impl Visits {
    #[event]
    fn visit(&mut self) {
        self.n += 1;
    }
}

fn app(dir: &std::path::Path) -> App {
    StarModel::new()
        .data_dir(dir)
        .entity::<Visits>()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_session_entity_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = app(dir.path());
    let client = TestClient::new(&first);
    for _ in 0..3 {
        let r = client.event(&Visits::action().visit(), json!({})).await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let cookie = client.cookie().unwrap();
    first.shutdown().await;
    assert!(dir.path().join("memory.json").is_file());
    assert!(dir.path().join("secret").is_file());

    // A new process: same folder, the browser's old cookie.
    let second = app(dir.path());
    let again = TestClient::new(&second);
    let req = Request::post("/visits/visit")
        .header("datastar-request", "true")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let r = again.send(req).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert!(r.body.contains(r#""n":4"#), "the count went on: {}", r.body);
}
