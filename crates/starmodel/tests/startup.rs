//! Start-up messages reach a newcomer's terminal even when the application set up
//! no logging: the test runs itself again as a child that serves (with no
//! tracing subscriber installed) and reads the child's stderr.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "STARMODEL_STARTUP_CHILD";

/// In the child: serve an application without a secret on a free port.
#[tokio::test]
#[ignore = "run by the test below as its child process"]
async fn serve_in_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "only the child of the test below"
    );
    let served = starmodel::StarModel::new().serve("127.0.0.1:0").await;
    panic!("serve returned: {served:?}");
}

#[test]
fn serve_says_where_it_listens_without_a_tracing_subscriber() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "serve_in_child", "--ignored", "--nocapture"])
        .env(CHILD, "1")
        .env_remove("STARMODEL_SECRET")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let listening = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("starmodel: listening on http://127.0.0.1:") => {
                break Some(line);
            }
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        listening.is_some(),
        "no `listening on` line; stderr was: {seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("starmodel: warning: no session secret configured")),
        "no warning about the secret; stderr was: {seen:#?}"
    );
}
