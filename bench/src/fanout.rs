//! The fan-out benchmark (DESIGN §10): N live streams watch one global entity;
//! one change, how long until the last stream has it, and what an idle stream
//! costs the server.
//!
//! Every stream is its own HTTP/1.1 connection (a hyper client connection and a
//! tokio task each), opened a bounded number at a time so the server's accept
//! backlog copes. Each stream task parses the SSE frames as they arrive and
//! reports every tally total it sees, with the instant it saw it, to the
//! coordinator, which posts the change and collects the arrivals.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::BoxError;
use crate::fanout_report::{FanoutReport, FanoutRun, RoundSummary};
use crate::load::connect;
use crate::report;
use crate::servers::{self, Server, ServerProcess};

/// The live stream of a page showing the tally: its signals, `{"tally":{}}`,
/// url-encoded in the `datastar` parameter.
const STREAM_URI: &str = "/_starmodel/stream?datastar=%7B%22tally%22%3A%7B%7D%7D";

/// Streams being opened at once (the listener's backlog is 1024).
const OPEN_CONCURRENCY: usize = 128;
/// How long one stream may take from connecting to its first event.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long opening all the streams may take.
const OPEN_ALL_TIMEOUT: Duration = Duration::from_secs(180);
/// Pause before reading the server's memory, so it is idle when read.
const SETTLE: Duration = Duration::from_millis(500);
/// Pause between one round's last arrival and the next change.
const ROUND_GAP: Duration = Duration::from_millis(50);

const USAGE: &str = "usage: starmodel-bench fanout [--streams N[,N...]] [--rounds R] \
                     [--round-timeout SECONDS] [--smoke]";

/// How the fan-out benchmark is run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FanoutOptions {
    /// Stream counts, each measured against both servers.
    pub(crate) streams: Vec<usize>,
    /// Changes per run.
    pub(crate) rounds: usize,
    /// How long a round may take before its missing streams count as failures.
    pub(crate) round_timeout: Duration,
    /// Print the report as JSON instead of the table, write no file.
    pub(crate) smoke: bool,
}

/// Parses the arguments after `fanout`.
pub(crate) fn parse_args(mut args: impl Iterator<Item = String>) -> Result<FanoutOptions, String> {
    let mut options = FanoutOptions {
        streams: vec![10_000],
        rounds: 20,
        round_timeout: Duration::from_secs(5),
        smoke: false,
    };
    let (mut streams, mut rounds) = (None, None);
    let positive = |flag: &str, v: &str| {
        v.parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{flag}: `{v}` is not a positive integer"))
    };
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--streams" => {
                let v = value("--streams")?;
                streams = Some(
                    v.split(',')
                        .map(|n| positive("--streams", n.trim()))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            "--rounds" => rounds = Some(positive("--rounds", &value("--rounds")?)?),
            "--round-timeout" => {
                let v = value("--round-timeout")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| format!("--round-timeout: `{v}` is not a positive number"))?;
                options.round_timeout = Duration::from_secs_f64(secs);
            }
            "--smoke" => {
                options.smoke = true;
                options.streams = vec![50];
                options.rounds = 2;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if let Some(streams) = streams {
        options.streams = streams;
    }
    if let Some(rounds) = rounds {
        options.rounds = rounds;
    }
    Ok(options)
}

/// Runs raw, StarModel and raw again for every stream count, prints the table
/// (or, for `--smoke`, the JSON) and writes `target/bench/fanout.json`. Fails
/// after reporting when any stream could not be opened or missed a change.
pub(crate) async fn bench(options: FanoutOptions) -> Result<(), BoxError> {
    let load_limits = servers::open_file_limits(std::process::id());
    let before = report::loadavg();
    let plan = [
        (Server::FanoutRaw, "raw #1"),
        (Server::FanoutStarModel, "starmodel"),
        (Server::FanoutRaw, "raw #2"),
    ];
    if !options.smoke {
        eprint!(
            "{}",
            FanoutReport::header(&options, load_limits.as_ref(), None, &before, None)
        );
    }
    let mut runs = Vec::new();
    let mut server_limits = None;
    for &streams in &options.streams {
        for (server, name) in plan {
            let (run, limits) = run_one(server, name, streams, &options).await?;
            server_limits = server_limits.or(limits);
            if !options.smoke {
                eprint!("{}", FanoutReport::row(&run));
            }
            runs.push(run);
        }
    }
    let report = FanoutReport::new(
        &options,
        load_limits,
        server_limits,
        [before, report::loadavg()],
        runs,
    );
    if options.smoke {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
        let path = crate::bench_dir()?.join("fanout.json");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("written to {}", path.display());
    }
    let failed: Vec<_> = report
        .runs
        .iter()
        .filter(|r| r.failed())
        .map(|r| format!("{} with {} streams", r.name, r.streams))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "streams failed to open, broke or missed changes in: {}",
            failed.join(", ")
        )
        .into())
    }
}

