//! The fan-out benchmark's summaries: the printed table and `fanout.json`.

use serde::Serialize;

use crate::fanout::{ErrorCounts, FanoutOptions};
use crate::report::percentile;

/// DESIGN §10: one change reaches 10,000 streams within a quarter second.
pub(crate) const TARGET_MAX_MS: f64 = 250.0;
/// DESIGN §10: "a few KiB" per idle stream, read here as at most 8.
pub(crate) const TARGET_KIB_PER_STREAM: f64 = 8.0;

/// One change and its arrivals.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RoundSummary {
    /// The tally's total after the change.
    pub(crate) total: i64,
    /// How long `POST /tally/add` took to answer.
    pub(crate) post_us: u32,
    /// Streams that got the change within the round's timeout.
    pub(crate) received: usize,
    /// Streams opened that did not get it (timed out or broke).
    pub(crate) missing: usize,
    /// Median arrival over the opened streams, from just before the POST. A
    /// missing stream counts as arriving at the timeout, so with streams
    /// missing the percentiles it reaches are lower bounds.
    pub(crate) p50_us: u32,
    /// 99th-percentile arrival, as `p50_us`.
    pub(crate) p99_us: u32,
    /// The last arrival; the timeout (a lower bound) when streams are missing.
    pub(crate) max_us: u32,
}

impl RoundSummary {
    /// The round that made `total`, of which `latencies` arrived out of
    /// `opened` within `timeout_us`.
    pub(crate) fn new(
        total: i64,
        post_us: u32,
        opened: usize,
        mut latencies: Vec<u32>,
        timeout_us: u32,
    ) -> Self {
        let received = latencies.len();
        let missing = opened.saturating_sub(received);
        latencies.sort_unstable();
        latencies.extend(std::iter::repeat_n(timeout_us, missing));
        Self {
            total,
            post_us,
            received,
            missing,
            p50_us: percentile(&latencies, 50),
            p99_us: percentile(&latencies, 99),
            max_us: latencies.last().copied().unwrap_or(0),
        }
    }
}

/// One server with one stream count.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FanoutRun {
    /// `raw #1`, `starmodel`, `raw #2`.
    pub(crate) name: String,
    /// `raw` or `starmodel`.
    pub(crate) server: &'static str,
    /// Streams asked for.
    pub(crate) streams: usize,
    /// Streams that opened and sent their first event.
    pub(crate) opened: usize,
    /// Why the others did not, counted.
    pub(crate) open_failures: ErrorCounts,
    /// Streams whose first event was not the current state.
    pub(crate) stale_first_events: usize,
    /// Streams that ended after opening, by why.
    pub(crate) stream_errors: ErrorCounts,
    /// Seconds to open all the streams.
    pub(crate) open_s: f64,
    /// Server RSS with no stream open (after one change).
    pub(crate) rss_idle_kib: Option<u64>,
    /// Server RSS with the streams open and idle.
    pub(crate) rss_streams_kib: Option<u64>,
    /// The difference per opened stream.
    pub(crate) kib_per_stream: Option<f64>,
    /// Every change, in order.
    pub(crate) rounds: Vec<RoundSummary>,
    /// Median over rounds of the last arrival.
    pub(crate) median_max_us: u32,
    /// The slowest round's last arrival.
    pub(crate) worst_max_us: u32,
    /// Median over rounds of the median arrival.
    pub(crate) median_p50_us: u32,
    /// Median over rounds of the 99th-percentile arrival.
    pub(crate) median_p99_us: u32,
    /// Deliveries missing, summed over rounds.
    pub(crate) missed: usize,
    /// Server CPU time (all threads) per round, over the rounds.
    pub(crate) server_cpu_ms_per_round: Option<f64>,
    /// The load generator's CPU time per round: its share of the two cores.
    pub(crate) load_cpu_ms_per_round: Option<f64>,
}

impl FanoutRun {
    /// A run not yet measured.
    pub(crate) fn new(name: &str, server: &'static str, streams: usize) -> Self {
        Self {
            name: name.to_owned(),
            server,
            streams,
            opened: 0,
            open_failures: ErrorCounts::new(),
            stale_first_events: 0,
            stream_errors: ErrorCounts::new(),
            open_s: 0.0,
            rss_idle_kib: None,
            rss_streams_kib: None,
            kib_per_stream: None,
            rounds: Vec::new(),
            median_max_us: 0,
            worst_max_us: 0,
            median_p50_us: 0,
            median_p99_us: 0,
            missed: 0,
            server_cpu_ms_per_round: None,
            load_cpu_ms_per_round: None,
        }
    }

