//! Test entities and helpers that drive a StarModel router in-process (no sockets)
//! and parse its SSE bodies.

#![allow(dead_code, missing_docs, unreachable_pub)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use starmodel::prelude::*;
use tower::ServiceExt;

include!("../ui/shared/counter.rs");
counter! {
    #[event]
    fn set(&mut self, count: i64) {
        self.count = count;
    }

    #[event(selector = "#status", mode = "inner")]
    fn shout(&mut self, text: String) -> Markup {
        html! { b { (text.to_uppercase()) } }
    }

    #[event]
    fn boom(&mut self) {
        self.count = 999;
        panic!("boom in user code");
    }

    #[event]
    fn refuse(&mut self) -> Result<(), String> {
        self.count = 777;
        Err("counting is closed today".to_owned())
    }

    #[event(method = "delete")]
    fn clear(&mut self) {
        self.count = 0;
    }
}

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(scope = "global")]
pub struct Tally {
    pub total: i64,
}

#[events]
impl Tally {
    #[event]
    fn add(&mut self, amount: Option<i64>) {
        self.total += amount.unwrap_or(1);
    }
}

pub async fn index(counter: Counter, tally: Tally) -> Markup {
    page(html! {
        (counter)
        (tally)
        span #count "data-text"=(Counter::signal().count) { (counter.count) }
    })
}

pub fn builder() -> StarModel {
    StarModel::new()
        .secret("test secret that is at least 32 bytes long")
        .entity::<Counter>()
        .entity::<Tally>()
        .route("/", get(index))
}

pub fn router() -> Router {
    builder().build().expect("app builds").router()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// A request as Datastar sends it: header, JSON signals body, session cookie.
pub fn event(method: &str, uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("datastar-request", "true")
        .header("content-type", "application/json");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    b.body(Body::from(body.to_owned())).expect("request")
}

/// Starts a session with a page view and returns its cookie pair.
/// Sends a Datastar `POST` to `uri` with no signals: what a button's `@post` does.
pub async fn fire(router: &Router, uri: &str, cookie: Option<&str>) -> Reply {
    send(router, event("POST", uri, cookie, "{}")).await
}

pub async fn session(router: &Router) -> String {
    let res = send(router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status, StatusCode::OK);
    let set = res.headers["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sse {
    pub event: String,
    pub data: Vec<String>,
}

impl Sse {
    /// The JSON of a `datastar-patch-signals` event.
    pub fn signals(&self) -> serde_json::Value {
        assert_eq!(self.event, "datastar-patch-signals");
        let json: String = self
            .data
            .iter()
            .filter_map(|l| l.strip_prefix("signals "))
            .collect();
        serde_json::from_str(&json).expect("signals json")
    }
}

pub fn parse_sse(body: &str) -> Vec<Sse> {
    body.split("\n\n")
        .filter(|chunk| !chunk.trim().is_empty())
        .filter(|chunk| !chunk.lines().all(|l| l.starts_with(':')))
        .map(|chunk| {
            let mut event = String::new();
            let mut data = Vec::new();
            for line in chunk.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push(v.to_owned());
                }
            }
            Sse { event, data }
        })
        .collect()
}

/// An open live stream.
pub struct Stream {
    body: Body,
    pending: String,
}

pub async fn open_stream(router: &Router, cookie: Option<&str>, signals: &str) -> Stream {
    let query: String = form_encode(signals);
    let mut b = Request::get(format!("/_starmodel/stream?datastar={query}"))
        .header("datastar-request", "true");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    let res: Response<Body> = router
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    Stream {
        body: res.into_body(),
        pending: String::new(),
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Stream {
    /// The next complete raw SSE block (comments included), or `None` when the
    /// stream ended or nothing came within `wait`.
    pub async fn next_raw(&mut self, wait: Duration) -> Option<String> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block = self.pending[..end + 2].to_owned();
                self.pending.drain(..end + 2);
                return Some(block);
            }
            let frame = tokio::time::timeout(wait, self.body.frame()).await.ok()??;
            let data: Bytes = frame.ok()?.into_data().unwrap_or_default();
            self.pending.push_str(std::str::from_utf8(&data).unwrap());
        }
    }

    /// The next event, skipping comments.
    pub async fn next(&mut self, wait: Duration) -> Option<Sse> {
        loop {
            let raw = self.next_raw(wait).await?;
            if let Some(e) = parse_sse(&raw).into_iter().next() {
                return Some(e);
            }
        }
    }

    /// `true` when the stream ended (rather than just being idle) within `wait`.
    pub async fn ended(&mut self, wait: Duration) -> bool {
        loop {
            match tokio::time::timeout(wait, self.body.frame()).await {
                Err(_) => return false,
                Ok(None) => return true,
                Ok(Some(_)) => continue,
            }
        }
    }
}

/// How long a test waits for something that should come (a stream frame, an
/// answer): generous, as it only bounds a hang; absences are checked with their
/// own short waits.
pub const WAIT: Duration = Duration::from_secs(10);

/// An application served over a real socket until dropped.
pub struct Server {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `app` on a free port of 127.0.0.1.
pub async fn serve(app: starmodel::App) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Ready before the first request (serving would prepare too, but inside that
    // request's wait), and a store that cannot prepare fails here, not as a hang.
    app.prepare().await.expect("the application prepares");
    tokio::spawn(app.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
    }
}

/// One HTTP/1.1 request over a new connection (`connection: close`): the raw
/// exchange, so status lines, headers and lengths are what a client sees.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut raw))
        .await
        .expect("the server answers and closes")
        .unwrap();
    parse_http_response(&raw)
}

fn parse_http_response(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let code: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            http::HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    let mut body = raw[end + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap(), 16).unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = decoded;
    }
    Reply {
        status: StatusCode::from_u16(code).unwrap(),
        headers,
        body: String::from_utf8(body).expect("utf-8"),
    }
}