/// What a stream task tells the coordinator.
#[derive(Debug)]
enum Msg {
    /// The stream is open and its first event carried `total`.
    Opened { idx: usize, total: i64 },
    /// The stream could not be opened.
    OpenFailed { error: String },
    /// An event carrying `total` arrived `at`.
    Seen { idx: usize, total: i64, at: Instant },
    /// The stream ended.
    Closed { idx: usize, error: String },
}

/// One server, `streams` streams, `options.rounds` changes. Returns the run and
/// the server's open-file limits.
async fn run_one(
    server: Server,
    name: &str,
    streams: usize,
    options: &FanoutOptions,
) -> Result<(FanoutRun, Option<(String, String)>), BoxError> {
    let process = ServerProcess::spawn(server)?;
    let (pid, addr) = (process.id(), process.addr());
    let limits = servers::open_file_limits(pid);
    let host = HeaderValue::from_str(&addr.to_string())?;
    let mut run = FanoutRun::new(name, server.label(), streams);

    // One change first, so the entity exists and every path is warm before the
    // server's idle memory is read.
    let mut poster = Poster::connect(addr, host.clone())
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let mut total = poster
        .add()
        .await
        .map_err(|e| format!("{name}: {e}"))?
        .ok_or_else(|| format!("{name}: POST /tally/add answered no tally"))?;
    tokio::time::sleep(SETTLE).await;
    run.rss_idle_kib = servers::rss_kib(pid);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let permits = Arc::new(Semaphore::new(OPEN_CONCURRENCY));
    let opening = Instant::now();
    let tasks: Vec<JoinHandle<()>> = (0..streams)
        .map(|idx| {
            tokio::spawn(stream_task(
                idx,
                addr,
                host.clone(),
                permits.clone(),
                tx.clone(),
            ))
        })
        .collect();
    drop(tx);

    let mut alive = vec![false; streams];
    let mut outcomes = 0;
    let deadline = opening + OPEN_ALL_TIMEOUT;
    while outcomes < streams {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some(Msg::Opened { idx, total: first })) => {
                outcomes += 1;
                alive[idx] = true;
                run.opened += 1;
                if first != total {
                    run.stale_first_events += 1;
                }
            }
            Ok(Some(Msg::OpenFailed { error })) => {
                outcomes += 1;
                *run.open_failures.entry(error).or_default() += 1;
            }
            Ok(Some(Msg::Closed { idx, error })) => {
                alive[idx] = false;
                *run.stream_errors.entry(error).or_default() += 1;
            }
            Ok(Some(Msg::Seen { .. })) => {}
            Ok(None) => break,
            Err(_) => {
                *run.open_failures
                    .entry(format!(
                        "not open after {} s in all",
                        OPEN_ALL_TIMEOUT.as_secs()
                    ))
                    .or_default() += streams - outcomes;
                break;
            }
        }
    }
    run.open_s = opening.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    run.rss_streams_kib = servers::rss_kib(pid);

    let cpu_before = (
        servers::cpu_time(pid),
        servers::cpu_time(std::process::id()),
    );
    for _ in 0..options.rounds {
        let expected = total + 1;
        let t0 = Instant::now();
        // StarModel leaves the new state out of the response while a stream
        // watches the entity (the streams deliver it); raw axum echoes it.
        let answered = poster.add().await.map_err(|e| format!("{name}: {e}"))?;
        let post_us = micros(t0.elapsed());
        if let Some(answered) = answered.filter(|t| *t != expected) {
            return Err(format!("{name}: the change made total {answered}, not {expected}").into());
        }
        total = expected;
        let waiting = alive.iter().filter(|a| **a).count();
        let mut got = vec![false; streams];
        let mut latencies = Vec::with_capacity(waiting);
        let mut lost = 0;
        let deadline = t0 + options.round_timeout;
        while latencies.len() + lost < waiting {
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some(Msg::Seen { idx, total, at })) => {
                    // Arrivals after the deadline are missing, even when the
                    // coordinator reads them in time.
                    if total >= expected && alive[idx] && !got[idx] && at <= deadline {
                        got[idx] = true;
                        latencies.push(micros(at.duration_since(t0)));
                    }
                }
                Ok(Some(Msg::Closed { idx, error })) => {
                    if alive[idx] && !got[idx] {
                        lost += 1;
                    }
                    alive[idx] = false;
                    *run.stream_errors.entry(error).or_default() += 1;
                }
                Ok(Some(Msg::Opened { .. } | Msg::OpenFailed { .. })) => {}
                Ok(None) | Err(_) => break,
            }
        }
        run.rounds.push(RoundSummary::new(
            expected,
            post_us,
            run.opened,
            latencies,
            micros(options.round_timeout),
        ));
        tokio::time::sleep(ROUND_GAP).await;
    }
    let cpu_after = (
        servers::cpu_time(pid),
        servers::cpu_time(std::process::id()),
    );
    let per_round = |before: Option<Duration>, after: Option<Duration>| {
        let used = after?.checked_sub(before?)?;
        Some(used.as_secs_f64() * 1e3 / options.rounds as f64)
    };
    run.server_cpu_ms_per_round = per_round(cpu_before.0, cpu_after.0);
    run.load_cpu_ms_per_round = per_round(cpu_before.1, cpu_after.1);
    run.finish();

    // The server goes first, so its side of every connection closes first and
    // the load generator's ports are free again at once.
    drop(process);
    for task in &tasks {
        task.abort();
    }
    drop(rx);
    tokio::time::sleep(SETTLE).await;
    Ok((run, limits))
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// One stream: opens it (holding one of the opening permits), then reports
/// every total it sees until it ends.
async fn stream_task(
    idx: usize,
    addr: SocketAddr,
    host: HeaderValue,
    permits: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let opened = {
        let _permit = permits.acquire().await;
        tokio::time::timeout(OPEN_TIMEOUT, open_stream(addr, host))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no first event within {} s",
                    OPEN_TIMEOUT.as_secs()
                ))
            })
    };
    let (_sender, mut body, mut parser, total) = match opened {
        Ok(open) => open,
        Err(error) => {
            let _ = tx.send(Msg::OpenFailed { error });
            return;
        }
    };
    let _ = tx.send(Msg::Opened { idx, total });
    let error = loop {
        match body.frame().await {
            None => break "the server ended the stream".to_owned(),
            Some(Err(e)) => break format!("stream body: {e}"),
            Some(Ok(frame)) => {
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                let at = Instant::now();
                match parser.feed(data) {
                    Ok(Some(total)) => {
                        let _ = tx.send(Msg::Seen { idx, total, at });
                    }
                    Ok(None) => {}
                    Err(e) => break e,
                }
            }
        }
    };
    let _ = tx.send(Msg::Closed { idx, error });
}

