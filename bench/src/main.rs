//! StarModel's benchmarks (DESIGN §10), each against raw axum/tokio doing the
//! same work in the same run.
//!
//! # Foundation: what does StarModel add to axum?
//!
//! In one run, over loopback, N keep-alive HTTP/1.1 connections (default 64)
//! post `POST /counter/increment?amount=1` back to back, with the headers,
//! body and session cookie the Datastar client sends, to
//!
//! 1. **raw axum** answering the same `datastar-patch-signals` bytes,
//! 2. **starmodel**: a session-scope memory-store `Counter` entity, each
//!    connection its own session (from a `GET /counter` first),
//! 3. **raw axum** again, so the noise between runs is visible.
//!
//! Each server runs in a child process of its own (this binary re-executed with a
//! hidden `serve-raw` / `serve-starmodel` subcommand), one at a time. Every run
//! has a 2 s warm-up, then measures for `--duration` seconds; any response that is
//! not a 200 `text/event-stream` aborts the benchmark. The table (req/s, p50, p99,
//! max, errors, and the server process's CPU time per request, which the load
//! generator's share of the cores does not blur) and the ratio of StarModel's
//! req/s to the raw runs' mean are printed and written to
//! `target/bench/foundation.json`.
//!
//! ```sh
//! cargo run --release -p starmodel-bench -- [--duration 10] [--connections 64]
//! ```
//!
//! `--smoke` runs each server for 1 s with 4 connections and prints the report as
//! JSON (the harness's own test uses it).
//!
//! # Fan-out: one change, N open live streams
//!
//! ```sh
//! cargo run --release -p starmodel-bench -- fanout [--streams 10000] [--rounds 20]
//! ```
//!
//! The claim (DESIGN §10): one change reaches 10,000 open streams within a quarter
//! second on a 2-core machine, and an idle stream costs the server a few KiB.
//! The servers, each in a child process (`serve-fanout-raw`, `serve-fanout`),
//! in the order raw, starmodel, raw:
//!
//! - **starmodel**: a global-scope memory entity `Tally { total }` with an `add`
//!   event, watched through StarModel's live stream
//!   (`GET /_starmodel/stream?datastar={"tally":{}}`);
//! - **raw**: axum (served with `into_make_service`, one routing table for all
//!   connections), a `tokio::sync::watch` of the encoded event feeding every SSE
//!   body, and a `POST /tally/add` that replaces it: the same bytes on the wire.
//!
//! Per run, the load generator posts one change (so everything is warm), reads
//! the server's `VmRSS`, opens N streams (`Datastar-Request: true`, each its own
//! HTTP/1.1 connection and tokio task, at most 128 opening at once so the accept
//! backlog copes) and reads each one's first event, which must carry the current
//! total; reads `VmRSS` again (the difference over N is the memory per idle
//! stream). Then `--rounds` times: note t0, `POST /tally/add` on a connection of
//! its own, and wait until every stream's body has delivered the event with the
//! new total (SSE frames parsed as they arrive), or `--round-timeout` (5 s). A
//! stream that does not deliver is counted as missing in that round, never left
//! out. Per round: the last arrival (max), p50 and p99 from t0; per run: the
//! median and worst of the maxima, the server's and the load generator's CPU
//! time per round. Both processes raise their open-file soft limit to the hard
//! one; streams that cannot be opened are reported with the reason (`EMFILE`,
//! `EADDRNOTAVAIL`, ...). `--streams` takes a list (`--streams 1000,10000`).
//! The load generator shares the cores with the server, and the table says so.
//! The table and the ratio of StarModel's median max to the raw runs' are
//! printed and written to `target/bench/fanout.json`; the exit status is a
//! failure when any stream failed to open, broke, or missed a change.
//! `fanout --smoke` runs 50 streams and 2 rounds and prints the JSON instead.
//!
//! # SQL: committed events per second on a record entity
//!
//! ```sh
//! DATABASE_URL_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p starmodel-bench -- sql [--duration 10] [--connections 64] [--no-hot]
//! ```
//!
//! The claim: at least 10,000 committed events/s on SQLite on a 2-core machine.
//! A record entity `Item { id: i64, count: i64 }` with `#[event] fn bump(&mut
//! self, by: Option<i64>)`; the connections post `POST /item/{id}/bump?by=1`
//! (Datastar headers, `{}` signals) as the foundation mode does, to, in order
//! (each server a child process, `serve-sql-raw` / `serve-sql <store>`):
//!
//! 1. **raw axum** answering what StarModel answers (a 200 empty event stream:
//!    record entities are live through views, not signals), reading the id and
//!    the body;
//! 2. StarModel with `Item` on the **memory** store, on **SQLite** (a fresh
//!    temporary file; the store sets WAL and `synchronous=NORMAL`), and on
//!    **PostgreSQL** (a fresh database `sm_bench_<random>` created through
//!    `DATABASE_URL_POSTGRES` and dropped after the run; without the variable
//!    these runs are skipped with a notice);
//! 3. the same stores with every connection on one **hot** row (lock
//!    contention; `--no-hot` leaves these out);
//! 4. **raw axum** again.
//!
//! Each StarModel server makes its tables and writes rows 0..1000 (count 0)
//! through the store before it announces its address. In the first pass
//! connection `c` of `n` cycles through its own rows `c, c + n, …`, so no two
//! connections write one row; in the hot pass all write row 0. After each run
//! the server is killed, then the table is read back with SQL on a connection
//! of the benchmark's own: the sum of the counts must equal the events answered
//! 200 over the whole run (warm-up included), the sum of versions 1000 more, and
//! all 1000 rows must be there, or the benchmark fails; an event answered but
//! not committed would show. (The memory store dies with its server, which
//! lists its totals at `GET /bench/totals` first.) The table gives each run's
//! events/s in the measured window, p50/p99/max latency, server CPU µs per event,
//! the ratio to the raw runs' mean and the committed count, and is written to
//! `target/bench/sql.json`. `sql --smoke` (1 s runs, 4 connections) prints the
//! JSON instead; the harness's test runs it.

