//! What every StarModel route shares: the application's parts, behind the
//! [`App`](super::App) handle.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use starmodel_core::{Dispatcher, Store};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use super::mount::Mount;
use crate::assets::DatastarBundle;
use crate::layout::Layout;
use crate::live::LiveHub;
use crate::session::SessionKeys;

tokio::task_local! {
    /// The application serving the current request (set around the application's
    /// own handlers by the request pipeline).
    pub(crate) static CURRENT_APP: Arc<AppContext>;
}

/// The application serving this request, inside a handler of its routes.
pub(crate) fn current_app() -> Option<Arc<AppContext>> {
    CURRENT_APP.try_with(Clone::clone).ok()
}

pub(crate) struct AppContext {
    pub(crate) dispatcher: Arc<Dispatcher>,
    pub(crate) hub: Arc<LiveHub>,
    pub(crate) sessions: Arc<SessionKeys>,
    pub(crate) body_limit: usize,
    pub(crate) heartbeat: Duration,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) stores: Vec<Arc<dyn Store>>,
    pub(crate) bundle: Arc<DatastarBundle>,
    /// What the application adds to every page.
    pub(crate) layout: Arc<Layout>,
    /// The writes running in tasks of their own (the pipeline's
    /// run-to-completion), which shutdown waits for.
    pub(crate) writes: TaskTracker,
    /// The application's own routes, before the pipeline wraps them (kept
    /// unwrapped so that the context does not hold itself).
    pub(crate) user_routes: Router,
    /// The capabilities mounted on the application (the JSON API, the admin).
    pub(crate) mounts: Vec<Arc<dyn Mount>>,
    /// StarModel's JSON 404 for unmatched paths.
    pub(crate) fallback: bool,
    /// The values given with `StarModel::state`, as `State<T>`.
    pub(crate) states: http::Extensions,
    /// The path the application is served under (`/app`), if any.
    pub(crate) prefix: Option<Arc<str>>,
    /// The static folder's files (`StarModel::static_dir`).
    pub(crate) static_files: Arc<crate::static_files::StaticFiles>,
}

/// How long shutdown waits for writes whose clients have gone.
const WRITES_DEADLINE: Duration = Duration::from_secs(30);

impl AppContext {
    /// Ends every live stream (their browsers reconnect to the next server).
    pub(crate) fn begin_shutdown(&self) {
        self.hub.close();
        self.shutdown.send_replace(true);
    }

    /// Waits for the writes under way (up to 30 s): their clients may have gone,
    /// so the server's connections no longer count them.
    pub(crate) async fn finish_writes(&self) {
        self.writes.close();
        if tokio::time::timeout(WRITES_DEADLINE, self.writes.wait())
            .await
            .is_err()
        {
            tracing::error!(
                running = self.writes.len(),
                "writes still running after {} s of shutdown; not waiting longer",
                WRITES_DEADLINE.as_secs()
            );
        }
    }

    /// Writes every store's buffered state (memory snapshots).
    pub(crate) async fn flush_stores(&self) {
        for store in &self.stores {
            if let Err(e) = store.flush().await {
                tracing::error!(error = %e, "flushing a store on shutdown failed");
            }
        }
    }
}
