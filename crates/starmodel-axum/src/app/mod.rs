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
mod reads;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use starmodel_core::{
    DispatchError, Dispatcher, EntityId, EventInput, EventOutcome, Registry, StoreError,
};
use tokio::net::TcpListener;

pub use builder::{DEFAULT_CAPACITY, DEFAULT_SESSION_TTL, SECRET_ENV, StarModel};
pub(crate) use context::{AppContext, CURRENT_APP, current_app};
pub use error::{BuildError, ServeError};
pub use reads::Listed;
pub(crate) use reads::decode;

use crate::pipeline::{PipelineLayer, Policy};
use crate::rejection::{NotFound, NotServed, Rejection};
use crate::routes;

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

    /// The application's router: StarModel's routes, every mount's and the
    /// application's own, each behind the request pipeline.
    pub fn router(&self) -> Router {
        let own = routes::routes(self);
        let pages = self
            .ctx
            .user_routes
            .clone()
            .layer(PipelineLayer::new(self, Policy::PAGES));
        let mut router = own.merge(pages);
        for mount in &self.ctx.mounts {
            router = router.merge(
                mount
                    .routes(self)
                    .layer(PipelineLayer::new(self, mount.policy())),
            );
        }
        if self.ctx.fallback {
            router = router.fallback(not_found);
        }
        router
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

    /// Readies every store (a SQL store applies its start-up migrations). Serving
    /// calls it; call it yourself before serving [`router`](Self::router).
    pub async fn prepare(&self) -> Result<(), StoreError> {
        for store in &self.ctx.stores {
            store.prepare().await?;
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

    /// Readies the stores ([`prepare`](Self::prepare)), then serves on `listener`
    /// until `signal` resolves, then shuts down gracefully.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.prepare().await?;
        let ctx = self.ctx.clone();
        // `into_make_service` shares one routing table between connections (serving
        // the `Router` itself copies it for each, about 2 KiB per live stream).
        let served = axum::serve(listener, self.router().into_make_service())
            .with_graceful_shutdown(async move {
                signal.await;
                ctx.begin_shutdown();
                // Save now: draining connections may take a while, and a second
                // signal or a crash during it must not lose the state.
                ctx.flush_stores().await;
            })
            .await;
        // Connections are closed; writes whose clients left before may still run.
        self.ctx.finish_writes().await;
        self.ctx.flush_stores().await;
        served.map_err(ServeError::from)
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

/// 404 for paths no route matches, in the same shape as every other error.
async fn not_found(req: axum::extract::Request) -> Rejection {
    NotFound::route(req.method(), req.uri().path()).into()
}
