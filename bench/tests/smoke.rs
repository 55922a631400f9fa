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
