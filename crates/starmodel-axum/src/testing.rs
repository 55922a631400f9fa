//! Testing an application in-process: a [`TestClient`] sends requests through
//! the application's router (no socket, no server), keeps the session cookie as
//! a browser would, runs events as Datastar sends them and reads the live stream
//! frame by frame.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use starmodel_axum::testing::TestClient;
//! let app = starmodel_axum::StarModel::new()
//!     .secret([7u8; 32])
//!     .route("/", axum::routing::get(|| async { "hello" }))
//!     .build()
//!     .unwrap();
//! let client = TestClient::new(&app);
//! let page = client.get("/").await;
//! assert_eq!(page.status, http::StatusCode::OK);
//! assert_eq!(page.body, "hello");
//! # }
//! ```
//!
//! Records go to whatever stores the application was built with: a
//! `MemoryStore::new()`, or a throwaway SQLite database from
//! `starmodel_sql::testing::TempDatabase::sqlite()`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use starmodel_core::{Action, EventMethod};
use tower::ServiceExt;

use crate::App;
use crate::view::STREAM_PATH;

/// A browser-like client of one application: requests go through its router,
/// and the session cookie it sets is sent back on every later request.
#[derive(Clone)]
pub struct TestClient {
    router: Router,
    cookie: Arc<Mutex<Option<String>>>,
    /// The application's prefix, for the live stream's URL.
    prefix: String,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("cookie", &self.cookie())
            .finish_non_exhaustive()
    }
}

/// What the application answered, read to the end.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text (lossy for bytes that are not UTF-8).
    pub body: String,
}

impl TestResponse {
    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON (the message shows it).
    #[allow(clippy::panic)]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.body))
    }

    /// The server-sent events of an event-stream body, comments left out.
    pub fn events(&self) -> Vec<SseEvent> {
        self.body
            .split("\n\n")
            .filter_map(SseEvent::parse)
            .collect()
    }
}

/// One server-sent event: its type and its `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `datastar-patch-elements`, `datastar-patch-signals`, ...
    pub event: String,
    /// The `data:` lines without their prefix (`elements <div ...>`, `signals {...}`).
    pub data: Vec<String>,
}

impl SseEvent {
    /// One block of an event stream; `None` for a comment or an empty block.
    fn parse(block: &str) -> Option<Self> {
        let mut event = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event: ") {
                event = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push(v.to_owned());
            }
        }
        Some(Self {
            event: event?,
            data,
        })
    }

    /// The signals a `datastar-patch-signals` event sets (`Null` for any other).
    pub fn signals(&self) -> serde_json::Value {
        let json: String = self
            .data
            .iter()
            .filter_map(|l| l.strip_prefix("signals "))
            .collect();
        serde_json::from_str(&json).unwrap_or_default()
    }

    /// The markup a `datastar-patch-elements` event sends (its `elements` lines).
    pub fn elements(&self) -> String {
        self.data
            .iter()
            .filter_map(|l| l.strip_prefix("elements "))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The page's live stream, open: read it event by event.
#[derive(Debug)]
pub struct LiveStream {
    body: Body,
    pending: String,
}

impl LiveStream {
    /// The next event (comments skipped), or `None` when the stream ended or
    /// nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                if let Some(event) = SseEvent::parse(&block) {
                    return Some(event);
                }
            }
            let frame = tokio::time::timeout(wait, self.body.frame()).await.ok()??;
            let data = frame.ok()?.into_data().unwrap_or_default();
            self.pending.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

impl TestClient {
    /// A client of `app`, with no session yet.
    pub fn new(app: &App) -> Self {
        Self {
            router: app.router(),
            cookie: Arc::new(Mutex::new(None)),
            prefix: app.prefix().to_owned(),
        }
    }