    /// Computes the summaries from the rounds and memory readings.
    pub(crate) fn finish(&mut self) {
        let median = |f: fn(&RoundSummary) -> u32| {
            let mut v: Vec<u32> = self.rounds.iter().map(f).collect();
            v.sort_unstable();
            percentile(&v, 50)
        };
        self.median_max_us = median(|r| r.max_us);
        self.median_p50_us = median(|r| r.p50_us);
        self.median_p99_us = median(|r| r.p99_us);
        self.worst_max_us = self.rounds.iter().map(|r| r.max_us).max().unwrap_or(0);
        self.missed = self.rounds.iter().map(|r| r.missing).sum();
        self.kib_per_stream = self
            .rss_idle_kib
            .zip(self.rss_streams_kib)
            .filter(|_| self.opened > 0)
            .map(|(idle, open)| (open as f64 - idle as f64) / self.opened as f64);
    }

    /// Whether any stream failed to open, broke, or missed a change.
    pub(crate) fn failed(&self) -> bool {
        self.opened < self.streams
            || self.missed > 0
            || self.stale_first_events > 0
            || !self.stream_errors.is_empty()
    }
}

/// StarModel against the raw runs' mean, for one stream count.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Comparison {
    /// Streams.
    pub(crate) streams: usize,
    /// StarModel's median last arrival.
    pub(crate) starmodel_median_max_ms: f64,
    /// StarModel's slowest round.
    pub(crate) starmodel_worst_max_ms: f64,
    /// The raw runs' mean median last arrival.
    pub(crate) raw_median_max_ms: f64,
    /// `starmodel_median_max_ms / raw_median_max_ms` (lower is better).
    pub(crate) ratio: f64,
    /// StarModel's memory per idle stream.
    pub(crate) starmodel_kib_per_stream: Option<f64>,
    /// The raw runs' mean memory per idle stream.
    pub(crate) raw_kib_per_stream: Option<f64>,
    /// StarModel server CPU per fan-out over the raw runs' mean.
    pub(crate) server_cpu_ratio: Option<f64>,
    /// Every StarModel round reached every stream within [`TARGET_MAX_MS`].
    pub(crate) meets_latency_target: bool,
    /// StarModel's idle stream costs at most [`TARGET_KIB_PER_STREAM`].
    pub(crate) meets_memory_target: bool,
}

impl Comparison {
    fn new(streams: usize, runs: &[FanoutRun]) -> Option<Self> {
        let of_n = || runs.iter().filter(move |r| r.streams == streams);
        let starmodel = of_n().find(|r| r.server == "starmodel")?;
        let raw: Vec<_> = of_n().filter(|r| r.server == "raw").collect();
        let mean = |f: &dyn Fn(&FanoutRun) -> Option<f64>| {
            let values: Option<Vec<f64>> = raw.iter().map(|r| f(r)).collect();
            values
                .filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        };
        let ms = |us: u32| f64::from(us) / 1e3;
        let raw_max = mean(&|r| Some(ms(r.median_max_us)))?;
        let raw_cpu = mean(&|r| r.server_cpu_ms_per_round);
        Some(Self {
            streams,
            starmodel_median_max_ms: ms(starmodel.median_max_us),
            starmodel_worst_max_ms: ms(starmodel.worst_max_us),
            raw_median_max_ms: raw_max,
            ratio: ms(starmodel.median_max_us) / raw_max.max(f64::MIN_POSITIVE),
            starmodel_kib_per_stream: starmodel.kib_per_stream,
            raw_kib_per_stream: mean(&|r| r.kib_per_stream),
            server_cpu_ratio: starmodel
                .server_cpu_ms_per_round
                .zip(raw_cpu)
                .filter(|(_, raw)| *raw > 0.0)
                .map(|(s, raw)| s / raw),
            meets_latency_target: !starmodel.failed()
                && ms(starmodel.worst_max_us) <= TARGET_MAX_MS,
            meets_memory_target: starmodel
                .kib_per_stream
                .is_some_and(|k| k <= TARGET_KIB_PER_STREAM),
        })
    }
}

