//! The load generator: keep-alive HTTP/1.1 connections, each starting its own
//! session with `GET /counter`, then posting the counter's `increment` event
//! back to back with the headers and body the Datastar client sends.

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

/// What one run measured.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    /// Latency of every request that started and finished in the measured
    /// window, in microseconds.
    pub(crate) latencies_us: Vec<u32>,
    /// Failed requests (each ends its connection).
    pub(crate) errors: u64,
    /// What the first failure was.
    pub(crate) first_error: Option<String>,
}

/// Drives the server at `addr` with `config`, measuring from `measure_from` (the
/// end of the warm-up), and collects every connection's latencies. A failure
/// stops all connections: a run with errors is not a measurement.
pub(crate) async fn run(addr: SocketAddr, config: LoadConfig, measure_from: Instant) -> LoadResult {
    let until = measure_from + config.duration;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..config.connections)
        .map(|_| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let outcome = connection(addr, measure_from, until, &stop, &mut latencies).await;
                if outcome.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                (latencies, outcome)
            })
        })
        .collect();
    let mut result = LoadResult::default();
    for task in tasks {
        let (latencies, outcome) = match task.await {
            Ok(done) => done,
            Err(e) => (Vec::new(), Err(format!("connection task failed: {e}"))),
        };
        result.latencies_us.extend(latencies);
        if let Err(e) = outcome {
            result.errors += 1;
            result.first_error.get_or_insert(e);
        }
    }
    result
}

async fn connection(
    addr: SocketAddr,
    measure_from: Instant,
    until: Instant,
    stop: &AtomicBool,
    latencies: &mut Vec<u32>,
) -> Result<(), String> {
    let mut sender = connect(addr).await?;
    let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
    let cookie = start_session(&mut sender, &host).await?;

    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/counter/increment?amount=1")
            .header(HOST, host.clone())
            .header("datastar-request", "true")
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .header(COOKIE, cookie.clone())
            .body(Full::new(Bytes::from_static(SIGNALS.as_bytes())))
            .map_err(|e| e.to_string())?;
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
        if !body.starts_with(b"event: datastar-patch-signals\n") {
            return Err(format!(
                "body is not a patch-signals event: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        if sent >= measure_from && done <= until {
            let us = done.duration_since(sent).as_micros();
            latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
        }
    }
    Ok(())
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
