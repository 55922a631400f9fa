//! The routes StarModel adds to an application: one per entity event, the page's
//! live stream, the local Datastar bundle and the JSON API (`crate::api`). These read the session cookie
//! themselves (only where the entity needs it); the session layer defined here
//! wraps the application's own routes, for extractors and [`Session`](crate::Session).

mod event;
mod stream;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::{HeaderMap, StatusCode, header};
use starmodel_core::{EventKind, Scope};
use tracing::Instrument as _;

use crate::context::AppContext;
use crate::error::ErrorResponse;
use crate::view::{DatastarBundle, serve_bundle, with_bundle};

/// The path of the page-level live stream.
pub const STREAM_PATH: &str = "/_starmodel/stream";

/// Runs a request that writes to completion, whether or not its client waits for
/// the answer. Hyper drops a request's future when the connection closes, and a
/// browser closes it often: Datastar aborts a request when the same one starts
/// again (two quick submits), a tab closes, a page navigates. Dropped, an event
/// would be rolled back mid-transaction or, worse, committed but never published
/// to the open pages.
///
/// In a task of its own (in the request's tracing span; task-locals of the
/// caller's middleware do not reach it), tracked so that shutdown waits for it,
/// a request received in full is carried out. A layer around the router that
/// times out or limits requests answers for them but cannot cancel one. A
/// panic answers 500 (`datastar`: in Datastar's form).
pub(crate) async fn to_completion(
    ctx: &AppContext,
    datastar: bool,
    handler: impl Future<Output = Response> + Send + 'static,
) -> Response {
    match ctx.writes.spawn(handler.in_current_span()).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("a request handler failed: {e}");
            ErrorResponse::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed")
                .datastar(datastar)
                .into_response()
        }
    }
}

/// StarModel's own routes for the entities of `ctx`: one per event (resolved at
/// start-up, so a request does no lookup), and per entity a catch-all that names
/// an unknown event.
pub(crate) fn routes(ctx: &Arc<AppContext>) -> Router {
    let mut router = Router::new();
    for ty in ctx.dispatcher.registry().iter() {
        let name = ty.name();
        let prefix = match ty.scope() {
            Scope::Record => format!("/{name}/{{id}}"),
            Scope::Session | Scope::Global => format!("/{name}"),
        };
        for index in 0..ty.events().len() {
            let target = event::EventTarget {
                ctx: ctx.clone(),
                ty: ty.clone(),
                index,
            };
            let spec = ty.events()[index];
            // A create event has no record yet: `/todo/add`.
            let path = match spec.kind {
                EventKind::Create => format!("/{name}/{}", spec.name),
                EventKind::Update => format!("{prefix}/{}", spec.name),
            };
            router = router.route(
                &path,
                any(move |req: Request| {
                    let target = target.clone();
                    async move {
                        let ctx = target.ctx.clone();
                        let datastar = starmodel_datastar::is_datastar_request(req.headers());
                        to_completion(&ctx, datastar, event::handle(target, req)).await
                    }
                }),
            );
        }
        let unknown = move |req: Request| async move {
            let event = req
                .uri()
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ErrorResponse::new(
                StatusCode::NOT_FOUND,
                format!("entity `{name}` has no event `{event}`"),
            )
            .datastar(starmodel_datastar::is_datastar_request(req.headers()))
        };
        router = router.route(&format!("{prefix}/{{event}}"), any(unknown));
    }
    let c = ctx.clone();
    router = router.route(
        STREAM_PATH,
        get(move |req: Request| stream::open(c.clone(), req)),
    );
    if let DatastarBundle::Local { url, .. } = &*ctx.bundle {
        let c = ctx.clone();
        router = router.route(url, get(move || async move { serve_bundle(&c.bundle) }));
    }
    router.merge(crate::api::routes(ctx))
}

/// The session layer: finds or starts the session, hands it and the application
/// context to handlers, and sets the cookie of a new session.
pub(crate) async fn session_layer(ctx: Arc<AppContext>, mut req: Request, next: Next) -> Response {
    let session = ctx.sessions.session(req.headers());
    let (fresh, id) = (session.is_new(), session.id().clone());
    req.extensions_mut().insert(session);
    let bundle = ctx.bundle.clone();
    req.extensions_mut().insert(ctx.clone());
    let mut response = crate::context::CURRENT_APP
        .scope(ctx.clone(), with_bundle(bundle, next.run(req)))
        .await;
    // A new session sets its cookie; every page served renews it, so its
    // Max-Age counts from the last visit rather than the first.
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if fresh || page {
        response
            .headers_mut()
            .append(header::SET_COOKIE, ctx.sessions.set_cookie(&id));
    }
    response
}

/// 404 for paths no route matches, in the same shape as every other error.
pub(crate) async fn not_found(req: Request) -> Response {
    ErrorResponse::new(
        StatusCode::NOT_FOUND,
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
    .into_response()
}

/// Event requests must come from this site's pages: a Datastar request header
/// (which a cross-site form cannot send without a CORS preflight), or a
/// same-origin fetch as the browser reports it.
pub(crate) fn same_site(headers: &HeaderMap) -> bool {
    if starmodel_datastar::is_datastar_request(headers) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return site == "same-origin";
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        // Neither browser header: not a browser (curl, a test, a server).
        (None, _) => true,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(same_site(&headers(&[("datastar-request", "true")])));
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(same_site(&headers(&[
            ("origin", "http://a:1"),
            ("host", "a:1")
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "http://evil"),
            ("host", "a:1")
        ])));
        assert!(same_site(&headers(&[])));
    }
}