/// The whole fan-out benchmark, as written to `target/bench/fanout.json`.
#[derive(Debug, Serialize)]
pub(crate) struct FanoutReport {
    /// Stream counts measured.
    pub(crate) streams: Vec<usize>,
    /// Changes per run.
    pub(crate) rounds: usize,
    /// Seconds a round may take before its missing streams count as failures.
    pub(crate) round_timeout_s: f64,
    /// Cores the machine has; the load generator and the server share them.
    pub(crate) cores: usize,
    /// Open-file limits (soft, hard) of the load generator.
    pub(crate) load_open_files: Option<(String, String)>,
    /// Open-file limits (soft, hard) of the server.
    pub(crate) server_open_files: Option<(String, String)>,
    /// `/proc/sys/net/ipv4/ip_local_port_range`.
    pub(crate) ephemeral_ports: String,
    /// `/proc/loadavg` before the first run and after the last.
    pub(crate) loadavg: [String; 2],
    /// The runs, in order.
    pub(crate) runs: Vec<FanoutRun>,
    /// StarModel against raw, per stream count.
    pub(crate) comparisons: Vec<Comparison>,
    /// [`TARGET_MAX_MS`].
    pub(crate) target_max_ms: f64,
    /// [`TARGET_KIB_PER_STREAM`].
    pub(crate) target_kib_per_stream: f64,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

fn ephemeral_ports() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join("-"))
        .unwrap_or_else(|_| "?".to_owned())
}

fn limits(l: Option<&(String, String)>) -> String {
    l.map_or_else(|| "?".to_owned(), |(soft, hard)| format!("{soft}/{hard}"))
}

impl FanoutReport {
    /// The report of `runs`.
    pub(crate) fn new(
        options: &FanoutOptions,
        load_open_files: Option<(String, String)>,
        server_open_files: Option<(String, String)>,
        loadavg: [String; 2],
        runs: Vec<FanoutRun>,
    ) -> Self {
        let comparisons = options
            .streams
            .iter()
            .filter_map(|n| Comparison::new(*n, &runs))
            .collect();
        Self {
            streams: options.streams.clone(),
            rounds: options.rounds,
            round_timeout_s: options.round_timeout.as_secs_f64(),
            cores: cores(),
            load_open_files,
            server_open_files,
            ephemeral_ports: ephemeral_ports(),
            loadavg,
            runs,
            comparisons,
            target_max_ms: TARGET_MAX_MS,
            target_kib_per_stream: TARGET_KIB_PER_STREAM,
        }
    }

    /// What is measured and on what: printed first and atop the table.
    pub(crate) fn header(
        options: &FanoutOptions,
        load_open_files: Option<&(String, String)>,
        server_open_files: Option<&(String, String)>,
        loadavg_before: &str,
        loadavg_after: Option<&str>,
    ) -> String {
        let streams: Vec<_> = options.streams.iter().map(usize::to_string).collect();
        let mut out = format!(
            "fan-out: one change to a global entity, {} open live streams (one HTTP/1.1 \
             connection each), {} rounds, loopback\n\
             NOTE: the load generator shares the machine's {} cores with the server; the \
             arrival times include its own time to read every stream's event\n\
             open files soft/hard: load generator {}, server {}; ephemeral ports {}\n\
             load average before: {loadavg_before}\n",
            streams.join(" / "),
            options.rounds,
            cores(),
            limits(load_open_files),
            limits(server_open_files),
            ephemeral_ports(),
        );
        if let Some(after) = loadavg_after {
            out.push_str(&format!("load average after:  {after}\n"));
        }
        out.push_str(&format!(
            "\n{:>7} {:<10} {:>6} {:>7} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6} {:>8} {:>9}\n",
            "streams",
            "run",
            "opened",
            "open s",
            "KiB/strm",
            "max med",
            "max worst",
            "p50 med",
            "p99 med",
            "missed",
            "srv cpu",
            "load cpu",
        ));
        out.push_str(&format!(
            "{:>7} {:<10} {:>6} {:>7} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6} {:>8} {:>9}\n",
            "", "", "", "", "", "ms", "ms", "ms", "ms", "", "ms/round", "ms/round",
        ));
        out
    }

