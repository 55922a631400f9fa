//! An application mounted under `/app` in a larger axum router: its pages,
//! actions, live stream, bundle, static files and API all carry the prefix, and
//! the rest of the site keeps its own routes.

#![allow(clippy::unwrap_used, missing_docs)]

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use starmodel::prelude::*;
use tower::ServiceExt;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Clicks {
    pub n: i64,
}

#[events]
impl Clicks {
    #[event]
    fn click(&mut self) {
        self.n += 1;
    }
}

#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(scope = "record", api)]
pub struct Card {
    #[entity(id)]
    pub id: String,
    pub text: String,
}

#[events]
impl Card {}

async fn home(clicks: Clicks) -> Markup {
    page(html! {
        (clicks)
        a #cards href=(href("/cards")) { "cards" }
        button "data-on:click"=(Clicks::action().click()) { "+1" }
    })
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let res = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn site(static_dir: &std::path::Path) -> Router {
    let app = StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .prefix("/app/")
        .static_dir(static_dir)
        .layout(Layout::new().stylesheet_asset("site.css"))
        .mount(starmodel::api::JsonApi)
        .entity::<Clicks>()
        .entity::<Card>()
        .route("/", get(home))
        .build()
        .unwrap();
    Router::new()
        .route("/", get(|| async { "the rest of the site" }))
        .merge(app.router())
}

#[tokio::test]
async fn every_url_carries_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.css"), "body { color: navy }").unwrap();
    let router = site(dir.path());

    let (status, _, body) = send(&router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "the rest of the site")
    );

    let (status, headers, page) =
        send(&router, Request::get("/app/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("@post('/app/clicks/click')"), "{page}");
    assert!(page.contains("@get('/app/_starmodel/stream'"), "{page}");
    assert!(page.contains("href=\"/app/cards\""), "{page}");
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // The layout's stylesheet, at its hashed URL under the prefix.
    let css = page
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .unwrap()
        .to_owned();
    assert!(
        css.starts_with("/app/static/site.") && css != "/app/static/site.css",
        "{css}"
    );
    let (status, headers, body) =
        send(&router, Request::get(&css).body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "body { color: navy }")
    );
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    // The event, at the prefixed path only.
    let click = |path: &str| {
        Request::post(path)
            .header("datastar-request", "true")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(&router, click("/app/clicks/click")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""n":1"#), "{body}");
    let (status, _, _) = send(&router, click("/clicks/click")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The API, and the Location it answers.
    let create = Request::post("/app/api/card")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"id":"c1","text":"hi"}"#))
        .unwrap();
    let (status, headers, body) = send(&router, create).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(headers[header::LOCATION], "/app/api/card/c1");
}

#[tokio::test]
async fn a_prefix_that_is_no_path_is_refused() {
    for bad in ["app", "/a b", "/app//x"] {
        let err = StarModel::new().prefix(bad).build().unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot be the application's prefix"),
            "{bad}: {err}"
        );
    }
}
