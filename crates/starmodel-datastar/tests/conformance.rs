//! The 20 upstream Datastar SDK golden cases, sent over real HTTP to an axum server built on
//! this crate, and compared with the rules of `datastar-sdk-tests/README.md`.
//!
//! The cases live in `shared/datastar-sdk-tests/golden` next to the repository (override
//! with `STARMODEL_DATASTAR_GOLDEN`). Run with `cargo test -p starmodel-datastar --test
//! conformance`.

mod support;

use std::fs;
use std::path::PathBuf;

use http::{Method, StatusCode};
use support::compare::{assert_same_events, normalize_html};

const EXPECTED_CASES: usize = 20;

/// The golden folder, or `None` (after a notice) when it is absent outside CI.
fn golden_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STARMODEL_DATASTAR_GOLDEN").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/datastar-sdk-tests/golden")
        },
        PathBuf::from,
    );
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!("datastar golden cases not found at {}", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("{message}; skipping the conformance test (set STARMODEL_DATASTAR_GOLDEN)");
    None
}

/// Every `(method, case name, case folder)`, sorted for a stable report.
fn cases(golden: &std::path::Path) -> Vec<(Method, String, PathBuf)> {
    let mut cases = Vec::new();
    for (folder, method) in [("get", Method::GET), ("post", Method::POST)] {
        let entries = fs::read_dir(golden.join(folder)).expect("read golden folder");
        for entry in entries {
            let path = entry.expect("golden entry").path();
            if path.is_dir() {
                let name = format!(
                    "{folder}/{}",
                    path.file_name().expect("name").to_string_lossy()
                );
                cases.push((method.clone(), name, path));
            }
        }
    }
    cases.sort_by(|a, b| a.1.cmp(&b.1));
    cases
}

#[tokio::test]
async fn golden_cases_over_http() {
    let Some(golden) = golden_dir() else { return };
    let cases = cases(&golden);
    assert_eq!(cases.len(), EXPECTED_CASES, "golden case count");
    let addr = support::server::spawn().await;

    for (method, name, path) in &cases {
        let input = fs::read_to_string(path.join("input.json")).expect("input.json");
        let expected = fs::read_to_string(path.join("output.txt")).expect("output.txt");
        let reply = support::client::send(addr, method.clone(), &input).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{name}: status, body {:?}",
            reply.body
        );
        assert_eq!(
            reply.content_type.as_deref(),
            Some("text/event-stream"),
            "{name}: content-type"
        );
        assert_same_events(name, &expected, &reply.body);
    }
}

#[test]
fn html_comparison_sorts_attributes() {
    assert_eq!(
        normalize_html("<script type='a' blocking=\"false\" async>x</script>"),
        "<script async blocking=\"false\" type=\"a\">x</script>"
    );
    assert_eq!(
        normalize_html("<br/> a < b <p id=x>"),
        "<br/> a < b <p id=\"x\">"
    );
    assert_eq!(
        normalize_html("<div>\n  <span>é</span>\n</div>"),
        "<div>\n  <span>é</span>\n</div>"
    );
}

#[test]
fn comparison_rules_catch_differences() {
    let expected = "event: e\nid: 1\ndata: mode append\ndata: selector body\n\n";
    let reordered = "event: e\nid: 1\ndata: selector body\ndata: mode append\n\n";
    assert_same_events("reordered groups", expected, reordered);
    for wrong in [
        "event: e\ndata: mode append\ndata: selector body\n\n",
        "event: e\nid: 1\nretry: 5\ndata: mode append\ndata: selector body\n\n",
        "event: e\nid: 1\ndata: mode append\n\n",
        "event: e\nid: 1\ndata: mode append\ndata: selector body\n\nevent: e\n\n",
    ] {
        let outcome = std::panic::catch_unwind(|| assert_same_events("wrong", expected, wrong));
        assert!(outcome.is_err(), "should differ: {wrong:?}");
    }
}
