//! The servers under test, each run in a child process of its own so the load
//! generator never shares a runtime (or an allocator) with it.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::routing::{get, post};
use bytes::Bytes;
use starmodel::prelude::*;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What StarModel answers to the first increment of a fresh counter, with
/// counts of the width a benchmark run reaches: same headers, same length.
pub(crate) const RAW_BODY: &str = "event: datastar-patch-signals\n\
    data: signals {\"counter\":{\"count\":12345,\"update_count\":12345}}\n\n";

/// A cookie of a StarModel session cookie's shape, so the raw server's clients
/// send requests of the same size.
const RAW_COOKIE: &str = "starmodel_session=00000000000000000000000000000000.\
    0000000000000000000000000000000000000000000000000000000000000000; Path=/";

/// One counter per session, as in the showcase.
#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "session")]
pub(crate) struct Counter {
    /// The value.
    count: i64,
    /// How many events changed it.
    update_count: i64,
}

#[events]
impl Counter {
    /// Adds `amount` (default 1).
    #[event]
    fn increment(&mut self, amount: Option<i64>) {
        self.count += amount.unwrap_or(1);
        self.update_count += 1;
    }
}

/// One tally shared by every viewer: the entity the fan-out benchmark changes.
#[derive(Entity, Clone, Default, Serialize, Deserialize)]
#[entity(store = "memory", scope = "global")]
pub(crate) struct Tally {
    /// How many `add` events there were.
    total: i64,
}

#[events]
impl Tally {
    /// Counts one.
    #[event]
    fn add(&mut self) {
        self.total += 1;
    }
}

/// The `datastar-patch-signals` event StarModel sends for a [`Tally`] at `total`.
pub(crate) fn tally_event(total: i64) -> Bytes {
    Bytes::from(format!(
        "event: datastar-patch-signals\ndata: signals {{\"tally\":{{\"total\":{total}}}}}\n\n"
    ))
}

/// Which server a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    /// Plain axum returning [`RAW_BODY`].
    Raw,
    /// A StarModel application with the session [`Counter`].
    StarModel,
    /// Plain axum and a `tokio::sync::watch` fanning [`tally_event`]s out to SSE
    /// bodies: the floor for the fan-out benchmark.
    FanoutRaw,
    /// A StarModel application with the global [`Tally`] and its live stream.
    FanoutStarModel,
    /// Plain axum answering `POST /item/{id}/bump` as StarModel does: the floor
    /// for the SQL benchmark.
    SqlRaw,
    /// A StarModel application with the record entity
    /// [`Item`](crate::sql_servers::Item) in the store named by the argument after
    /// the address (`memory`, or a database URL).
    Sql,
}

impl Server {
    /// The hidden subcommand that runs this server.
    pub(crate) fn subcommand(self) -> &'static str {
        match self {
            Server::Raw => "serve-raw",
            Server::StarModel => "serve-starmodel",
            Server::FanoutRaw => "serve-fanout-raw",
            Server::FanoutStarModel => "serve-fanout",
            Server::SqlRaw => "serve-sql-raw",
            Server::Sql => "serve-sql",
        }
    }

    /// The server's short name, as the report gives it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Server::Raw | Server::FanoutRaw | Server::SqlRaw => "raw",
            Server::StarModel | Server::FanoutStarModel | Server::Sql => "starmodel",
        }
    }

    /// The server for a subcommand.
    pub(crate) fn from_subcommand(name: &str) -> Option<Self> {
        [
            Server::Raw,
            Server::StarModel,
            Server::FanoutRaw,
            Server::FanoutStarModel,
            Server::SqlRaw,
            Server::Sql,
        ]
        .into_iter()
        .find(|s| s.subcommand() == name)
    }

    /// Binds `addr`, gets ready (a [`Server::Sql`] opens `store` and fills it),
    /// prints the bound address on stdout and serves until killed.
    pub(crate) async fn serve(
        self,
        addr: &str,
        store: Option<&str>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind(addr).await?;
        // The rows exist before the load generator learns the address.
        let sql_app = match (self, store) {
            (Server::Sql, Some(store)) => Some(crate::sql_servers::starmodel_app(store).await?),
            _ => None,
        };
        println!("{}", listener.local_addr()?);
        match self {
            Server::Raw => axum::serve(listener, raw_router()).await?,
            Server::StarModel => {
                StarModel::new()
                    .secret([7u8; 32])
                    .entity::<Counter>()
                    .route("/counter", get(counter_page))
                    .build()?
                    .serve_with_shutdown(listener, std::future::pending())
                    .await?;
            }
            // One routing table for every connection: the floor, as plain axum
            // can serve it (serving a `Router` itself copies the table per
            // connection).
            Server::FanoutRaw => {
                axum::serve(listener, raw_fanout_router().into_make_service()).await?;
            }
            Server::FanoutStarModel => {
                StarModel::new()
                    .secret([7u8; 32])
                    .entity::<Tally>()
                    .build()?
                    .serve_with_shutdown(listener, std::future::pending())
                    .await?;
            }
            Server::SqlRaw => {
                axum::serve(
                    listener,
                    crate::sql_servers::raw_router().into_make_service(),
                )
                .await?;
            }
            Server::Sql => {
                let app = sql_app.ok_or("serve-sql needs a store after the address")?;
                app.serve_with_shutdown(listener, std::future::pending())
                    .await?;
            }
        }
        Ok(())
    }
}

