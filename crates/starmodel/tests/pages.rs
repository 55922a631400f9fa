//! Pages: the application's layout around every page, HTML error pages for
//! browsers, and what a page handler's mistakes answer.

#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use http::{Request, StatusCode};
use support::*;

async fn tally_page(tally: Tally) -> String {
    tally.total.to_string()
}

/// An application whose `/tally` page extracts `Tally`, which it does not register.
fn without_tally() -> axum::Router {
    starmodel::StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .entity::<Counter>()
        .route("/tally", axum::routing::get(tally_page))
        .build()
        .unwrap()
        .router()
}

#[tokio::test]
async fn a_handler_extracting_an_unregistered_entity_names_the_fix() {
    let router = without_tally();
    let res = send(&router, Request::get("/tally").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    let message = res.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("entity `tally` is not registered")
            && message.contains(".entity::<Tally>()"),
        "{message}"
    );
}

#[tokio::test]
async fn a_layout_adds_head_elements_and_wraps_every_page() {
    use starmodel::prelude::{Layout, html};
    let router = builder()
        .layout(
            Layout::new()
                .stylesheet("/static/app.css")
                .body(|page| html! { nav { "Home" } (page) }),
        )
        .build()
        .unwrap()
        .router();
    let page = send(&router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    let link = body
        .find(r#"<link rel="stylesheet" href="/static/app.css">"#)
        .expect("the layout's stylesheet");
    // After StarModel's own style (so its rules win), inside the head.
    assert!(body.find("<style>").unwrap() < link && link < body.find("</head>").unwrap());
    let nav = body.find("<nav>Home</nav>").expect("the layout's nav");
    assert!(body.find(r#"<main class="sm-page">"#).unwrap() < nav);
    // The framework's stylesheet carries no application's rules.
    assert!(!body.contains("ul.todos"), "{body}");

    let plain = send(
        &support::router(),
        Request::get("/").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(!plain.body.contains("/static/app.css") && !plain.body.contains("<nav>"));
}

#[tokio::test]
async fn browsers_get_html_error_pages_and_other_clients_json() {
    let router = support::router();
    let html = |path: &str| {
        Request::get(path)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .body(Body::empty())
            .unwrap()
    };
    // An unmatched path, navigated to: an HTML 404 naming it.
    let res = send(&router, html("/no/such/page")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.body.starts_with("<!DOCTYPE html>"), "{}", res.body);
    assert!(
        res.body.contains("<title>404 Not Found</title>"),
        "{}",
        res.body
    );
    assert!(res.body.contains("/no/such/page"), "{}", res.body);
    // The same path from a client that does not ask for HTML: JSON, as before.
    let res = send(
        &router,
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.json()["error"]["message"].is_string());

    // A page handler's refusal (here: it extracts an entity the application
    // does not register) renders as a page too.
    let app = without_tally();
    let res = send(&app, html("/tally")).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        res.body
            .contains("<title>500 Internal Server Error</title>"),
        "{}",
        res.body
    );
    assert!(
        res.body.contains(".entity::&lt;Tally&gt;()"),
        "{}",
        res.body
    );

    // Datastar requests keep their patch, whatever they accept.
    let res = send(
        &app,
        Request::get("/tally")
            .header("accept", "text/html")
            .header("datastar-request", "true")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.headers["content-type"], "text/event-stream");
}