type OpenStream = (SendRequest<Empty<Bytes>>, Incoming, SseTotals, i64);

/// Connects, asks for the live stream, and reads up to its first event.
async fn open_stream(addr: SocketAddr, host: HeaderValue) -> Result<OpenStream, String> {
    let mut sender = connect(addr).await?;
    let request = Request::get(STREAM_URI)
        .header(HOST, host)
        .header("datastar-request", "true")
        .header(ACCEPT, "text/event-stream")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("GET stream: {e}"))?;
    let mut body = event_stream(response, "GET stream").await?;
    let mut parser = SseTotals::default();
    loop {
        let frame = body
            .frame()
            .await
            .ok_or("the stream ended before its first event")?
            .map_err(|e| format!("stream body: {e}"))?;
        if let Some(total) = frame
            .data_ref()
            .map(|d| parser.feed(d))
            .transpose()?
            .flatten()
        {
            return Ok((sender, body, parser, total));
        }
    }
}

/// The body of a 200 `text/event-stream` response, or what was wrong with it.
async fn event_stream(response: Response<Incoming>, what: &str) -> Result<Incoming, String> {
    let (parts, body) = response.into_parts();
    if parts.status != StatusCode::OK {
        let text = body
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        return Err(format!("{what}: status {}: {text}", parts.status));
    }
    let content_type = parts.headers.get(CONTENT_TYPE);
    if content_type.is_none_or(|v| !v.as_bytes().starts_with(b"text/event-stream")) {
        return Err(format!(
            "{what}: content-type {content_type:?}, not text/event-stream"
        ));
    }
    Ok(body)
}

