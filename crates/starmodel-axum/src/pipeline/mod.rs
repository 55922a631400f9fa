//! The request pipeline: the one layer every StarModel route passes through.
//!
//! [`PipelineLayer`] wraps StarModel's own routes, every [`Mount`](crate::Mount)'s
//! routes and the application's routes, each with its [`Policy`]. In order, it
//!
//! 1. refuses a cross-site write ([`same_site`]) where the policy asks;
//! 2. puts the request's session (resolved only when asked for; the only code
//!    that reads the session cookie) and the [`App`] in the request's
//!    extensions;
//! 3. runs a write to completion where the policy asks: in a task of its own,
//!    tracked so that shutdown waits for it, so a client that hangs up cannot
//!    cancel it half-done (hyper drops a request's future when its connection
//!    closes; Datastar aborts a request when the same one starts again);
//! 4. sets the cookie of a session the request started, and renews it on pages;
//! 5. renders a [`Rejection`] in Datastar's form for
//!    Datastar requests (JSON for everyone else).
//!
//! The body limit is applied by [`read_body`], the one body reader. Method
//! routing is axum's method router with a fallback that answers 405 with
//! `Allow`. Guards attach to a router with `route_layer`, inside this layer, so
//! they see the session and the application.

mod body;
mod same_site;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header;
use tower::{Layer, Service};
use tracing::Instrument as _;

pub use crate::policy::{Methods, Policy};
pub use body::read_body;
pub use same_site::same_site;

use crate::app::{App, AppContext, CURRENT_APP};
use crate::assets::with_bundle;
use crate::rejection::{CrossSite, ErrorResponse, Internal, Rejection, accepts_html};
use crate::session::SessionSlot;

/// The pipeline as a tower layer, for one application and one [`Policy`].
#[derive(Clone)]
pub struct PipelineLayer {
    ctx: Arc<AppContext>,
    policy: Policy,
}

impl PipelineLayer {
    /// The pipeline of `app` with `policy`.
    pub fn new(app: &App, policy: Policy) -> Self {
        Self {
            ctx: app.context().clone(),
            policy,
        }
    }
}

impl std::fmt::Debug for PipelineLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineLayer")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for PipelineLayer {
    type Service = Pipeline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Pipeline {
            inner,
            ctx: self.ctx.clone(),
            policy: self.policy,
        }
    }
}

/// The service [`PipelineLayer`] makes.
#[derive(Clone)]
pub struct Pipeline<S> {
    inner: S,
    ctx: Arc<AppContext>,
    policy: Policy,
}

impl<S> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S> Service<Request> for Pipeline<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let policy = self.policy;
        let datastar = starmodel_datastar::is_datastar_request(req.headers());
        let html = policy.pages && !datastar && accepts_html(req.headers());
        let method = req.method().clone();
        if policy.same_site.cover(&method) && !datastar && !same_site(req.headers()) {
            let (what, hint) = policy
                .refusal
                .unwrap_or(("request", "send it from a same-origin page"));
            let refused = Rejection::from(CrossSite { what, hint }).into_response();
            return Box::pin(std::future::ready(Ok(refused)));
        }
        let ctx = self.ctx.clone();
        let slot = SessionSlot::new(&ctx.sessions, req.headers());
        req.extensions_mut().insert(slot.clone());
        req.extensions_mut().insert(App::from_context(ctx.clone()));
        // `inner` was made ready by `poll_ready` and its future owns what it needs:
        // call it here, with no clone of the route per request.
        let served =
            starmodel_core::event::with_url_prefix(ctx.prefix.as_ref(), self.inner.call(req));
        Box::pin(async move {
            let mut response = if policy.to_completion.cover(&method) {
                match ctx.writes.spawn(served.in_current_span()).await {
                    Ok(Ok(response)) => response,
                    Err(e) => {
                        tracing::error!("a request handler failed: {e}");
                        ErrorResponse::from(Rejection::from(Internal("the request failed".into())))
                            .datastar(datastar)
                            .into_response()
                    }
                }
            } else if policy.pages {
                let Ok(response) = CURRENT_APP
                    .scope(ctx.clone(), with_bundle(ctx.bundle.clone(), served))
                    .await;
                response
            } else {
                let Ok(response) = served.await;
                response
            };
            finish(&mut response, &slot, policy.pages, datastar, html);
            Ok(response)
        })
    }
}

/// Sets the session cookie the response needs and renders a refusal in the
/// client's form: a Datastar patch for Datastar requests, an HTML page for a
/// browser navigating to a page route (`html`), else JSON as rendered.
fn finish(response: &mut Response, slot: &SessionSlot, pages: bool, datastar: bool, html: bool) {
    let page = pages
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if (datastar || html)
        && let Some(error) = response.extensions_mut().remove::<ErrorResponse>()
        && !error.is_datastar()
    {
        let mut again = if datastar {
            error.datastar(true).into_response()
        } else {
            error.into_html_response()
        };
        for name in [header::ALLOW, header::SET_COOKIE] {
            for value in response.headers().get_all(&name) {
                again.headers_mut().append(name.clone(), value.clone());
            }
        }
        *response = again;
    }
    if let Some(cookie) = slot.cookie(page) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}
