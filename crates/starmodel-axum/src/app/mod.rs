//! The application: [`StarModel`] builds it, [`App`] is the handle to it.
//!
//! `App` is cheap to clone, `Send + Sync`, and works without a server: tests,
//! background tasks, commands and the admin read records
//! ([`find`](App::find), [`list`](App::list), [`all`](App::all)) and run events
//! ([`dispatch`](App::dispatch)) through it, exactly as requests do. In a handler
//! it is an extractor (`async fn show(app: App)`).

mod builder;
mod context;
mod error;
mod mount;
mod options;
mod reactions;
mod reads;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use starmodel_core::{
    DispatchError, Dispatcher, EntityId, EventInput, EventOutcome, Registry, StoreError,
};

pub use builder::{DEFAULT_CAPACITY, DEFAULT_SESSION_TTL, SECRET_ENV, StarModel};
pub(crate) use context::{AppContext, CURRENT_APP, current_app};
pub use error::{BuildError, ServeError};
pub use mount::Mount;
pub use reads::Listed;
pub(crate) use reads::{decode, not_registered};

use crate::rejection::NotServed;

/// A built application: the handle to its entities, stores and live hub.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), starmodel_axum::BuildError> {
/// let app = starmodel_axum::StarModel::new().build()?;
/// let router: axum::Router = app.router(); // to serve, or to nest in a larger app
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct App {
    ctx: Arc<AppContext>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    pub(crate) fn from_context(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }

    pub(crate) fn context(&self) -> &Arc<AppContext> {
        &self.ctx
    }

    /// The dispatcher: every entity type, and the unit of work that runs events
    /// and writes.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.ctx.dispatcher
    }

    /// The registered entity types.
    pub fn registry(&self) -> &Registry {
        self.ctx.dispatcher.registry()
    }

    /// The largest request body the application accepts, in bytes.
    pub fn body_limit(&self) -> usize {
        self.ctx.body_limit
    }

    /// Runs event `event` of `entity` on instance `id` (ignored by create events)
    /// with `input`, committed and published to live pages as if a request had
    /// sent it.
    pub async fn dispatch(
        &self,
        entity: &str,
        event: &str,
        id: impl Into<EntityId>,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        self.ctx
            .dispatcher
            .dispatch(entity, event, id.into(), input)
            .await
    }

    /// Readies every store (a SQL store applies its start-up migrations), then
    /// delivers the changes for other stores that a stop left in the outbox.
    /// Serving calls it; call it yourself before serving [`router`](Self::router).
    pub async fn prepare(&self) -> Result<(), StoreError> {
        for store in &self.ctx.stores {
            store.prepare().await?;
        }
        match self.ctx.dispatcher.deliver_pending().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(delivered = n, "applied changes left in the outbox"),
            // The stores are ready; what could not be applied is tried again while
            // serving.
            Err(e) => tracing::warn!(error = %e, "delivering the outbox failed"),
        }
        Ok(())
    }

    /// Ends every live stream, waits for the writes under way (up to 30 s) and
    /// flushes the stores (memory snapshots).
    pub async fn shutdown(&self) {
        self.ctx.begin_shutdown();
        self.ctx.finish_writes().await;
        self.ctx.flush_stores().await;
    }
}

impl<S: Send + Sync> FromRequestParts<S> for App {
    type Rejection = NotServed;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<App>().cloned().ok_or_else(|| {
            NotServed(
                "`App` cannot be extracted here: the route is not served by the StarModel router"
                    .into(),
            )
        })
    }
}
