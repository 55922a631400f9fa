//! An axum server exposing `/test` the way the upstream SDK test suite expects: it reads
//! the signals, walks `events[]` and answers with every event encoded, then ends the stream.
//!
//! Besides the upstream keys it understands `namespace` and `viewTransitionSelector`, which
//! the golden cases never use.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;
use starmodel_datastar::{
    DatastarEvent, ElementPatchMode, ExecuteScript, Namespace, PatchElements, PatchSignals,
    is_datastar_request, read_signals, sse_headers,
};

/// Starts the server on an ephemeral port of 127.0.0.1 and returns its address.
pub(crate) async fn spawn() -> SocketAddr {
    let app = Router::new().route("/test", get(handle).post(handle).delete(handle));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

async fn handle(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if !is_datastar_request(&headers) {
        return (StatusCode::BAD_REQUEST, "not a datastar request").into_response();
    }
    let signals = match read_signals(&method, uri.query(), &body) {
        Ok(signals) => signals,
        Err(err) => return (err.status(), err.to_string()).into_response(),
    };
    let events = signals["events"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for input in events {
        let event = match to_event(input) {
            Ok(event) => event,
            Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
        };
        if let Err(err) = event.write_to(&mut out) {
            return (err.status(), err.to_string()).into_response();
        }
    }
    (sse_headers(), out).into_response()
}

fn to_event(input: &Value) -> Result<Box<dyn DatastarEvent>, String> {
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let flag = |key: &str| input.get(key).and_then(Value::as_bool);
    let id = text("eventId");
    let retry = input
        .get("retryDuration")
        .and_then(Value::as_u64)
        .map(Duration::from_millis);
    match text("type") {
        Some("patchElements") => {
            let mut event = PatchElements::new(text("elements").unwrap_or_default());
            if let Some(selector) = text("selector") {
                event = event.selector(selector);
            }
            if let Some(mode) = text("mode") {
                event = event.mode(parse_mode(mode)?);
            }
            if let Some(use_view_transition) = flag("useViewTransition") {
                event = event.use_view_transition(use_view_transition);
            }
            if let Some(selector) = text("viewTransitionSelector") {
                event = event.view_transition_selector(selector);
            }
            if let Some(namespace) = text("namespace") {
                event = event.namespace(parse_namespace(namespace)?);
            }
            if let Some(id) = id {
                event = event.id(id);
            }
            if let Some(retry) = retry {
                event = event.retry(retry);
            }
            Ok(Box::new(event))
        }
        Some("patchSignals") => {
            let mut event = match (text("signals-raw"), input.get("signals")) {
                (Some(raw), _) => PatchSignals::new(raw),
                (None, Some(signals)) => PatchSignals::from_value(signals),
                (None, None) => return Err("patchSignals without signals".into()),
            };
            if let Some(only_if_missing) = flag("onlyIfMissing") {
                event = event.only_if_missing(only_if_missing);
            }
            if let Some(id) = id {
                event = event.id(id);
            }
            if let Some(retry) = retry {
                event = event.retry(retry);
            }
            Ok(Box::new(event))
        }
        Some("executeScript") => {
            let mut event = ExecuteScript::new(text("script").unwrap_or_default());
            if let Some(auto_remove) = flag("autoRemove") {
                event = event.auto_remove(auto_remove);
            }
            let attributes = input.get("attributes").and_then(Value::as_object);
            for (name, value) in attributes.into_iter().flatten() {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                event = event.attribute(name.as_str(), value);
            }
            if let Some(id) = id {
                event = event.id(id);
            }
            if let Some(retry) = retry {
                event = event.retry(retry);
            }
            Ok(Box::new(event))
        }
        other => Err(format!("unknown event type {other:?}")),
    }
}

fn parse_mode(mode: &str) -> Result<ElementPatchMode, String> {
    use ElementPatchMode::*;
    [
        Outer, Inner, Remove, Replace, Prepend, Append, Before, After,
    ]
    .into_iter()
    .find(|candidate| candidate.as_str() == mode)
    .ok_or_else(|| format!("unknown mode {mode:?}"))
}

fn parse_namespace(namespace: &str) -> Result<Namespace, String> {
    [Namespace::Html, Namespace::Svg, Namespace::MathMl]
        .into_iter()
        .find(|candidate| candidate.as_str() == namespace)
        .ok_or_else(|| format!("unknown namespace {namespace:?}"))
}