    /// The session cookie (`name=value`) the application set, if any.
    pub fn cookie(&self) -> Option<String> {
        self.cookie
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `GET path` as a browser navigating to a page (`Accept: text/html`).
    pub async fn get(&self, path: &str) -> TestResponse {
        let req = Request::get(path)
            .header(header::ACCEPT, "text/html,*/*;q=0.8")
            .body(Body::empty());
        self.send(req.unwrap_or_default()).await
    }

    /// Runs `action` (`Todo::action(id).rename("x")`, `Counter::action().increment(Some(1))`)
    /// as a Datastar click would: its method and URL, `Datastar-Request: true`,
    /// and `signals` as the JSON body (in the query for `GET`).
    pub async fn event(&self, action: &Action, signals: serde_json::Value) -> TestResponse {
        // Made outside the application's requests, an action lacks its prefix.
        let url = format!("{}{}", self.prefix, action.app_url());
        self.datastar(action.method(), &url, signals).await
    }

    /// A Datastar request of `method` to `url` with `signals`.
    pub async fn datastar(
        &self,
        method: EventMethod,
        url: &str,
        signals: serde_json::Value,
    ) -> TestResponse {
        let method = match method {
            EventMethod::Get => Method::GET,
            EventMethod::Post => Method::POST,
            EventMethod::Put => Method::PUT,
            EventMethod::Patch => Method::PATCH,
            EventMethod::Delete => Method::DELETE,
        };
        let json = signals.to_string();
        let builder = Request::builder()
            .header("datastar-request", "true")
            .header(header::CONTENT_TYPE, "application/json");
        let req = if method == Method::GET {
            let sep = if url.contains('?') { '&' } else { '?' };
            let query: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
            builder
                .uri(format!("{url}{sep}datastar={query}"))
                .body(Body::empty())
        } else {
            builder.method(method).uri(url).body(Body::from(json))
        };
        self.send(req.unwrap_or_default()).await
    }

    /// Opens the page's live stream for the entities `signals` name (what a page
    /// showing them sends: `{"counter": {}}`, or a live view's element id under
    /// `starmodel.views`), answered or refused.
    ///
    /// # Errors
    ///
    /// The response, read to the end, when the stream was refused.
    pub async fn live(&self, signals: serde_json::Value) -> Result<LiveStream, TestResponse> {
        let query: String =
            form_urlencoded::byte_serialize(signals.to_string().as_bytes()).collect();
        let req = Request::get(format!("{}{STREAM_PATH}?datastar={query}", self.prefix))
            .header("datastar-request", "true")
            .body(Body::empty())
            .unwrap_or_default();
        let res = self.call(req).await;
        if res.status() != StatusCode::OK {
            return Err(read(res).await);
        }
        Ok(LiveStream {
            body: res.into_body(),
            pending: String::new(),
        })
    }

    /// Sends `req` with the session cookie, keeps the cookie the answer sets, and
    /// reads the whole answer.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        read(self.call(req).await).await
    }

    async fn call(&self, mut req: Request<Body>) -> http::Response<Body> {
        if let Some(cookie) = self.cookie()
            && let Ok(value) = cookie.parse()
        {
            req.headers_mut().insert(header::COOKIE, value);
        }
        let Ok(res) = self.router.clone().oneshot(req).await;
        if let Some(set) = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            *self.cookie.lock().unwrap_or_else(PoisonError::into_inner) = Some(pair);
        }
        res
    }
}

async fn read(res: http::Response<Body>) -> TestResponse {
    let (parts, body) = res.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_streams_parse_into_events_without_comments() {
        let body = ": keep-alive\n\nevent: datastar-patch-signals\ndata: signals {\"a\":1}\n\n\
                    event: datastar-patch-elements\ndata: elements <p>x</p>\ndata: elements <p>y</p>\n\n";
        let res = TestResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.into(),
        };
        let events = res.events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].signals(), serde_json::json!({"a": 1}));
        assert_eq!(events[1].elements(), "<p>x</p>\n<p>y</p>");
        assert_eq!(events[1].signals(), serde_json::Value::Null);
    }
}
