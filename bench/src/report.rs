//! Summaries of the runs: the printed table and the JSON file.

use std::time::Duration;

use serde::Serialize;

use crate::load::{LoadConfig, LoadResult};

/// The throughput StarModel should keep relative to raw axum (DESIGN §10).
pub(crate) const TARGET_RATIO: f64 = 0.60;

/// One run, summarized.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunSummary {
    /// Which server and which pass (`raw axum #1`, `starmodel`, ...).
    pub(crate) name: String,
    /// Which server: `raw` or `starmodel`.
    pub(crate) server: &'static str,
    /// Requests measured.
    pub(crate) requests: u64,
    /// Requests per second over the measured window.
    pub(crate) req_per_s: f64,
    /// Median latency.
    pub(crate) p50_us: u32,
    /// 99th-percentile latency.
    pub(crate) p99_us: u32,
    /// Slowest request.
    pub(crate) max_us: u32,
    /// Failed requests.
    pub(crate) errors: u64,
    /// CPU time the server process spent per measured request (all its
    /// threads), when the OS tells: the cost the client's share of the two
    /// cores does not blur.
    pub(crate) server_cpu_us_per_req: Option<f64>,
}

impl RunSummary {
    /// Summarizes `result`, measured over `duration`, in which the server used
    /// `server_cpu`.
    pub(crate) fn new(
        name: &str,
        server: &'static str,
        mut result: LoadResult,
        duration: Duration,
        server_cpu: Option<Duration>,
    ) -> Self {
        let latencies = &mut result.latencies_us;
        latencies.sort_unstable();
        let requests = latencies.len() as u64;
        Self {
            name: name.to_owned(),
            server,
            requests,
            req_per_s: requests as f64 / duration.as_secs_f64(),
            p50_us: percentile(latencies, 50),
            p99_us: percentile(latencies, 99),
            max_us: latencies.last().copied().unwrap_or(0),
            errors: result.errors,
            server_cpu_us_per_req: server_cpu
                .filter(|_| requests > 0)
                .map(|cpu| cpu.as_secs_f64() * 1e6 / requests as f64),
        }
    }
}

/// The `p`th percentile of sorted `values` (nearest rank).
pub(crate) fn percentile(sorted: &[u32], p: usize) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// The whole benchmark, as written to `target/bench/foundation.json`.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// Concurrent connections.
    pub(crate) connections: usize,
    /// Unmeasured seconds before each run.
    pub(crate) warmup_s: f64,
    /// Measured seconds of each run.
    pub(crate) duration_s: f64,
    /// `/proc/loadavg` before the first run and after the last.
    pub(crate) loadavg: [String; 2],
    /// The runs, in order.
    pub(crate) runs: Vec<RunSummary>,
    /// StarModel's req/s over the mean of the raw runs' req/s.
    pub(crate) ratio: f64,
    /// The raw runs' mean server CPU per request over StarModel's (higher is
    /// better, like `ratio`), when measured.
    pub(crate) cpu_ratio: Option<f64>,
    /// [`TARGET_RATIO`].
    pub(crate) target: f64,
}

impl Report {
    /// A report of `runs`; the ratio compares the `starmodel` run with the mean
    /// of the `raw` ones.
    pub(crate) fn new(config: LoadConfig, loadavg: [String; 2], runs: Vec<RunSummary>) -> Self {
        let (starmodel, raw): (Vec<_>, Vec<_>) = runs.iter().partition(|r| r.server == "starmodel");
        let raw_mean = raw.iter().map(|r| r.req_per_s).sum::<f64>() / raw.len().max(1) as f64;
        let ratio = starmodel
            .first()
            .map_or(0.0, |s| s.req_per_s / raw_mean.max(f64::MIN_POSITIVE));
        let raw_cpu = raw
            .iter()
            .map(|r| r.server_cpu_us_per_req)
            .sum::<Option<f64>>()
            .map(|sum| sum / raw.len().max(1) as f64);
        let cpu_ratio = starmodel
            .first()
            .and_then(|s| s.server_cpu_us_per_req)
            .zip(raw_cpu)
            .map(|(s, r)| r / s);
        Self {
            cpu_ratio,
            connections: config.connections,
            warmup_s: config.warmup.as_secs_f64(),
            duration_s: config.duration.as_secs_f64(),
            loadavg,
            runs,
            ratio,
            target: TARGET_RATIO,
        }
    }

    /// The table printed at the end of a run.
    pub(crate) fn table(&self) -> String {
        let mut out = format!(
            "{} connections, {} s warm-up, {} s measured, loopback\n\
             load average before: {}\nload average after:  {}\n\n\
             {:<12} {:>10} {:>9} {:>8} {:>8} {:>8} {:>7} {:>14}\n",
            self.connections,
            self.warmup_s,
            self.duration_s,
            self.loadavg[0],
            self.loadavg[1],
            "run",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "srv cpu us/req",
        );
        for run in &self.runs {
            out.push_str(&row(run));
        }
        out.push_str(&format!(
            "\nratio starmodel/raw = {:.2} (target >= {:.2})\n",
            self.ratio, self.target
        ));
        if let Some(cpu_ratio) = self.cpu_ratio {
            out.push_str(&format!(
                "server cpu per request, raw/starmodel = {cpu_ratio:.2}\n"
            ));
        }
        out
    }
}

/// One line of the table.
pub(crate) fn row(run: &RunSummary) -> String {
    let ms = |us: u32| f64::from(us) / 1000.0;
    format!(
        "{:<12} {:>10} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>14}\n",
        run.name,
        run.requests,
        run.req_per_s,
        ms(run.p50_us),
        ms(run.p99_us),
        ms(run.max_us),
        run.errors,
        run.server_cpu_us_per_req
            .map_or_else(|| "-".to_owned(), |us| format!("{us:.1}")),
    )
}

/// The first three fields of `/proc/loadavg`, or `?` where there is none.
pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
