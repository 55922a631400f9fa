//! The router and serving: StarModel's routes, every mount's and the
//! application's own, each behind the request pipeline, on a listener.

use axum::Router;
use tokio::net::TcpListener;

use crate::App;
use crate::app::ServeError;
use crate::pipeline::{PipelineLayer, Policy};
use crate::rejection::{ErrorResponse, NotFound, Rejection, accepts_html};
use crate::routes;

impl App {
    /// The application's router: StarModel's routes, every mount's and the
    /// application's own, each behind the request pipeline.
    pub fn router(&self) -> Router {
        let own = routes::routes(self);
        let pages = self
            .context()
            .user_routes
            .clone()
            .layer(PipelineLayer::new(self, Policy::PAGES));
        let mut router = own.merge(pages);
        for mount in &self.context().mounts {
            router = router.merge(
                mount
                    .routes(self)
                    .layer(PipelineLayer::new(self, mount.policy())),
            );
        }
        if self.context().fallback {
            router = router.fallback(not_found);
        }
        match &self.context().prefix {
            Some(prefix) => Router::new().nest_service(prefix, router),
            None => router,
        }
    }

    /// The path the application is served under (`/app`; empty when none), for
    /// links written by hand: `format!("{}/todo", app.prefix())`.
    pub fn prefix(&self) -> &str {
        self.context().prefix.as_deref().unwrap_or("")
    }

    /// Readies the stores ([`prepare`](Self::prepare)), then serves on `listener`
    /// until `signal` resolves, then shuts down gracefully.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.prepare().await?;
        let ctx = self.context().clone();
        // `into_make_service` shares one routing table between connections (serving
        // the `Router` itself copies it for each, about 2 KiB per live stream).
        if self.dispatcher().uses_outbox() {
            spawn_outbox_deliveries(&self);
        }
        let shutdown = async move {
            signal.await;
            ctx.begin_shutdown();
            // Save now: draining connections may take a while, and a second
            // signal or a crash during it must not lose the state.
            ctx.flush_stores().await;
        };
        let router = self.router();
        // The peer address is recorded only for an application with events that
        // take injected values (a `ClientAddr`): it costs every request a map.
        let injects = self
            .registry()
            .iter()
            .any(|ty| ty.events().iter().any(|e| e.injects));
        let served = if injects {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        } else {
            axum::serve(listener, router.into_make_service())
                .with_graceful_shutdown(shutdown)
                .await
        };
        // Connections are closed; writes whose clients left before may still run.
        self.context().finish_writes().await;
        self.context().flush_stores().await;
        served.map_err(ServeError::from)
    }
}

/// Delivers the outbox entries that could not be applied right after their
/// commit (their store was down, the process stopped), every 5 s while serving.
fn spawn_outbox_deliveries(app: &App) {
    let dispatcher = std::sync::Arc::downgrade(app.dispatcher());
    let mut shutdown = app.context().shutdown.subscribe();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        every.tick().await;
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.changed() => return,
            }
            let Some(dispatcher) = dispatcher.upgrade() else {
                return;
            };
            if let Err(e) = dispatcher.deliver_pending().await {
                tracing::warn!(error = %e, "delivering the outbox failed; trying again in 5 s");
            }
        }
    });
}

/// 404 for paths no route matches, in the same shape as every other error (an
/// HTML page for a browser navigating, JSON otherwise).
async fn not_found(req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let rejection = Rejection::from(NotFound::route(req.method(), req.uri().path()));
    if accepts_html(req.headers()) && !starmodel_datastar::is_datastar_request(req.headers()) {
        ErrorResponse::from(rejection).into_html_response()
    } else {
        rejection.into_response()
    }
}
