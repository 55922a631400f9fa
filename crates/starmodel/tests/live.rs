//! The page-level live stream: full state on connect, who receives what,
//! multi-node delivery over a shared bus, heartbeats, graceful shutdown, and
//! state surviving a restart through the memory store's snapshot.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use starmodel::core::{Bus, LocalBus};
use starmodel::prelude::*;
use support::*;

const BOTH: &str = r#"{"counter":{"count":0},"tally":{"total":0}}"#;

#[tokio::test]
async fn a_stream_starts_with_the_full_state_of_every_entity_on_the_page() {
    let router = router();
    let cookie = session(&router).await;
    fire(&router, "/counter/increment?amount=3", Some(&cookie)).await;
    let mut stream = open_stream(&router, Some(&cookie), BOTH).await;
    let mut first = [
        stream.next(WAIT).await.unwrap().signals(),
        stream.next(WAIT).await.unwrap().signals(),
    ];
    first.sort_by_key(|v| v.as_object().unwrap().keys().next().unwrap().clone());
    assert_eq!(first[0]["counter"]["count"], 3);
    assert_eq!(first[1]["tally"]["total"], 0);
}

#[tokio::test]
async fn session_changes_reach_only_that_session_and_global_ones_reach_everybody() {
    let router = router();
    let alice = session(&router).await;
    let bob = session(&router).await;
    let mut alice_tab1 = open_stream(&router, Some(&alice), BOTH).await;
    let mut alice_tab2 = open_stream(&router, Some(&alice), BOTH).await;
    let mut bob_tab = open_stream(&router, Some(&bob), BOTH).await;
    for s in [&mut alice_tab1, &mut alice_tab2, &mut bob_tab] {
        s.next(WAIT).await.unwrap();
        s.next(WAIT).await.unwrap();
    }

    fire(&router, "/counter/increment?amount=2", Some(&alice)).await;
    for tab in [&mut alice_tab1, &mut alice_tab2] {
        assert_eq!(
            tab.next(WAIT).await.unwrap().signals()["counter"]["count"],
            2
        );
    }
    fire(&router, "/tally/add?amount=5", Some(&bob)).await;
    // Bob's first message is the tally: Alice's counter never reached him.
    assert_eq!(
        bob_tab.next(WAIT).await.unwrap().signals()["tally"]["total"],
        5
    );
    for tab in [&mut alice_tab1, &mut alice_tab2] {
        assert_eq!(tab.next(WAIT).await.unwrap().signals()["tally"]["total"], 5);
    }
}