/// The connection that posts the changes, as the Datastar client does.
struct Poster {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Poster {
    async fn connect(addr: SocketAddr, host: HeaderValue) -> Result<Self, String> {
        Ok(Self {
            sender: connect(addr).await?,
            host,
        })
    }

    /// `POST /tally/add`; the new total, if the response tells it.
    async fn add(&mut self) -> Result<Option<i64>, String> {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/tally/add")
            .header(HOST, self.host.clone())
            .header("datastar-request", "true")
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(Full::new(Bytes::from_static(br#"{"tally":{"total":0}}"#)))
            .map_err(|e| e.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("POST connection closed: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("POST /tally/add: {e}"))?;
        let body = event_stream(response, "POST /tally/add")
            .await?
            .collect()
            .await
            .map_err(|e| format!("POST /tally/add body: {e}"))?
            .to_bytes();
        SseTotals::default().feed(&body)
    }
}

/// An incremental reader of the tally totals in an SSE byte stream: events may
/// arrive split across reads or several in one.
#[derive(Debug, Default)]
pub(crate) struct SseTotals {
    /// Bytes of an event not yet complete.
    pending: Vec<u8>,
}

impl SseTotals {
    /// Feeds the next bytes; the highest total among the events they complete.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<Option<i64>, String> {
        if self.pending.is_empty() && chunk.ends_with(b"\n\n") {
            // The usual case, one whole event per read: nothing to copy.
            return highest_total(chunk);
        }
        self.pending.extend_from_slice(chunk);
        let Some(end) = self.pending.windows(2).rposition(|w| w == b"\n\n") else {
            return Ok(None);
        };
        let best = highest_total(&self.pending[..end + 2]);
        self.pending.drain(..end + 2);
        best
    }
}

/// The highest total in the `data: signals` lines of complete events.
fn highest_total(events: &[u8]) -> Result<Option<i64>, String> {
    let mut best = None;
    for line in events.split(|b| *b == b'\n') {
        if let Some(json) = line.strip_prefix(b"data: signals ") {
            let total = total_of(json).ok_or_else(|| {
                format!(
                    "an event without a tally total: `{}`",
                    String::from_utf8_lossy(line)
                )
            })?;
            best = best.max(Some(total));
        }
    }
    Ok(best)
}

/// `K` in `{"tally":{"total":K}}`.
fn total_of(json: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"total\":";
    let start = json.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &json[start..];
    let len = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'-'))
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..len]).ok()?.parse().ok()
}

/// Open-failure and stream-error messages, counted.
pub(crate) type ErrorCounts = BTreeMap<String, usize>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::tally_event;

    #[test]
    fn totals_are_read_across_split_and_joined_events() {
        let mut p = SseTotals::default();
        assert_eq!(p.feed(&tally_event(7)), Ok(Some(7)));
        let two = [tally_event(8), tally_event(9)].concat();
        assert_eq!(p.feed(&two), Ok(Some(9)));
        let e = tally_event(10);
        assert_eq!(p.feed(&e[..20]), Ok(None));
        assert_eq!(p.feed(&e[20..e.len() - 1]), Ok(None));
        assert_eq!(p.feed(&e[e.len() - 1..]), Ok(Some(10)));
        assert_eq!(p.feed(b": keep-alive\n\n"), Ok(None));
        assert_eq!(p.feed(&tally_event(-3)), Ok(Some(-3)));
        assert!(p.feed(b"event: x\ndata: signals {}\n\n").is_err());
    }

    #[test]
    fn options_default_to_ten_thousand_streams() {
        let parse = |args: &[&str]| parse_args(args.iter().map(|s| (*s).to_owned()));
        let o = parse(&[]).unwrap();
        assert_eq!((o.streams, o.rounds, o.smoke), (vec![10_000], 20, false));
        let o = parse(&["--streams", "1000,10000", "--rounds", "5"]).unwrap();
        assert_eq!((o.streams, o.rounds), (vec![1000, 10_000], 5));
        let o = parse(&["--smoke"]).unwrap();
        assert_eq!((o.streams, o.rounds, o.smoke), (vec![50], 2, true));
        let o = parse(&["--rounds", "3", "--smoke"]).unwrap();
        assert_eq!(o.rounds, 3);
        assert!(parse(&["--streams", "0"]).is_err());
        assert!(parse(&["--streams", "5,x"]).is_err());
        assert!(parse(&["--rounds"]).is_err());
    }
}
