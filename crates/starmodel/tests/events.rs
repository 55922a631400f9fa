//! Event endpoints through the router: success patches, every error status, and
//! state left untouched by failures.

#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use http::{Request, StatusCode};
use starmodel::MemoryStore;
use starmodel::core::store::{Record, Store, StoreError, UpdateFn, UpdateOutcome};
use starmodel::core::{EntityId, EntityKey};
use support::*;

async fn count(router: &axum::Router, cookie: &str) -> i64 {
    let res = send(
        router,
        event("POST", "/counter/increment?amount=0", Some(cookie), "{}"),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    parse_sse(&res.body)[0].signals()["counter"]["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn an_event_answers_with_the_new_signals() {
    let router = router();
    let cookie = session(&router).await;
    let res = fire(&router, "/counter/increment?amount=10", Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-type"], "text/event-stream");
    assert_eq!(res.headers["cache-control"], "no-cache");
    assert!(
        res.headers.get("set-cookie").is_none(),
        "existing session kept"
    );
    let events = parse_sse(&res.body);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].signals(),
        serde_json::json!({"counter": {"count": 10, "update_count": 1}})
    );
}

#[tokio::test]
async fn parameters_come_from_query_signals_and_forms() {
    let router = router();
    let cookie = session(&router).await;
    // Namespaced signal.
    let body = r#"{"counter": {"count": 0, "amount": 3}}"#;
    send(
        &router,
        event("POST", "/counter/increment", Some(&cookie), body),
    )
    .await;
    // Top-level signal.
    send(
        &router,
        event(
            "POST",
            "/counter/increment",
            Some(&cookie),
            r#"{"amount": 4}"#,
        ),
    )
    .await;
    // Form body.
    let form = Request::post("/counter/increment")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(Body::from("amount=5"))
        .unwrap();
    assert_eq!(send(&router, form).await.status, StatusCode::OK);
    assert_eq!(count(&router, &cookie).await, 12);
    // The query beats the page's current `counter.count` signal.
    let body = r#"{"counter": {"count": 12}}"#;
    send(
        &router,
        event("POST", "/counter/set?count=40", Some(&cookie), body),
    )
    .await;
    assert_eq!(count(&router, &cookie).await, 40);
}

#[tokio::test]
async fn markup_events_patch_elements_at_their_selector() {
    let router = router();
    let res = fire(&router, "/counter/shout?text=hi%20%3Cthere%3E", None).await;
    let events = parse_sse(&res.body);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event, "datastar-patch-elements");
    assert_eq!(
        events[1].data,
        [
            "selector #status",
            "mode inner",
            "elements <b>HI &lt;THERE&gt;</b>"
        ]
    );
    assert!(
        res.headers.get("set-cookie").is_some(),
        "new session started"
    );
}

