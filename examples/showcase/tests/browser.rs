//! The showcase in a real browser: serves the app on a local port and runs
//! `tests/browser/counter.test.mjs` and `tests/browser/todos.test.mjs` (Node's
//! test runner driving headless Chromium through `playwright-core`) against it,
//! one after the other.
//!
//! It needs `node`, Chromium (`CHROMIUM_PATH` or `/usr/bin/chromium`),
//! `npm ci --prefix tests/browser` and the Datastar bundle (`STARMODEL_DATASTAR_JS`,
//! or whatever `scripts/datastar-bundle.sh` obtains). Without one of them the test
//! prints `SKIPPED browser test: …` and passes, except under `CI=true`, where it
//! fails. `./scripts/test` provides all of them.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use starmodel::web::view::{DATASTAR_JS_ENV, DatastarBundle};

const NODE_TESTS: [&str; 2] = ["tests/browser/counter.test.mjs", "tests/browser/todos.test.mjs"];

/// Run against the showcase mounted under `/app` of a larger site, after the
/// suites above ran against it at the root.
const MOUNTED_TESTS: [&str; 3] = [
    "tests/browser/prefix.test.mjs",
    "tests/browser/counter.test.mjs",
    "tests/browser/todos.test.mjs",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What the test needs and this machine lacks, if anything.
fn missing_tools(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()) {
        missing.push("`node` on PATH".to_owned());
    }
    let chromium = chromium();
    if !chromium.is_file() {
        missing.push(format!("Chromium at {} (set CHROMIUM_PATH)", chromium.display()));
    }
    if !root.join("tests/browser/node_modules/playwright-core/package.json").is_file() {
        missing.push(
            "tests/browser/node_modules/playwright-core (run `npm ci --prefix tests/browser`)"
                .to_owned(),
        );
    }
    missing
}

/// The Datastar bundle's path: `STARMODEL_DATASTAR_JS`, else the output of
/// `scripts/datastar-bundle.sh`.
fn datastar_bundle(root: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(DATASTAR_JS_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("the Datastar bundle ({DATASTAR_JS_ENV}={} is not a file)", path.display()))
        };
    }
    let script = root.join("scripts/datastar-bundle.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(root)
        .output()
        .map_err(|e| format!("the Datastar bundle ({} cannot run: {e})", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the Datastar bundle (scripts/datastar-bundle.sh failed: {})",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(path) if Path::new(path).is_file() => Ok(PathBuf::from(path)),
        _ => Err(format!(
            "the Datastar bundle (scripts/datastar-bundle.sh printed no file path: {stdout:?})"
        )),
    }
}

fn print_output(what: &str, out: &Output) {
    println!("----- {what} stdout -----\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("----- {what} stderr -----\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn showcase_pages_in_headless_chromium() {
    let root = workspace_root();
    let mut missing = missing_tools(&root);
    let bundle = datastar_bundle(&root).map_err(|e| missing.push(e)).ok();
    if !missing.is_empty() {
        let missing = missing.join("; ");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("browser test cannot run under CI=true; missing: {missing}");
        }
        // Straight to stderr, past the test harness's capture, so the skip shows.
        let _ = writeln!(std::io::stderr(), "SKIPPED browser test: {missing}");
        return;
    }

    let bundle = bundle.expect("checked above");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run_node_test(&root, &bundle));
}

async fn run_node_test(root: &Path, bundle: &Path) {
    let data = tempfile::tempdir().unwrap();
    let app = showcase::app(data.path())
        .await
        .unwrap()
        .datastar_bundle(DatastarBundle::from_file(bundle).unwrap())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));

    // The same showcase (another data folder) under `/app`, beside a page of the
    // site's own at `/`.
    let mounted_data = tempfile::tempdir().unwrap();
    let mounted = showcase::app(mounted_data.path())
        .await
        .unwrap()
        .datastar_bundle(DatastarBundle::from_file(bundle).unwrap())
        .prefix("/app")
        .build()
        .unwrap();
    mounted.prepare().await.unwrap();
    let site = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the rest of the site" }))
        .merge(mounted.router());
    let site_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mounted_url = format!("http://{}/app", site_listener.local_addr().unwrap());
    let site_server = tokio::spawn(async move {
        axum::serve(site_listener, site).await.unwrap();
    });

    let runs = NODE_TESTS
        .iter()
        .map(|t| (*t, base_url.clone()))
        .chain(MOUNTED_TESTS.iter().map(|t| (*t, mounted_url.clone())));
    let mut failed = Vec::new();
    for (test, url) in runs {
        let (root, env_url) = (root.to_owned(), url.clone());
        let out = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .args(["--test", test])
                .current_dir(&root)
                .env("STARMODEL_BASE_URL", &env_url)
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        print_output(&format!("node --test {test} ({url})"), &out);
        if !out.status.success() {
            failed.push(format!("{test} ({url}): {}", out.status));
        }
    }

    site_server.abort();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the showcase shuts down within 10 s")
        .unwrap()
        .unwrap();
    assert!(failed.is_empty(), "node --test failed: {failed:?}");
}