#[tokio::test]
async fn a_stream_only_watches_entities_the_page_shows() {
    let router = router();
    let cookie = session(&router).await;
    let mut stream = open_stream(&router, Some(&cookie), r#"{"tally":{}}"#).await;
    assert!(
        stream
            .next(WAIT)
            .await
            .unwrap()
            .signals()
            .get("tally")
            .is_some()
    );
    fire(&router, "/counter/increment", Some(&cookie)).await;
    fire(&router, "/tally/add", Some(&cookie)).await;
    let next = stream.next(WAIT).await.unwrap().signals();
    assert!(next.get("counter").is_none(), "{next}");
    assert_eq!(next["tally"]["total"], 1);
}

#[tokio::test]
async fn a_slow_stream_skips_to_the_latest_state() {
    let router = router();
    let mut stream = open_stream(&router, None, r#"{"tally":{}}"#).await;
    stream.next(WAIT).await.unwrap();
    for _ in 0..50 {
        fire(&router, "/tally/add", None).await;
    }
    // Nobody read the stream meanwhile: it holds at most the latest state, not 50.
    let latest = stream.next(WAIT).await.unwrap().signals();
    assert_eq!(latest["tally"]["total"], 50);
}

#[tokio::test]
async fn idle_streams_send_heartbeats() {
    let router = builder()
        .heartbeat(Duration::from_millis(20))
        .build()
        .unwrap()
        .router();
    let mut stream = open_stream(&router, None, "{}").await;
    let mut saw_comment = false;
    for _ in 0..3 {
        if stream
            .next_raw(WAIT)
            .await
            .unwrap()
            .starts_with(": keep-alive")
        {
            saw_comment = true;
            break;
        }
    }
    assert!(saw_comment);
}

#[tokio::test]
async fn shutdown_ends_streams() {
    let app = builder().build().unwrap();
    let router = app.router();
    let mut stream = open_stream(&router, None, r#"{"tally":{}}"#).await;
    stream.next(WAIT).await.unwrap();
    assert!(!stream.ended(Duration::from_millis(50)).await);
    let mut watching_nothing = open_stream(&router, None, "{}").await;
    assert!(!watching_nothing.ended(Duration::from_millis(50)).await);
    app.shutdown().await;
    assert!(stream.ended(WAIT).await);
    assert!(watching_nothing.ended(WAIT).await);
}

#[tokio::test]
async fn changes_on_one_node_reach_viewers_on_another() {
    let store = MemoryStore::new();
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
    let node = || {
        builder()
            .memory_store(store.clone())
            .bus(bus.clone())
            .build()
            .unwrap()
            .router()
    };
    let (a, b) = (node(), node());
    let mut on_b = open_stream(&b, None, r#"{"tally":{}}"#).await;
    assert_eq!(
        on_b.next(WAIT).await.unwrap().signals()["tally"]["total"],
        0
    );
    let res = send(&a, event("POST", "/tally/add?amount=4", None, "{}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        on_b.next(WAIT).await.unwrap().signals()["tally"]["total"],
        4
    );
}

#[tokio::test]
async fn a_restart_restores_state_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    let secret = dir.path().join("secret");
    let start = || {
        builder()
            .secret_file(&secret)
            .memory_store(MemoryStore::builder().snapshot(&snapshot).build().unwrap())
            .build()
            .unwrap()
    };
    let app = start();
    let router = app.router();
    let cookie = session(&router).await;
    fire(&router, "/counter/increment?amount=9", Some(&cookie)).await;
    fire(&router, "/tally/add?amount=2", None).await;
    app.shutdown().await;
    drop((app, router));

    let router = start().router();
    let res = fire(&router, "/counter/increment?amount=0", Some(&cookie)).await;
    assert!(
        res.headers.get("set-cookie").is_none(),
        "the session survived"
    );
    assert_eq!(parse_sse(&res.body)[0].signals()["counter"]["count"], 9);
    let res = fire(&router, "/tally/add?amount=0", None).await;
    assert_eq!(parse_sse(&res.body)[0].signals()["tally"]["total"], 2);
}

#[tokio::test]
async fn failed_events_publish_nothing() {
    let router = router();
    let cookie = session(&router).await;
    let mut stream = open_stream(&router, Some(&cookie), BOTH).await;
    stream.next(WAIT).await.unwrap();
    stream.next(WAIT).await.unwrap();
    for failing in ["/counter/boom", "/counter/refuse", "/counter/set?count=x"] {
        let res = fire(&router, failing, Some(&cookie)).await;
        assert!(res.status.is_client_error() || res.status.is_server_error());
    }
    fire(&router, "/tally/add", Some(&cookie)).await;
    // The first thing after the failures is the tally: no counter frame went out.
    let next = stream.next(WAIT).await.unwrap().signals();
    assert!(next.get("counter").is_none(), "{next}");
    assert_eq!(next["tally"]["total"], 1);
}

#[tokio::test]
async fn an_instance_recreated_after_expiry_still_reaches_its_viewers() {
    // The three increments must land before the instance expires, even on a
    // loaded machine; then it is left idle well past the TTL.
    let memory = MemoryStore::builder()
        .ttl(Duration::from_millis(500))
        .build()
        .unwrap();
    let router = builder().memory_store(memory).build().unwrap().router();
    let cookie = session(&router).await;
    let mut stream = open_stream(&router, Some(&cookie), r#"{"counter":{}}"#).await;
    stream.next(WAIT).await.unwrap();
    for _ in 0..3 {
        fire(&router, "/counter/increment?amount=10", Some(&cookie)).await;
    }
    let mut last = 0;
    while last != 30 {
        last = stream.next(WAIT).await.unwrap().signals()["counter"]["count"]
            .as_i64()
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    fire(&router, "/counter/increment", Some(&cookie)).await;
    let after = stream
        .next(WAIT)
        .await
        .expect("the new state reaches the open stream");
    assert_eq!(after.signals()["counter"]["count"], 1);
}

#[tokio::test]
async fn watched_instances_get_their_new_state_from_the_stream_only() {
    let router = router();
    let cookie = session(&router).await;
    // Unwatched: the event's response carries the new signals.
    let res = fire(&router, "/counter/increment", Some(&cookie)).await;
    assert_eq!(parse_sse(&res.body)[0].signals()["counter"]["count"], 1);

    let mut stream = open_stream(&router, Some(&cookie), r#"{"counter":{}}"#).await;
    stream.next(WAIT).await.unwrap();
    let res = fire(&router, "/counter/increment", Some(&cookie)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(parse_sse(&res.body).is_empty(), "{}", res.body);
    assert_eq!(
        stream.next(WAIT).await.unwrap().signals()["counter"]["count"],
        2
    );
    // Markup still comes with the response.
    let res = fire(&router, "/counter/shout?text=x", Some(&cookie)).await;
    let events = parse_sse(&res.body);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "datastar-patch-elements");
}

#[tokio::test]
async fn serving_stops_gracefully_and_saves_the_snapshot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    let app = builder()
        .memory_store(MemoryStore::builder().snapshot(&snapshot).build().unwrap())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));

    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"POST /tally/add?amount=7 HTTP/1.1\r\nhost: x\r\ndatastar-request: true\r\n\
          content-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");

    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    assert!(saved.contains(r#""total":7"#), "{saved}");
}
