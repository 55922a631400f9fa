//! The showcase's pages through its router: what a newcomer sees first.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use starmodel::sql::testing::TempDatabase;
use tower::ServiceExt;

/// The showcase's router over a fresh data directory (its SQLite database
/// migrated).
async fn app(dir: &std::path::Path) -> axum::Router {
    let app = showcase::app(dir).await.unwrap().build().unwrap();
    app.prepare().await.unwrap();
    app.router()
}

/// The showcase's router with its records in the database `url`.
async fn app_on(dir: &std::path::Path, url: &str) -> axum::Router {
    let app = showcase::app_on(dir, url).await.unwrap().build().unwrap();
    app.prepare().await.unwrap();
    app.router()
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String) {
    let res = router.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
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

async fn post(router: &axum::Router, uri: &str, signals: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(
            Request::post(uri)
                .header("datastar-request", "true")
                .header("content-type", "application/json")
                .body(Body::from(signals.to_owned()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
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

/// Adds, toggles, renames, refuses and deletes todos through `router`.
async fn todo_round_trip(router: &axum::Router) {
    let router = router.clone();
    let (status, page) = get(&router, "/todos").await;
    assert_eq!(status, StatusCode::OK);
    // Cleared by the page shell only when the add succeeded.
    assert!(page.contains(r#"data-starmodel-reset"#), "{page}");
    assert!(page.contains(r#"data-on:submit__prevent="@post('/todo/add')""#), "{page}");
    assert!(page.contains(r#"<div id="todos""#), "{page}");

    for title in ["milk", "eggs"] {
        let (status, body) =
            post(&router, "/todo/add", &format!(r#"{{"title":" {title} "}}"#)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, page) = get(&router, "/todos").await;
    assert!(page.find("milk").unwrap() < page.find("eggs").unwrap(), "in the order added");
    assert!(page.contains("0 of 2 left") || page.contains("2 of 2 left"), "{page}");
    let milk = todo_id(&page, "milk");

    // The id in upper case names the same record.
    let upper = milk.to_uppercase();
    let (status, _) = post(&router, &format!("/todo/{upper}/toggle"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&router, &format!("/todo/{milk}/rename?title=oat%20milk"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = get(&router, "/todos").await;
    assert!(page.contains(r#"value="oat milk""#), "{page}");
    assert!(page.contains("1 of 2 left"), "{page}");

    let (status, body) = post(&router, "/todo/add", r#"{"title":"   "}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("title must not be empty"), "{body}");
    let (status, _) = post(&router, &format!("/todo/{milk}/rename?title="), "{}").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _) = post(&router, &format!("/todo/{milk}/remove"), "{}").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&router, &format!("/todo/{milk}/toggle"), "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = get(&router, "/todos").await;
    assert!(!page.contains("milk") && page.contains("eggs"), "{page}");
    assert!(page.contains("1 of 1 left"), "{page}");
}
