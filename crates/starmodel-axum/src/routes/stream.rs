//! The page-level live stream: one SSE response per page that multiplexes every
//! entity the page shows (found among the signals the browser sends with the
//! request), starting with their full current state.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::future::ready;
use futures_util::stream::{self, StreamExt};
use http::{HeaderValue, Method, StatusCode};
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{EntityId, EntityKey, Scope};
use tokio_stream::wrappers::{IntervalStream, WatchStream};

use crate::context::AppContext;
use crate::error::ErrorResponse;
use crate::live::LiveHub;

/// Releases a stream's channels when the stream is dropped.
struct Watching {
    hub: Arc<LiveHub>,
    keys: Vec<EntityKey>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.hub.release(&self.keys);
    }
}

const HEARTBEAT: &[u8] = b": keep-alive\n\n";

pub(super) async fn open(ctx: Arc<AppContext>, req: Request) -> Response {
    let datastar = starmodel_datastar::is_datastar_request(req.headers());
    let signals = match starmodel_datastar::read_signals(&Method::GET, req.uri().query(), b"") {
        Ok(s) => s,
        Err(e) => {
            return ErrorResponse::new(StatusCode::BAD_REQUEST, e.to_string())
                .datastar(datastar)
                .into_response();
        }
    };
    let session = ctx.sessions.session(req.headers());
    let cookie = session
        .is_new()
        .then(|| ctx.sessions.set_cookie(session.id()));
    let session = Some(session.id().clone());
    let keys: Vec<EntityKey> = ctx
        .dispatcher
        .registry()
        .iter()
        .filter(|ty| signals.get(ty.name()).is_some())
        .filter_map(|ty| {
            let id = match ty.scope() {
                Scope::Session => session.clone()?,
                Scope::Global => EntityId::new(GLOBAL_ID),
                Scope::Record => return None,
            };
            Some(EntityKey::new(ty.name(), id))
        })
        .collect();

    // Subscribe first, then load: a commit in between is newer than the load and
    // wins in the channel, so nothing is missed. The guard exists before the first
    // await, so a client gone during the load leaves no channel behind.
    let mut receivers: Vec<_> = keys.iter().map(|k| ctx.hub.subscribe(k)).collect();
    let watching = Watching {
        hub: ctx.hub.clone(),
        keys,
    };
    for key in &watching.keys {
        if let Err(e) = ctx.hub.refresh(&ctx.dispatcher, key).await {
            // Datastar retries the stream; a stream without the state would not.
            return ErrorResponse::new(e.status(), format!("live state unavailable: {e}"))
                .datastar(datastar)
                .into_response();
        }
    }
    let mut first = BytesMut::new();
    for rx in &mut receivers {
        if let Some(frame) = rx.borrow_and_update().as_ref() {
            first.extend_from_slice(&frame.bytes);
        }
    }
    let changes = stream::select_all(
        receivers
            .into_iter()
            .map(|rx| WatchStream::from_changes(rx).filter_map(|f| ready(f.map(|f| f.bytes)))),
    );
    let mut interval = tokio::time::interval(ctx.heartbeat);
    interval.reset();
    let heartbeats = IntervalStream::new(interval).map(|_| Bytes::from_static(HEARTBEAT));
    let body = stream::once(async move { first.freeze() })
        .chain(stream::select(changes, heartbeats))
        .take_until(ctx.shutting_down())
        .map(move |bytes| {
            let _keep = &watching;
            Ok::<_, Infallible>(bytes)
        });
    let mut response = Response::new(Body::from_stream(body));
    response
        .headers_mut()
        .extend(starmodel_datastar::sse_headers());
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .insert(http::header::SET_COOKIE, cookie);
    }
    response
}