/// `GET /counter`: loads the session's counter, which starts the session.
async fn counter_page(counter: Counter) -> String {
    counter.count.to_string()
}

fn raw_router() -> Router {
    Router::new()
        .route(
            "/counter",
            get(|| async { ([(SET_COOKIE, RAW_COOKIE)], "0") }),
        )
        .route(
            "/counter/increment",
            // Reads the body, as any handler of a Datastar request must.
            post(|_signals: Bytes| async {
                (
                    [
                        (CONTENT_TYPE, "text/event-stream"),
                        (CACHE_CONTROL, "no-cache"),
                    ],
                    RAW_BODY,
                )
            }),
        )
}

/// The raw fan-out server's state: the tally and the channel every stream watches.
struct RawTally {
    total: Mutex<i64>,
    latest: watch::Sender<Bytes>,
}

/// `GET /_starmodel/stream` answers the current [`tally_event`] and then each new
/// one; `POST /tally/add` counts one, hands the event to every stream and answers
/// it too. What StarModel's live stream does, minus StarModel.
fn raw_fanout_router() -> Router {
    let state = Arc::new(RawTally {
        total: Mutex::new(0),
        latest: watch::channel(tally_event(0)).0,
    });
    Router::new()
        .route(
            "/_starmodel/stream",
            get(|State(tally): State<Arc<RawTally>>| async move {
                let mut rx = tally.latest.subscribe();
                let first = rx.borrow_and_update().clone();
                let changes = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.changed().await.ok()?;
                    let bytes = rx.borrow_and_update().clone();
                    Some((Ok::<_, Infallible>(bytes), rx))
                });
                let body = futures_util::StreamExt::chain(
                    futures_util::stream::once(async move { Ok(first) }),
                    changes,
                );
                (
                    [
                        (CONTENT_TYPE, "text/event-stream"),
                        (CACHE_CONTROL, "no-cache"),
                    ],
                    Body::from_stream(body),
                )
            }),
        )
        .route(
            "/tally/add",
            post(
                |State(tally): State<Arc<RawTally>>, _signals: Bytes| async move {
                    let bytes = {
                        let mut total = tally.total.lock().unwrap_or_else(PoisonError::into_inner);
                        *total += 1;
                        let bytes = tally_event(*total);
                        tally.latest.send_replace(bytes.clone());
                        bytes
                    };
                    (
                        [
                            (CONTENT_TYPE, "text/event-stream"),
                            (CACHE_CONTROL, "no-cache"),
                        ],
                        bytes,
                    )
                },
            ),
        )
        .with_state(state)
}

/// A server child process; killed when dropped.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Re-executes this binary as `server` on an ephemeral loopback port and
    /// waits for the address it bound.
    pub(crate) fn spawn(server: Server) -> std::io::Result<Self> {
        Self::spawn_with(server, &[])
    }

    /// [`spawn`](Self::spawn) with more arguments after the address.
    pub(crate) fn spawn_with(server: Server, more: &[&str]) -> std::io::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([server.subcommand(), "127.0.0.1:0"])
            .args(more)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let addr = line.trim().parse().map_err(|_| {
            let _ = child.kill();
            let _ = child.wait();
            std::io::Error::other(format!(
                "`{}` did not print its address (got {line:?})",
                server.subcommand()
            ))
        })?;
        Ok(Self { child, addr })
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }
}

/// CPU time (user + system, all threads) process `pid` has used so far, from
/// `/proc/<pid>/stat`; `None` off Linux.
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesized command name, which may hold spaces; utime
    // and stime are fields 14 and 15 of the whole line.
    let mut fields = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration that matters.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The resident set size of process `pid` in KiB (`VmRSS` of
/// `/proc/<pid>/status`); `None` off Linux.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_field(pid, "VmRSS:")
}

fn proc_status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The soft and hard open-file limits of process `pid`, from `/proc/<pid>/limits`.
pub(crate) fn open_file_limits(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
