//! The showcase's pages through its router: what a newcomer sees first.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_index_links_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let router = showcase::app(dir.path()).unwrap().build().unwrap().router();
    let (status, body) = get(&router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"href="/counter""#));
}

#[tokio::test]
async fn the_counter_page_has_both_counters_and_their_buttons() {
    let dir = tempfile::tempdir().unwrap();
    let router = showcase::app(dir.path()).unwrap().build().unwrap().router();
    let (status, body) = get(&router, "/counter").await;
    assert_eq!(status, StatusCode::OK);
    for (id, entity) in [
        ("session-counter", "counter"),
        ("global-counter", "global_counter"),
    ] {
        let start = body.find(&format!(r#"id="{id}""#)).expect(id);
        let card = &body[start..];
        let card = &card[..card.find("</section>").unwrap()];
        assert!(
            card.contains(&format!(r#"class="count" data-text="${entity}.count""#)),
            "{card}"
        );
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
