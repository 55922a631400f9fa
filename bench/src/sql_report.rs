//! The SQL benchmark's report: the printed table and `target/bench/sql.json`.

use serde::Serialize;

use crate::load::{LoadConfig, Rows};
use crate::report::{RunSummary, row};
use crate::sql_db::Backend;
use crate::sql_servers::{ROWS, Totals};

/// Committed events per second SQLite should reach on a 2-core machine.
pub(crate) const SQLITE_TARGET: f64 = 10_000.0;

/// One run of the SQL benchmark.
#[derive(Debug, Serialize)]
pub(crate) struct SqlRun {
    /// Requests, latencies and server CPU (`requests` counts events).
    #[serde(flatten)]
    pub(crate) summary: RunSummary,
    /// The store; `None` for raw axum.
    pub(crate) backend: Option<Backend>,
    /// Which rows the connections bump: `own` (a set per connection) or `hot`
    /// (all on one).
    #[serde(serialize_with = "rows_name")]
    pub(crate) spread: Rows,
    /// Events answered 200 over the whole run, warm-up included.
    pub(crate) answered: u64,
    /// What the store holds afterwards (read with SQL from the database once the
    /// server was killed; for the memory store, listed by the server first).
    pub(crate) committed: Option<Totals>,
    /// Events/s over the mean of the raw runs' events/s.
    pub(crate) ratio: f64,
}

fn rows_name<S: serde::Serializer>(rows: &Rows, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match rows {
        Rows::Own => "own",
        Rows::Hot => "hot",
    })
}

/// The whole benchmark, as written to `target/bench/sql.json`.
#[derive(Debug, Serialize)]
pub(crate) struct SqlReport {
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// Unmeasured seconds before each run.
    pub(crate) warmup_s: f64,
    /// Measured seconds of each run.
    pub(crate) duration_s: f64,
    /// Rows written before each run.
    pub(crate) rows: usize,
    /// `/proc/loadavg` before the first run and after the last.
    pub(crate) loadavg: [String; 2],
    /// Why there is no PostgreSQL run, when there is none.
    pub(crate) skipped: Option<String>,
    /// The runs, in order.
    pub(crate) runs: Vec<SqlRun>,
    /// [`SQLITE_TARGET`].
    pub(crate) sqlite_target: f64,
    /// Whether the SQLite run with a row per connection reached it.
    pub(crate) sqlite_meets_target: Option<bool>,
}

impl SqlReport {
    /// A report of `runs`, their ratios to raw axum filled in.
    pub(crate) fn new(
        config: LoadConfig,
        loadavg: [String; 2],
        skipped: Option<String>,
        mut runs: Vec<SqlRun>,
    ) -> Self {
        let raw: Vec<f64> = runs
            .iter()
            .filter(|r| r.backend.is_none())
            .map(|r| r.summary.req_per_s)
            .collect();
        let raw_mean = raw.iter().sum::<f64>() / raw.len().max(1) as f64;
        for run in &mut runs {
            run.ratio = run.summary.req_per_s / raw_mean.max(f64::MIN_POSITIVE);
        }
        let sqlite_meets_target = runs
            .iter()
            .find(|r| r.backend == Some(Backend::Sqlite) && r.spread == Rows::Own)
            .map(|r| r.summary.req_per_s >= SQLITE_TARGET);
        Self {
            connections: config.connections,
            warmup_s: config.warmup.as_secs_f64(),
            duration_s: config.duration.as_secs_f64(),
            rows: ROWS,
            loadavg,
            skipped,
            runs,
            sqlite_target: SQLITE_TARGET,
            sqlite_meets_target,
        }
    }

    /// The table printed at the end of a run.
    pub(crate) fn table(&self) -> String {
        let mut out = format!(
            "{} connections, {} s warm-up, {} s measured, loopback, {} rows\n\
             load average before: {}\nload average after:  {}\n\n{}",
            self.connections,
            self.warmup_s,
            self.duration_s,
            self.rows,
            self.loadavg[0],
            self.loadavg[1],
            header(),
        );
        for run in &self.runs {
            out.push_str(&line(run));
        }
        if let Some(skipped) = &self.skipped {
            out.push_str(&format!("\n{skipped}\n"));
        }
        if let Some(meets) = self.sqlite_meets_target {
            out.push_str(&format!(
                "\nsqlite: {} committed events/s (target >= {}): {}\n",
                self.runs
                    .iter()
                    .find(|r| r.backend == Some(Backend::Sqlite) && r.spread == Rows::Own)
                    .map_or(0.0, |r| r.summary.req_per_s)
                    .round(),
                self.sqlite_target,
                if meets { "met" } else { "NOT met" },
            ));
        }
        out
    }
}

/// The table's column names.
pub(crate) fn header() -> String {
    format!(
        "{:<12} {:>10} {:>9} {:>8} {:>8} {:>8} {:>7} {:>14} {:>6} {:>10}\n",
        "run",
        "events",
        "events/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srv cpu us/ev",
        "x raw",
        "committed",
    )
}

/// One line of the table (the ratio is blank until the report computes it).
pub(crate) fn line(run: &SqlRun) -> String {
    let base = row(&run.summary);
    let ratio = if run.ratio > 0.0 {
        format!("{:.2}", run.ratio)
    } else {
        "-".to_owned()
    };
    let committed = run
        .committed
        .map_or_else(|| "-".to_owned(), |t| t.count.to_string());
    format!("{} {ratio:>6} {committed:>10}\n", base.trim_end())
}
