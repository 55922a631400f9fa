//! The load generator: keep-alive HTTP/1.1 connections posting one event back to
//! back with the headers and body the Datastar client sends: the session
//! counter's `increment` (each connection first starts its own session with
//! `GET /counter`), or a record's `bump`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, CONTENT_TYPE, COOKIE, HOST, HeaderValue, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 client connection to `addr` (no Nagle delay), its
/// connection task spawned.
pub(crate) async fn connect<B>(addr: SocketAddr) -> Result<SendRequest<B>, String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    Ok(sender)
}

/// The signals the counter's page sends with every event.
const SIGNALS: &str = r#"{"counter":{"count":0,"update_count":0}}"#;

/// The event every connection posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    /// `POST /counter/increment?amount=1` in a session of the connection's own;
    /// the answer is a `datastar-patch-signals` event.
    Counter,
    /// `POST /item/{id}/bump?by=1` on rows `0..rows` as [`Rows`] says; the answer
    /// is an empty event stream (record entities are live through views).
    Bump {
        /// How many rows exist.
        rows: usize,
        /// Which of them each connection bumps.
        spread: Rows,
    },
}

/// Which rows the connections of a [`Workload::Bump`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Connection `c` of `n` cycles through rows `c, c + n, c + 2n, …` below
    /// `rows`: no two connections ever write the same row (with `n <= rows`).
    Own,
    /// Every connection bumps row 0: all writes contend for one row.
    Hot,
}

impl Workload {
    /// The path of request `k` of connection `c` of `n`.
    fn path(self, c: usize, n: usize, k: usize) -> String {
        match self {
            Workload::Counter => "/counter/increment?amount=1".to_owned(),
            Workload::Bump {
                spread: Rows::Hot, ..
            } => "/item/0/bump?by=1".to_owned(),
            Workload::Bump {
                rows,
                spread: Rows::Own,
            } => {
                let per_connection = (rows / n).max(1);
                let id = (c + n * (k % per_connection)) % rows.max(1);
                format!("/item/{id}/bump?by=1")
            }
        }
    }

    /// The signals sent with each event.
    fn signals(self) -> &'static str {
        match self {
            Workload::Counter => SIGNALS,
            // A page listing records has no signals of its own.
            Workload::Bump { .. } => "{}",
        }
    }

    /// Whether `body` is the answer this event must get.
    fn expects(self, body: &[u8]) -> bool {
        match self {
            Workload::Counter => body.starts_with(b"event: datastar-patch-signals\n"),
            Workload::Bump { .. } => body.is_empty(),
        }
    }
}

/// How one run is driven.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadConfig {
    /// Concurrent connections, one request in flight on each.
    pub(crate) connections: usize,
    /// Requests before this are not measured.
    pub(crate) warmup: Duration,
    /// How long requests are measured.
    pub(crate) duration: Duration,
}

impl LoadConfig {
    /// The measured runs' defaults: 64 connections, 2 s warm-up, 10 s measured.
    pub(crate) fn standard() -> Self {
        Self {
            connections: 64,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
        }
    }

    /// A smoke run (`--smoke`): 4 connections for 1 s.
    pub(crate) fn smoke() -> Self {
        Self {
            connections: 4,
            warmup: Duration::from_millis(200),
            duration: Duration::from_secs(1),
        }
    }

    /// Applies `--duration SECONDS` or `--connections N` (1..=`max_connections`)
    /// when `flag` is one of them, taking its value from `args`; `Ok(false)` for
    /// any other flag.
    pub(crate) fn parse_flag(
        &mut self,
        flag: &str,
        args: &mut impl Iterator<Item = String>,
        max_connections: usize,
        usage: &str,
    ) -> Result<bool, String> {
        if flag != "--duration" && flag != "--connections" {
            return Ok(false);
        }
        let v = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
        if flag == "--duration" {
            let secs: f64 = v
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("--duration: `{v}` is not a positive number"))?;
            self.duration = Duration::from_secs_f64(secs);
        } else {
            self.connections = v
                .parse()
                .ok()
                .filter(|n| (1..=max_connections).contains(n))
                .ok_or_else(|| match max_connections {
                    usize::MAX => format!("--connections: `{v}` is not a positive integer"),
                    max => format!("--connections: `{v}` is not in 1..={max}"),
                })?;
        }
        Ok(true)
    }
}

/// What one run measured.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    /// Latency of every request that started and finished in the measured
    /// window, in microseconds.
    pub(crate) latencies_us: Vec<u32>,
    /// Requests answered as expected, warm-up and all: every event the server
    /// says it ran.
    pub(crate) answered: u64,
    /// Failed requests (each ends its connection).
    pub(crate) errors: u64,
    /// What the first failure was.
    pub(crate) first_error: Option<String>,
}

/// What one connection did.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    answered: u64,
}