    /// One line of the table.
    pub(crate) fn row(run: &FanoutRun) -> String {
        let ms = |us: u32| f64::from(us) / 1e3;
        let opt = |v: Option<f64>, precision: usize| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{v:.precision$}"))
        };
        let mut out = format!(
            "{:>7} {:<10} {:>6} {:>7.1} {:>8} {:>8.1} {:>9.1} {:>8.1} {:>8.1} {:>6} {:>8} {:>9}\n",
            run.streams,
            run.name,
            run.opened,
            run.open_s,
            opt(run.kib_per_stream, 2),
            ms(run.median_max_us),
            ms(run.worst_max_us),
            ms(run.median_p50_us),
            ms(run.median_p99_us),
            run.missed,
            opt(run.server_cpu_ms_per_round, 1),
            opt(run.load_cpu_ms_per_round, 1),
        );
        for (error, n) in &run.open_failures {
            out.push_str(&format!("        {n} streams did not open: {error}\n"));
        }
        if run.stale_first_events > 0 {
            out.push_str(&format!(
                "        {} streams' first event was not the current state\n",
                run.stale_first_events
            ));
        }
        for (error, n) in &run.stream_errors {
            out.push_str(&format!("        {n} streams broke: {error}\n"));
        }
        out
    }

    /// The table printed at the end of a run.
    pub(crate) fn table(&self) -> String {
        let options = FanoutOptions {
            streams: self.streams.clone(),
            rounds: self.rounds,
            round_timeout: std::time::Duration::from_secs_f64(self.round_timeout_s),
            smoke: false,
        };
        let mut out = Self::header(
            &options,
            self.load_open_files.as_ref(),
            self.server_open_files.as_ref(),
            &self.loadavg[0],
            Some(&self.loadavg[1]),
        );
        for run in &self.runs {
            out.push_str(&Self::row(run));
        }
        out.push_str(
            "\nper round, ms from just before the POST (`!`: streams missing, the missing \
             counted at the timeout):\n",
        );
        for run in &self.runs {
            let line = |f: fn(&RoundSummary) -> u32| {
                run.rounds
                    .iter()
                    .map(|r| {
                        let mark = if r.missing > 0 { "!" } else { "" };
                        format!("{:.1}{mark}", f64::from(f(r)) / 1e3)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let label = format!("{} {}", run.streams, run.name);
            out.push_str(&format!("{label:<17} max  {}\n", line(|r| r.max_us)));
            out.push_str(&format!("{:<17} p99  {}\n", "", line(|r| r.p99_us)));
            out.push_str(&format!("{:<17} p50  {}\n", "", line(|r| r.p50_us)));
            out.push_str(&format!("{:<17} post {}\n", "", line(|r| r.post_us)));
        }
        out.push('\n');
        for c in &self.comparisons {
            let kib = |k: Option<f64>| k.map_or_else(|| "?".to_owned(), |k| format!("{k:.2}"));
            let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
            out.push_str(&format!(
                "{} streams: fan-out max (median of rounds) starmodel/raw = {:.2} \
                 ({:.1} ms / {:.1} ms)",
                c.streams, c.ratio, c.starmodel_median_max_ms, c.raw_median_max_ms,
            ));
            if let Some(cpu) = c.server_cpu_ratio {
                out.push_str(&format!("; server cpu per change starmodel/raw = {cpu:.2}"));
            }
            out.push_str(&format!(
                "\n    every stream within {TARGET_MAX_MS} ms: {} (starmodel worst round \
                 {:.1} ms)\n    idle stream: starmodel {} KiB, raw {} KiB; a few KiB \
                 (<= {TARGET_KIB_PER_STREAM}): {}\n",
                verdict(c.meets_latency_target),
                c.starmodel_worst_max_ms,
                kib(c.starmodel_kib_per_stream),
                kib(c.raw_kib_per_stream),
                verdict(c.meets_memory_target),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_streams_are_counted_not_hidden() {
        let round = RoundSummary::new(3, 100, 5, vec![40, 10, 30], 1000);
        assert_eq!((round.received, round.missing), (3, 2));
        assert_eq!((round.p50_us, round.max_us), (40, 1000));
        let complete = RoundSummary::new(4, 100, 3, vec![40, 10, 30], 1000);
        assert_eq!(
            (complete.missing, complete.p50_us, complete.max_us),
            (0, 30, 40)
        );
        let mut run = FanoutRun::new("starmodel", "starmodel", 5);
        run.opened = 5;
        run.rounds.push(round);
        run.finish();
        assert_eq!(run.missed, 2);
        assert!(run.failed());
    }
}
