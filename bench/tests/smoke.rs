//! The harness itself works: `--smoke` runs every server briefly with a few
//! connections, and each run completes requests without a single error. Nothing
//! here depends on how fast the machine is.

use std::process::Command;

#[test]
fn every_server_answers_without_errors() {
    let output = Command::new(env!("CARGO_BIN_EXE_starmodel-bench"))
        .arg("--smoke")
        .output()
        .expect("the benchmark binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "smoke run failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the smoke run prints its report as json");
    let runs = report["runs"].as_array().expect("a list of runs");
    let names: Vec<_> = runs.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [Some("raw axum #1"), Some("starmodel"), Some("raw axum #2")]
    );
    for run in runs {
        assert_eq!(run["errors"], 0, "{run}");
        assert!(run["requests"].as_u64().is_some_and(|n| n > 0), "{run}");
    }
    assert!(report["ratio"].as_f64().is_some_and(|r| r > 0.0));
}

/// `fanout --smoke`: 50 live streams, 2 changes, against each server; every
/// stream opens, starts from the current state and receives every change.
#[test]
fn every_stream_receives_every_change() {
    let output = Command::new(env!("CARGO_BIN_EXE_starmodel-bench"))
        .args(["fanout", "--smoke"])
        .output()
        .expect("the benchmark binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("the fan-out smoke run prints its report as json ({e}): {stderr}")
    });
    assert!(
        output.status.success(),
        "fan-out smoke run failed: {stderr}"
    );
    let runs = report["runs"].as_array().expect("a list of runs");
    let names: Vec<_> = runs.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(names, [Some("raw #1"), Some("starmodel"), Some("raw #2")]);
    for run in runs {
        assert_eq!(run["streams"], 50, "{run}");
        assert_eq!(run["opened"], 50, "{run}");
        assert_eq!(run["stale_first_events"], 0, "{run}");
        assert_eq!(run["stream_errors"], serde_json::json!({}), "{run}");
        let rounds = run["rounds"].as_array().expect("a list of rounds");
        assert_eq!(rounds.len(), 2, "{run}");
        for (i, round) in rounds.iter().enumerate() {
            assert_eq!(round["received"], 50, "round {i} of {run}");
            assert_eq!(round["missing"], 0, "round {i} of {run}");
        }
        assert_eq!(run["missed"], 0, "{run}");
    }
    let comparisons = report["comparisons"].as_array().expect("comparisons");
    assert!(comparisons[0]["ratio"].as_f64().is_some_and(|r| r > 0.0));
}
