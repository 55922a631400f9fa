//! Cases the upstream golden set lacks, sent over real HTTP like the conformance test:
//! namespaces, view-transition selectors, DELETE, CR and CRLF splitting, refused line
//! breaks, the default retry and malformed signals.

mod support;

use std::net::SocketAddr;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use support::compare::assert_same_events;

/// Sends `events` and checks the stream against `expected` under the golden rules.
async fn expect_stream(addr: SocketAddr, method: Method, events: Value, expected: &str) {
    let input = json!({ "events": events }).to_string();
    let reply = support::client::send(addr, method.clone(), &input).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{method}: body {:?}",
        reply.body
    );
    assert_eq!(reply.content_type.as_deref(), Some("text/event-stream"));
    assert_same_events(&format!("{method} {events}"), expected, &reply.body);
}

/// Sends `input` and expects an error status whose body names the fault.
async fn expect_refusal(
    addr: SocketAddr,
    method: Method,
    input: &str,
    status: StatusCode,
    message: &str,
) {
    let reply = support::client::send(addr, method, input).await;
    assert_eq!(reply.status, status, "body {:?}", reply.body);
    assert_eq!(reply.body, message);
}

#[tokio::test]
async fn namespaces_and_view_transition_selector() {
    let addr = support::server::spawn().await;
    expect_stream(
        addr,
        Method::GET,
        json!([{
            "type": "patchElements",
            "elements": "<circle cx=\"5\" r=\"2\"></circle>",
            "selector": "#chart",
            "mode": "inner",
            "namespace": "svg",
            "useViewTransition": true,
            "viewTransitionSelector": "#chart-frame",
        }]),
        "event: datastar-patch-elements\ndata: selector #chart\ndata: mode inner\n\
         data: useViewTransition true\ndata: viewTransitionSelector #chart-frame\n\
         data: namespace svg\ndata: elements <circle r=\"2\" cx=\"5\"></circle>\n\n",
    )
    .await;
    expect_stream(
        addr,
        Method::POST,
        json!([
            {"type": "patchElements", "elements": "<mi id=\"x\">x</mi>", "namespace": "mathml"},
            {"type": "patchElements", "elements": "<p id=\"y\">y</p>", "namespace": "html"},
        ]),
        "event: datastar-patch-elements\ndata: namespace mathml\ndata: elements <mi id=\"x\">x</mi>\n\n\
         event: datastar-patch-elements\ndata: elements <p id=\"y\">y</p>\n\n",
    )
    .await;
}

#[tokio::test]
async fn delete_reads_signals_from_the_query() {
    let addr = support::server::spawn().await;
    expect_stream(
        addr,
        Method::DELETE,
        json!([{"type": "patchElements", "selector": "#row-3", "mode": "remove"}]),
        "event: datastar-patch-elements\ndata: selector #row-3\ndata: mode remove\n\n",
    )
    .await;
}

#[tokio::test]
async fn cr_and_crlf_split_elements_signals_and_scripts() {
    let addr = support::server::spawn().await;
    expect_stream(
        addr,
        Method::POST,
        json!([
            {"type": "patchElements", "elements": "<ul id=\"l\">\r\n<li>a</li>\r<li>b</li>\n</ul>"},
            {"type": "patchSignals", "signals-raw": "{\r\n\"a\": 1,\r\"b\": 2\n}"},
            {"type": "executeScript", "script": "a();\r\nb();\rc();", "autoRemove": false},
        ]),
        "event: datastar-patch-elements\ndata: elements <ul id=\"l\">\ndata: elements <li>a</li>\n\
         data: elements <li>b</li>\ndata: elements </ul>\n\n\
         event: datastar-patch-signals\ndata: signals {\ndata: signals \"a\": 1,\n\
         data: signals \"b\": 2\ndata: signals }\n\n\
         event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
         data: elements <script>a();\ndata: elements b();\ndata: elements c();</script>\n\n",
    )
    .await;
}

#[tokio::test]
async fn retry_equal_to_the_default_is_omitted() {
    let addr = support::server::spawn().await;
    expect_stream(
        addr,
        Method::GET,
        json!([
            {"type": "patchElements", "elements": "<p id=\"a\">a</p>", "retryDuration": 1000, "eventId": "1"},
            {"type": "patchSignals", "signals": {"a": 1}, "retryDuration": 1000},
            {"type": "executeScript", "script": "go()", "retryDuration": 1001},
        ]),
        "event: datastar-patch-elements\nid: 1\ndata: elements <p id=\"a\">a</p>\n\n\
         event: datastar-patch-signals\ndata: signals {\"a\":1}\n\n\
         event: datastar-patch-elements\nretry: 1001\ndata: mode append\ndata: selector body\n\
         data: elements <script data-effect=\"el.remove()\">go()</script>\n\n",
    )
    .await;
}

#[tokio::test]
async fn line_breaks_in_id_and_selector_are_refused() {
    let addr = support::server::spawn().await;
    let cases = [
        (
            json!({"type": "patchElements", "elements": "<p>x</p>", "eventId": "1\n2"}),
            "id",
        ),
        (
            json!({"type": "patchSignals", "signals": {}, "eventId": "1\r2"}),
            "id",
        ),
        (
            json!({"type": "patchElements", "selector": "#a\r\n#b", "mode": "remove"}),
            "selector",
        ),
        (
            json!({"type": "patchElements", "elements": "<p>x</p>", "viewTransitionSelector": "a\nb"}),
            "viewTransitionSelector",
        ),
    ];
    for (event, field) in cases {
        let input = json!({ "events": [event] }).to_string();
        let message = format!("{field} must not contain a line break");
        expect_refusal(
            addr,
            Method::POST,
            &input,
            StatusCode::INTERNAL_SERVER_ERROR,
            &message,
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_signals_are_bad_requests() {
    let addr = support::server::spawn().await;
    expect_refusal(
        addr,
        Method::POST,
        "{\"events\": [}",
        StatusCode::BAD_REQUEST,
        "signals are not valid json: expected value at line 1 column 13",
    )
    .await;
    expect_refusal(
        addr,
        Method::GET,
        "[1]",
        StatusCode::BAD_REQUEST,
        "signals must be a json object, found an array",
    )
    .await;
}