/// Drives the server at `addr` with `workload` and `config`, measuring from
/// `measure_from` (the end of the warm-up), and collects every connection's
/// latencies. A failure stops all connections: a run with errors is not a
/// measurement. Every request has been answered when this returns.
pub(crate) async fn run(
    addr: SocketAddr,
    workload: Workload,
    config: LoadConfig,
    measure_from: Instant,
) -> LoadResult {
    let until = measure_from + config.duration;
    let stop = Arc::new(AtomicBool::new(false));
    let n = config.connections;
    let tasks: Vec<_> = (0..n)
        .map(|c| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let client = Client {
                    workload,
                    c,
                    n,
                    measure_from,
                    until,
                };
                let outcome = client.connection(addr, &stop, &mut tally).await;
                if outcome.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                (tally, outcome)
            })
        })
        .collect();
    let mut result = LoadResult::default();
    for task in tasks {
        let (tally, outcome) = match task.await {
            Ok(done) => done,
            Err(e) => (
                Tally::default(),
                Err(format!("connection task failed: {e}")),
            ),
        };
        result.latencies_us.extend(tally.latencies_us);
        result.answered += tally.answered;
        if let Err(e) = outcome {
            result.errors += 1;
            result.first_error.get_or_insert(e);
        }
    }
    result
}

/// Connection `c` of `n`.
struct Client {
    workload: Workload,
    c: usize,
    n: usize,
    measure_from: Instant,
    until: Instant,
}

impl Client {
    async fn connection(
        &self,
        addr: SocketAddr,
        stop: &AtomicBool,
        tally: &mut Tally,
    ) -> Result<(), String> {
        let Client {
            workload,
            c,
            n,
            measure_from,
            until,
        } = *self;
        let mut sender = connect(addr).await?;
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        let cookie = match workload {
            Workload::Counter => Some(start_session(&mut sender, &host).await?),
            Workload::Bump { .. } => None,
        };

        let mut k = 0;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            let mut request = Request::builder()
                .method(Method::POST)
                .uri(workload.path(c, n, k))
                .header(HOST, host.clone())
                .header("datastar-request", "true")
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "text/event-stream");
            if let Some(cookie) = &cookie {
                request = request.header(COOKIE, cookie.clone());
            }
            let request = request
                .body(Full::new(Bytes::from_static(workload.signals().as_bytes())))
                .map_err(|e| e.to_string())?;
            k += 1;
            sender
                .ready()
                .await
                .map_err(|e| format!("connection closed: {e}"))?;
            let sent = Instant::now();
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| format!("response body: {e}"))?
                .to_bytes();
            let done = Instant::now();
            if parts.status != StatusCode::OK {
                return Err(format!(
                    "status {}: {}",
                    parts.status,
                    String::from_utf8_lossy(&body)
                ));
            }
            let content_type = parts.headers.get(CONTENT_TYPE);
            if content_type.is_none_or(|v| v != "text/event-stream") {
                return Err(format!(
                    "content-type {content_type:?}, not text/event-stream"
                ));
            }
            if !workload.expects(&body) {
                return Err(format!(
                    "unexpected body for {workload:?}: {:?}",
                    String::from_utf8_lossy(&body)
                ));
            }
            tally.answered += 1;
            if sent >= measure_from && done <= until {
                let us = done.duration_since(sent).as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(us).unwrap_or(u32::MAX));
            }
        }
        Ok(())
    }
}

/// `GET /counter`, returning the `name=value` pair of the session cookie it sets.
async fn start_session(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
) -> Result<HeaderValue, String> {
    let request = Request::get("/counter")
        .header(HOST, host.clone())
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("GET /counter: {e}"))?;
    if response.status() != StatusCode::OK {
        return Err(format!("GET /counter: status {}", response.status()));
    }
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .filter(|pair| pair.starts_with("starmodel_session="))
        .ok_or("GET /counter set no starmodel_session cookie")?;
    let cookie = HeaderValue::from_str(cookie).map_err(|e| e.to_string())?;
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("GET /counter body: {e}"))?;
    Ok(cookie)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn own_rows_are_disjoint_and_hot_rows_are_one() {
        let own = Workload::Bump {
            rows: 1000,
            spread: Rows::Own,
        };
        let n = 64;
        let mut seen = HashSet::new();
        for c in 0..n {
            let mine: HashSet<_> = (0..100).map(|k| own.path(c, n, k)).collect();
            // 1000 / 64 rows each, visited in turn.
            assert_eq!(mine.len(), 15, "connection {c}");
            assert!(mine.is_disjoint(&seen), "connection {c} shares a row");
            seen.extend(mine);
        }
        assert!(seen.contains("/item/0/bump?by=1") && seen.contains("/item/959/bump?by=1"));
        assert!(!seen.contains("/item/960/bump?by=1"));
        let hot = Workload::Bump {
            rows: 1000,
            spread: Rows::Hot,
        };
        assert_eq!(hot.path(7, n, 3), "/item/0/bump?by=1");
    }
}
