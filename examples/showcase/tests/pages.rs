//! The showcase's pages through its router: what a newcomer sees first.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::StatusCode;
use starmodel::core::EventMethod;
use starmodel::sql::testing::TempDatabase;
use starmodel::testing::TestClient;

/// A client of the showcase over a fresh data directory (its SQLite database
/// migrated).
async fn app(dir: &std::path::Path) -> TestClient {
    let app = showcase::app(dir).await.unwrap().build().unwrap();
    app.prepare().await.unwrap();
    TestClient::new(&app)
}

/// A client of the showcase with its records in the database `url`.
async fn app_on(dir: &std::path::Path, url: &str) -> TestClient {
    let app = showcase::app_on(dir, url).await.unwrap().build().unwrap();
    app.prepare().await.unwrap();
    TestClient::new(&app)
}

async fn get(client: &TestClient, uri: &str) -> (StatusCode, String) {
    let res = client.get(uri).await;
    (res.status, res.body)
}

#[tokio::test]
async fn the_index_links_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let router = app(dir.path()).await;
    let (status, body) = get(&router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"href="/counter""#));
}

#[tokio::test]
async fn the_counter_page_has_both_counters_and_their_buttons() {
    let dir = tempfile::tempdir().unwrap();
    let router = app(dir.path()).await;
    let (status, body) = get(&router, "/counter").await;
    assert_eq!(status, StatusCode::OK);
    for (id, entity) in [("session-counter", "counter"), ("global-counter", "global_counter")] {
        let start = body.find(&format!(r#"id="{id}""#)).expect(id);
        let card = &body[start..];
        let card = &card[..card.find("</section>").unwrap()];
        assert!(card.contains(&format!(r#"class="count" data-text="${entity}.count""#)), "{card}");
        for (label, action) in [
            ("-1", format!("@post('/{entity}/increment?amount=-1')")),
            ("+1", format!("@post('/{entity}/increment?amount=1')")),
            ("+10", format!("@post('/{entity}/increment?amount=10')")),
            ("Reset", format!("@post('/{entity}/reset')")),
        ] {
            assert!(
                card.contains(&format!(r#"data-on:click="{action}">{label}</button>"#)),
                "{label} in {card}"
            );
        }
    }
}

async fn post(client: &TestClient, uri: &str, signals: &str) -> (StatusCode, String) {
    let res = client.datastar(EventMethod::Post, uri, serde_json::from_str(signals).unwrap()).await;
    (res.status, res.body)
}

/// The id of the todo titled `title` on the `/todos` page.
fn todo_id(page: &str, title: &str) -> String {
    let at =
        page.find(&format!(r#"value="{title}""#)).unwrap_or_else(|| panic!("{title} on {page}"));
    let before = &page[..at];
    let start = before.rfind("/todo/").unwrap() + "/todo/".len();
    before[start..start + 36].to_owned()
}

#[tokio::test]
async fn todos_are_added_toggled_renamed_and_deleted_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let router = app(dir.path()).await;
    todo_round_trip(&router).await;
    // The records are in the SQLite file: a new application over it sees them.
    let again = app(dir.path()).await;
    let (_, page) = get(&again, "/todos").await;
    assert!(page.contains(r#"value="eggs""#), "{page}");
}

/// The same showcase `Todo`, unchanged, on PostgreSQL and MariaDB.
#[tokio::test]
async fn todos_run_unchanged_on_postgres_and_mariadb() {
    for var in ["DATABASE_URL_POSTGRES", "DATABASE_URL_MYSQL"] {
        let Some(db) = TempDatabase::from_env(var).await else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let router = app_on(dir.path(), db.url()).await;
        todo_round_trip(&router).await;
        let again = app_on(dir.path(), db.url()).await;
        let (_, page) = get(&again, "/todos").await;
        assert!(page.contains(r#"value="eggs""#), "{var}: {page}");
    }
}

/// Adds, toggles, renames, refuses and deletes todos through `client`.
async fn todo_round_trip(client: &TestClient) {
    let (status, page) = get(client, "/todos").await;
    assert_eq!(status, StatusCode::OK);
    // Cleared by the page shell only when the add succeeded.
    assert!(page.contains(r#"data-starmodel-reset"#), "{page}");
    assert!(page.contains(r#"data-on:submit__prevent="@post('/todo/add')""#), "{page}");
    assert!(page.contains(r#"<div id="todos""#), "{page}");

    for title in ["milk", "eggs"] {
        let (status, body) =
            post(client, "/todo/add", &format!(r#"{{"title":" {title} "}}"#)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, page) = get(client, "/todos").await;
    assert!(page.find("milk").unwrap() < page.find("eggs").unwrap(), "in the order added");
    assert!(page.contains("0 of 2 left") || page.contains("2 of 2 left"), "{page}");
    let milk = todo_id(&page, "milk");

    // The id in upper case names the same record.
    let upper = milk.to_uppercase();
    let (status, _) = post(client, &format!("/todo/{upper}/toggle"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(client, &format!("/todo/{milk}/rename?title=oat%20milk"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = get(client, "/todos").await;
    assert!(page.contains(r#"value="oat milk""#), "{page}");
    assert!(page.contains("1 of 2 left"), "{page}");

    let (status, body) = post(client, "/todo/add", r#"{"title":"   "}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("title must not be empty"), "{body}");
    let (status, _) = post(client, &format!("/todo/{milk}/rename?title="), "{}").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _) = post(client, &format!("/todo/{milk}/remove"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(client, &format!("/todo/{milk}/toggle"), "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = get(client, "/todos").await;
    assert!(!page.contains("milk") && page.contains("eggs"), "{page}");
    assert!(page.contains("1 of 1 left"), "{page}");
}

/// The test client keeps the session: a visitor's counter is theirs alone.
#[tokio::test]
async fn each_visitor_keeps_their_own_session_counter() {
    use showcase::pages::counter::Counter;
    let dir = tempfile::tempdir().unwrap();
    let app = showcase::app(dir.path()).await.unwrap().build().unwrap();
    app.prepare().await.unwrap();
    let (alice, bob) = (TestClient::new(&app), TestClient::new(&app));
    let (status, _) = get(&alice, "/counter").await;
    assert_eq!(status, StatusCode::OK);
    assert!(alice.cookie().is_some(), "the page set the session cookie");
    let res = alice.event(&Counter::action().increment(Some(5)), serde_json::json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let patched = res.events().into_iter().find(|e| e.event == "datastar-patch-signals");
    assert_eq!(patched.unwrap().signals()["counter"]["count"], 5);

    let (_, page) = get(&alice, "/counter").await;
    assert!(page.contains(r#"data-text="$counter.count">5<"#), "{page}");
    let (_, page) = get(&bob, "/counter").await;
    assert!(page.contains(r#"data-text="$counter.count">0<"#), "{page}");
    assert_ne!(alice.cookie(), bob.cookie());
}

/// A todo added by one visitor reaches another visitor's open `/todos` stream.
#[tokio::test]
async fn a_new_todo_reaches_an_open_live_stream() {
    use showcase::pages::todos::Todo;
    let dir = tempfile::tempdir().unwrap();
    let viewer = app(dir.path()).await;
    let mut stream =
        viewer.live(serde_json::json!({"starmodel": {"views": {"todos": true}}})).await.unwrap();
    let wait = Duration::from_secs(10);
    let first = stream.next(wait).await.expect("the list as it is");
    assert!(first.elements().contains(r#"id="todos""#), "{first:?}");

    let writer = viewer.clone(); // another tab of the same visitor
    let add = Todo::create().add(starmodel::FromSignals);
    let res = writer.event(&add, serde_json::json!({"title": "buy bread"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    loop {
        let patch = stream.next(wait).await.expect("a patch after the add");
        if patch.elements().contains("buy bread") {
            break;
        }
    }
}