#[tokio::test]
async fn unknown_events_and_methods_are_named() {
    let router = router();
    let res = fire(&router, "/counter/explode", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let plain = Request::post("/counter/explode")
        .body(Body::empty())
        .unwrap();
    let res = send(&router, plain).await;
    assert_eq!(
        res.json()["error"]["message"],
        "entity `counter` has no event `explode`"
    );

    let res = send(
        &router,
        Request::get("/counter/increment")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers["allow"], "POST");

    let res = send(&router, event("DELETE", "/counter/clear", None, "")).await;
    assert_eq!(res.status, StatusCode::OK);

    let res = send(
        &router,
        Request::get("/nowhere/at/all").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        res.json()["error"]["message"],
        "no route for GET /nowhere/at/all"
    );
}

#[tokio::test]
async fn missing_and_mistyped_parameters_are_422_naming_the_field() {
    let router = router();
    let plain = |uri: &str| {
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    let res = send(&router, plain("/counter/set")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["field"], "count");
    assert_eq!(res.json()["error"]["message"], "missing parameter `count`");

    let res = send(&router, plain("/counter/increment?amount=ten")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["field"], "amount");
    let message = res.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("invalid value for parameter `amount`"),
        "{message}"
    );
    assert!(message.contains("expected i64"), "{message}");

    let res = send(
        &router,
        event("POST", "/counter/increment", None, r#"{"amount": "x"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let router = router();
    let res = send(
        &router,
        event("POST", "/counter/increment", None, "{\"amount\": "),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = send(
        &router,
        Request::post("/counter/increment")
            .header("content-type", "application/json")
            .body(Body::from("[1, 2"))
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let message = res.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("line 1 column"), "{message}");
    let res = send(&router, event("POST", "/counter/increment", None, "[1]")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let router = router();
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let res = send(&router, event("POST", "/counter/increment", None, &big)).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.body.contains("1048576-byte limit"), "{}", res.body);

    // A chunked body without a length is cut off too.
    let small = builder().body_limit(64).build().unwrap().router();
    let chunks = futures_util::stream::iter(
        (0..10).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[b' '; 16]))),
    );
    let req = Request::post("/counter/increment")
        .header("content-type", "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    assert_eq!(
        send(&small, req).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_panicking_event_is_500_and_changes_nothing() {
    let router = router();
    let cookie = session(&router).await;
    fire(&router, "/counter/increment?amount=5", Some(&cookie)).await;
    let res = fire(&router, "/counter/boom", Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    let plain = Request::post("/counter/boom")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let res = send(&router, plain).await;
    assert_eq!(
        res.json()["error"]["message"],
        "event `boom` panicked: boom in user code"
    );
    // Unchanged, and the server still serves.
    assert_eq!(count(&router, &cookie).await, 5);
}

#[tokio::test]
async fn a_refused_event_is_422_and_changes_nothing() {
    let router = router();
    let cookie = session(&router).await;
    let res = fire(&router, "/counter/refuse", Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&router, &cookie).await, 0);
}

#[tokio::test]
async fn datastar_requests_get_errors_as_patches_and_a_header() {
    let router = router();
    let res = fire(&router, "/counter/set?count=x", None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers["content-type"], "text/event-stream");
    let header = res.headers["starmodel-error"].to_str().unwrap();
    assert!(
        header.starts_with("invalid value for parameter `count`"),
        "{header}"
    );
    let events = parse_sse(&res.body);
    assert_eq!(events[0].event, "datastar-patch-elements");
    assert!(
        events[0]
            .data
            .contains(&"selector #starmodel-error".to_owned())
    );
    assert_eq!(events[1].signals()["starmodel"]["error"]["field"], "count");
}

/// A browser's `POST` to `path` of `app.example` from a page of `origin`.
fn posted_from(origin: &str, path: &str) -> Request<Body> {
    Request::post(path)
        .header("origin", origin)
        .header("host", "app.example")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn cross_site_requests_are_403() {
    let router = router();
    let req = posted_from("https://evil.example", "/counter/increment");
    assert_eq!(send(&router, req).await.status, StatusCode::FORBIDDEN);
    let req = posted_from("https://app.example", "/counter/increment");
    assert_eq!(send(&router, req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_events_are_404_from_any_site() {
    let router = router();
    let res = send(
        &router,
        posted_from("https://evil.example", "/counter/explode"),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        res.json()["error"]["message"],
        "entity `counter` has no event `explode`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_events_lose_no_update() {
    let router = router();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                for _ in 0..1000 {
                    let res = fire(&router, "/tally/add", None).await;
                    assert_eq!(res.status, StatusCode::OK);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let res = fire(&router, "/tally/add?amount=0", None).await;
    assert_eq!(parse_sse(&res.body)[0].signals()["tally"]["total"], 16_000);
}

#[tokio::test]
async fn pages_render_entities_as_namespaced_signals() {
    let router = router();
    let cookie = session(&router).await;
    fire(&router, "/counter/increment?amount=7", Some(&cookie)).await;
    let page = Request::get("/")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let res = send(&router, page).await;
    assert!(res.body.contains(
        r#"data-signals="{&quot;counter&quot;:{&quot;count&quot;:7,&quot;update_count&quot;:1}}""#
    ));
    assert!(
        res.body
            .contains(r#"<span id="count" data-text="$counter.count">7</span>"#)
    );
    assert!(res.body.contains("@get('/_starmodel/stream'"));
}

#[tokio::test]
async fn global_entities_outlive_the_session_ttl() {
    let memory = starmodel::MemoryStore::builder()
        .ttl(std::time::Duration::from_millis(30))
        .build()
        .unwrap();
    let router = builder().memory_store(memory).build().unwrap().router();
    let cookie = session(&router).await;
    fire(&router, "/tally/add?amount=3", None).await;
    fire(&router, "/counter/increment?amount=3", Some(&cookie)).await;
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
    let res = fire(&router, "/tally/add?amount=0", None).await;
    assert_eq!(parse_sse(&res.body)[0].signals()["tally"]["total"], 3);
    assert_eq!(
        count(&router, &cookie).await,
        0,
        "the idle session's counter expired"
    );
}

#[tokio::test]
async fn each_app_serves_its_own_datastar_bundle() {
    use starmodel::web::view::DatastarBundle;
    let local = builder()
        .datastar_bundle(DatastarBundle::local(bytes::Bytes::from_static(
            b"// Datastar v1.0.4\n",
        )))
        .build()
        .unwrap()
        .router();
    let cdn = builder()
        .datastar_bundle(DatastarBundle::Cdn)
        .build()
        .unwrap()
        .router();

    let page = send(&local, Request::get("/").body(Body::empty()).unwrap()).await;
    let src = page
        .body
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(src.starts_with("/_starmodel/datastar-"), "{src}");
    let js = send(&local, Request::get(&src).body(Body::empty()).unwrap()).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.body, "// Datastar v1.0.4\n");
    assert_eq!(
        js.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let post = send(&local, Request::post(&src).body(Body::empty()).unwrap()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers["allow"], "GET, HEAD");

    let page = send(&cdn, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(
        page.body
            .contains("https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.4")
    );
    assert!(page.body.contains("integrity=\"sha384-"));
}

#[tokio::test]
async fn page_views_renew_the_session_cookie() {
    let router = router();
    let cookie = session(&router).await;
    let page = Request::get("/")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let res = send(&router, page).await;
    let renewed = res.headers["set-cookie"].to_str().unwrap();
    assert!(
        renewed.starts_with(&cookie),
        "the same session, renewed: {renewed}"
    );
    assert!(renewed.contains("Max-Age="));
}

/// A memory store whose writes take a while, like a database round trip, and
/// that says when one starts.
struct SlowStore(MemoryStore, std::sync::Arc<tokio::sync::Notify>);

#[async_trait::async_trait]
impl Store for SlowStore {
    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }

    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        self.1.notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.0.update(key, f).await
    }

    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        self.0.list(entity).await
    }

    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        self.0.import(key, record).await
    }
}

#[tokio::test]
async fn an_event_whose_client_goes_away_still_commits_and_reaches_viewers() {
    let memory = MemoryStore::new();
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let app = slow_tally_app(&memory, &started);
    let router = app.router();
    let cookie = session(&router).await;
    let mut stream = open_stream(&router, Some(&cookie), r#"{"tally":{}}"#).await;
    stream.next(WAIT).await.unwrap();
    let server = serve(app).await;

    // The request arrives whole, then the browser gives up on it (Datastar aborts
    // a request when the same one starts again; a tab closes) mid-write.
    let request = add_three(server.addr);
    post_and_hang_up(server.addr, &request, &started).await;

    let seen = stream
        .next(WAIT)
        .await
        .expect("the change reaches the open stream");
    assert_eq!(seen.signals()["tally"]["total"], 3);
    let stored = memory
        .load(&EntityKey::new("tally", "global"))
        .await
        .unwrap()
        .expect("committed");
    assert_eq!(stored.value["total"], 3);
}

#[tokio::test]
async fn shutdown_waits_for_a_write_whose_client_went_away() {
    let memory = MemoryStore::new();
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let app = slow_tally_app(&memory, &started);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    post_and_hang_up(addr, &add_three(addr), &started).await;
    // The client has gone and no connection is open: shutdown alone must wait
    // for the write under way (300 ms) before it ends.
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    let stored = memory
        .load(&EntityKey::new("tally", "global"))
        .await
        .unwrap()
        .expect("committed before serving ended");
    assert_eq!(stored.value["total"], 3);
}

/// An application whose `Tally` lives in `memory` behind writes of 300 ms;
/// `started` is told when one begins.
fn slow_tally_app(
    memory: &MemoryStore,
    started: &std::sync::Arc<tokio::sync::Notify>,
) -> starmodel::App {
    let store = SlowStore(memory.clone(), started.clone());
    starmodel::StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .entity_with_store::<Tally>(std::sync::Arc::new(store))
        .route("/", axum::routing::get(index_tally))
        .build()
        .unwrap()
}

/// `POST /tally/add?amount=3` as a browser sends it, to the server at `addr`.
fn add_three(addr: std::net::SocketAddr) -> String {
    let body = "{}";
    format!(
        "POST /tally/add?amount=3 HTTP/1.1\r\nhost: {addr}\r\ndatastar-request: true\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request` whole, then closes the connection once its write has started
/// (`started` told), before the answer.
async fn post_and_hang_up(
    addr: std::net::SocketAddr,
    request: &str,
    started: &tokio::sync::Notify,
) {
    use tokio::io::AsyncWriteExt;

    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    started.notified().await;
}

async fn index_tally(tally: Tally) -> maud::Markup {
    starmodel::page(maud::html! { (tally) })
}
