//! The SQL benchmark: committed events per second on a record entity in each
//! store, beside raw axum, in one run (the `sql` mode; see the crate docs).

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper::header::HOST;

use crate::BoxError;
use crate::load::{self, LoadConfig, Rows, Workload};
use crate::report::{self, RunSummary};
use crate::servers::{Server, ServerProcess};
use crate::sql_db::{Backend, Database};
use crate::sql_report::{SqlReport, SqlRun};
use crate::sql_servers::{ROWS, Totals};

const USAGE: &str = "usage: starmodel-bench sql [--duration SECONDS] [--connections N] \
                     [--no-hot] [--smoke]";

/// How the SQL benchmark runs.
#[derive(Debug)]
pub(crate) struct Options {
    config: LoadConfig,
    /// Also run every store with all connections on one row.
    hot: bool,
    smoke: bool,
}

pub(crate) fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        config: LoadConfig::standard(),
        hot: true,
        smoke: false,
    };
    while let Some(arg) = args.next() {
        // Each connection has rows of its own: at most one per row.
        if options.config.parse_flag(&arg, &mut args, ROWS, USAGE)? {
            continue;
        }
        match arg.as_str() {
            "--no-hot" => options.hot = false,
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

/// One run of the plan: raw axum (`backend` `None`) or StarModel on a store.
#[derive(Debug, Clone, Copy)]
struct Step {
    backend: Option<Backend>,
    spread: Rows,
}

impl Step {
    fn name(self, raw_pass: usize) -> String {
        match (self.backend, self.spread) {
            (None, _) => format!("raw axum #{raw_pass}"),
            (Some(b), Rows::Own) => b.name().to_owned(),
            (Some(b), Rows::Hot) => format!("{} hot", b.name()),
        }
    }
}

/// Raw axum, each store with a row per connection, then (with `hot`) each
/// store with every connection on one row, then raw axum again.
fn plan(hot: bool, postgres: bool) -> Vec<Step> {
    let mut backends = vec![Backend::Memory, Backend::Sqlite];
    if postgres {
        backends.push(Backend::Postgres);
    }
    let raw = Step {
        backend: None,
        spread: Rows::Own,
    };
    let mut steps = vec![raw];
    let spreads: &[Rows] = if hot {
        &[Rows::Own, Rows::Hot]
    } else {
        &[Rows::Own]
    };
    for &spread in spreads {
        steps.extend(backends.iter().map(|&b| Step {
            backend: Some(b),
            spread,
        }));
    }
    steps.push(raw);
    steps
}

pub(crate) async fn bench(options: Options) -> Result<(), BoxError> {
    let config = options.config;
    let postgres = std::env::var("DATABASE_URL_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty());
    let skipped = postgres
        .is_none()
        .then(|| "notice: DATABASE_URL_POSTGRES is not set; no PostgreSQL runs".to_owned());
    if let Some(notice) = &skipped {
        eprintln!("{notice}");
    }
    let before = report::loadavg();
    if !options.smoke {
        eprint!("{}", crate::sql_report::header());
    }
    let mut runs = Vec::new();
    let mut raw_pass = 0;
    for step in plan(options.hot, postgres.is_some()) {
        if step.backend.is_none() {
            raw_pass += 1;
        }
        let name = step.name(raw_pass);
        let run = run_step(step, &name, config, postgres.as_deref()).await?;
        if !options.smoke {
            eprint!("{}", crate::sql_report::line(&run));
        }
        runs.push(run);
    }
    let report = SqlReport::new(config, [before, report::loadavg()], skipped, runs);
    if options.smoke {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print!("\n{}", report.table());
    let path = crate::bench_dir()?.join("sql.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("written to {}", path.display());
    Ok(())
}

/// Runs `step` on a fresh database, removed afterwards whatever happened.
async fn run_step(
    step: Step,
    name: &str,
    config: LoadConfig,
    postgres: Option<&str>,
) -> Result<SqlRun, BoxError> {
    let Some(backend) = step.backend else {
        return measure(step, name, config, None).await;
    };
    // The database is removed when `db` is dropped.
    let db = Database::create(backend, postgres).await?;
    measure(step, name, config, Some(&db)).await
}

/// Serves `db` (raw axum when `None`), drives it, and checks that what the
/// store holds afterwards is exactly the events that were answered.
async fn measure(
    step: Step,
    name: &str,
    config: LoadConfig,
    db: Option<&Database>,
) -> Result<SqlRun, BoxError> {
    let process = match db {
        Some(db) => ServerProcess::spawn_with(Server::Sql, &[db.store_arg()])?,
        None => ServerProcess::spawn(Server::SqlRaw)?,
    };
    let workload = Workload::Bump {
        rows: ROWS,
        spread: step.spread,
    };
    let measure_from = Instant::now() + config.warmup;
    let cpu = tokio::spawn(crate::server_cpu(
        process.id(),
        measure_from,
        config.duration,
    ));
    let result = load::run(process.addr(), workload, config, measure_from).await;
    let server_cpu = if result.errors == 0 {
        cpu.await.ok().flatten()
    } else {
        cpu.abort();
        None
    };
    let answered = result.answered;
    if let Some(e) = &result.first_error {
        return Err(format!("{name}: {} failed requests, first: {e}", result.errors).into());
    }
    let served = match db {
        Some(Database::Memory) => Some(served_totals(process.addr()).await?),
        _ => None,
    };
    // Killed: what a SQL store answered but did not commit is gone now.
    drop(process);
    let committed = match db {
        Some(db) => db.totals().await?.or(served),
        None => None,
    };
    let server = if db.is_some() {
        Server::Sql
    } else {
        Server::SqlRaw
    };
    let summary = RunSummary::new(name, server.label(), result, config.duration, server_cpu);
    if summary.requests == 0 {
        return Err(format!("{name}: no event completed in the measured window").into());
    }
    if let Some(totals) = committed {
        check(name, totals, answered)?;
    }
    Ok(SqlRun {
        summary,
        backend: step.backend,
        spread: step.spread,
        answered,
        committed,
        ratio: 0.0,
    })
}

/// Every row is still there, and counts and versions each grew by exactly one
/// per answered event.
fn check(name: &str, totals: Totals, answered: u64) -> Result<(), BoxError> {
    let rows = i64::try_from(ROWS)?;
    let answered = i64::try_from(answered)?;
    let expected = Totals {
        rows,
        count: answered,
        versions: rows + answered,
    };
    if totals != expected {
        return Err(format!(
            "{name}: the store holds {totals:?} after {answered} answered events, \
             expected {expected:?}"
        )
        .into());
    }
    Ok(())
}

/// `GET /bench/totals`: what the server's store lists.
async fn served_totals(addr: std::net::SocketAddr) -> Result<Totals, BoxError> {
    let mut sender = load::connect::<Full<Bytes>>(addr).await?;
    let request = hyper::Request::get("/bench/totals")
        .header(HOST, addr.to_string())
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        return Err(format!(
            "GET /bench/totals: status {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_brackets_the_stores_with_raw_runs() {
        let names = |steps: Vec<Step>| {
            let mut pass = 0;
            steps
                .into_iter()
                .map(|s| {
                    pass += usize::from(s.backend.is_none());
                    s.name(pass)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(plan(true, true)),
            [
                "raw axum #1",
                "memory",
                "sqlite",
                "postgres",
                "memory hot",
                "sqlite hot",
                "postgres hot",
                "raw axum #2"
            ]
        );
        assert_eq!(
            names(plan(false, false)),
            ["raw axum #1", "memory", "sqlite", "raw axum #2"]
        );
    }

    #[test]
    fn a_total_off_by_one_event_is_refused() {
        let ok = Totals {
            rows: 1000,
            count: 5,
            versions: 1005,
        };
        assert!(check("t", ok, 5).is_ok());
        assert!(check("t", ok, 6).is_err());
        assert!(
            check(
                "t",
                Totals {
                    versions: 1004,
                    ..ok
                },
                5
            )
            .is_err()
        );
        assert!(check("t", Totals { rows: 999, ..ok }, 5).is_err());
    }

    #[test]
    fn connections_are_at_most_the_rows() {
        let parse = |a: &[&str]| parse_args(a.iter().map(|s| (*s).to_owned()));
        assert_eq!(parse(&[]).unwrap().config.connections, 64);
        assert!(parse(&["--connections", "1000"]).is_ok());
        assert!(parse(&["--connections", "1001"]).is_err());
        assert!(!parse(&["--no-hot"]).unwrap().hot);
    }
}