mod fanout;
mod fanout_report;
mod load;
mod report;
mod servers;
mod sql;
mod sql_db;
mod sql_report;
mod sql_servers;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use load::{LoadConfig, Workload};
use report::{Report, RunSummary};
use servers::{Server, ServerProcess};

type BoxError = Box<dyn std::error::Error>;

const USAGE: &str = "usage: starmodel-bench [--duration SECONDS] [--connections N] [--smoke]\n       \
                     starmodel-bench fanout [--streams N[,N...]] [--rounds R] [--smoke]\n       \
                     starmodel-bench sql [--duration SECONDS] [--connections N] [--no-hot] [--smoke]";

#[derive(Debug)]
struct Options {
    config: LoadConfig,
    smoke: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        config: LoadConfig::standard(),
        smoke: false,
    };
    while let Some(arg) = args.next() {
        if options
            .config
            .parse_flag(&arg, &mut args, usize::MAX, USAGE)?
        {
            continue;
        }
        match arg.as_str() {
            "--smoke" => {
                options.smoke = true;
                options.config = LoadConfig::smoke();
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    // Servers and load generator alike hold one descriptor per stream.
    raise_open_file_limit();
    let mut args = std::env::args().skip(1).peekable();
    let server = args.peek().and_then(|a| Server::from_subcommand(a));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starmodel-bench: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match server {
        Some(server) => {
            let addr = args.nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
            let store = args.next();
            runtime.block_on(server.serve(&addr, store.as_deref()))
        }
        None if args.peek().is_some_and(|a| a == "fanout") => {
            match fanout::parse_args(args.skip(1)) {
                Ok(options) => runtime.block_on(fanout::bench(options)),
                Err(usage) => Err(usage.into()),
            }
        }
        None if args.peek().is_some_and(|a| a == "sql") => match sql::parse_args(args.skip(1)) {
            Ok(options) => runtime.block_on(sql::bench(options)),
            Err(usage) => Err(usage.into()),
        },
        None => match parse_args(args) {
            Ok(options) => runtime.block_on(bench(options)),
            Err(usage) => Err(usage.into()),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("starmodel-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(options: Options) -> Result<(), BoxError> {
    let config = options.config;
    let before = report::loadavg();
    let plan = [
        (Server::Raw, "raw axum #1"),
        (Server::StarModel, "starmodel"),
        (Server::Raw, "raw axum #2"),
    ];
    let mut runs = Vec::new();
    for (server, name) in plan {
        let process = ServerProcess::spawn(server)?;
        let measure_from = Instant::now() + config.warmup;
        let cpu = tokio::spawn(server_cpu(process.id(), measure_from, config.duration));
        let result = load::run(process.addr(), Workload::Counter, config, measure_from).await;
        let server_cpu = if result.errors == 0 {
            cpu.await.ok().flatten()
        } else {
            cpu.abort();
            None
        };
        drop(process);
        let first_error = result.first_error.clone();
        let run = RunSummary::new(name, server.label(), result, config.duration, server_cpu);
        if !options.smoke {
            eprint!("{}", report::row(&run));
        }
        if let Some(e) = first_error {
            return Err(format!("{name}: {} failed requests, first: {e}", run.errors).into());
        }
        if run.requests == 0 {
            return Err(format!("{name}: no request completed in the measured window").into());
        }
        runs.push(run);
    }
    let report = Report::new(config, [before, report::loadavg()], runs);
    if options.smoke {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print!("{}", report.table());
    let path = json_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("written to {}", path.display());
    Ok(())
}

/// The CPU time server `pid` spends in the measured window.
async fn server_cpu(pid: u32, measure_from: Instant, duration: Duration) -> Option<Duration> {
    tokio::time::sleep_until(measure_from.into()).await;
    let start = servers::cpu_time(pid)?;
    tokio::time::sleep_until((measure_from + duration).into()).await;
    servers::cpu_time(pid)?.checked_sub(start)
}

/// `<target dir>/bench/foundation.json`.
fn json_path() -> Result<PathBuf, BoxError> {
    Ok(bench_dir()?.join("foundation.json"))
}

/// `<target dir>/bench`, the target dir being the one holding this binary
/// (`target/release/starmodel-bench`).
fn bench_dir() -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(|profile| profile.parent())
        .ok_or("cannot find the target directory from this binary's path")?;
    Ok(target.join("bench"))
}

/// Raises this process's open-file soft limit to its hard limit (children
/// inherit it). A failure only means fewer streams can open, which the fan-out
/// benchmark reports with the reason.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            eprintln!("starmodel-bench: cannot raise the open-file limit: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn flags_override_the_defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.config.connections, 64);
        assert_eq!(o.config.duration, Duration::from_secs(10));
        let o = parse(&["--duration", "3", "--connections", "8"]).unwrap();
        assert_eq!(o.config.connections, 8);
        assert_eq!(o.config.duration, Duration::from_secs(3));
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--duration"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
