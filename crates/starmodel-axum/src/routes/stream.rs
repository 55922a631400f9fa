//! The page-level live stream: one SSE response per page that multiplexes every
//! entity the page shows (found among the signals the browser sends with the
//! request), starting with their full current state.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http::{HeaderValue, Method};
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{EntityId, EntityKey, Scope};
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

use crate::App;
use crate::live::{Latest, LiveBody, LiveHub};
use crate::rejection::{LiveUnavailable, MalformedBody, NotServed, Rejection, Unavailable};
use crate::session::SessionSlot;

/// Holds a stream's receivers until its body (which then takes them over)
/// exists, releasing their channels if the request is dropped before.
struct Pending {
    hub: Arc<LiveHub>,
    keys: Vec<EntityKey>,
    receivers: Vec<watch::Receiver<Latest>>,
}

impl Pending {
    fn take(mut self) -> Vec<watch::Receiver<Latest>> {
        self.keys.clear();
        std::mem::take(&mut self.receivers)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.receivers.clear();
        self.hub.release(&self.keys);
    }
}

/// The most views one stream follows; further ones are ignored.
const MAX_VIEWS: usize = 256;

pub(super) async fn open(app: App, req: Request) -> Response {
    match live(app, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn live(app: App, req: Request) -> Result<Response, Rejection> {
    let ctx = app.context();
    let signals = starmodel_datastar::read_signals(&Method::GET, req.uri().query(), b"")
        .map_err(|e| MalformedBody(e.to_string()))?;
    let (parts, _) = req.into_parts();
    let session = SessionSlot::of(&parts)
        .ok_or_else(|| NotServed("no session on the request".into()))?
        .session();
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
    // wins in the channel, so nothing is missed. The body owns the receivers and
    // releases them when dropped, even if the client leaves during the load.
    let Some(receivers) = keys
        .iter()
        .map(|k| ctx.hub.subscribe(k))
        .collect::<Option<Vec<_>>>()
    else {
        return Err(Unavailable("the server is shutting down".into()).into());
    };
    let pending = Pending {
        hub: ctx.hub.clone(),
        keys: keys.clone(),
        receivers,
    };
    for key in &keys {
        if let Err(e) = ctx.hub.refresh(&ctx.dispatcher, key).await {
            // Datastar retries the stream; a stream without the state would not.
            return Err(LiveUnavailable {
                what: "live state".into(),
                source: e,
            }
            .into());
        }
    }
    // Views the page shows: `{"starmodel": {"views": {"todos": true},
    // "records": {"todo-card": {"<id>": true}}}}`.
    let mut views: Vec<(String, Option<EntityId>)> = Vec::new();
    let shown = signals.get("starmodel");
    if let Some(lists) = shown
        .and_then(|s| s.get("views"))
        .and_then(|v| v.as_object())
    {
        views.extend(lists.keys().map(|name| (name.clone(), None)));
    }
    if let Some(records) = shown
        .and_then(|s| s.get("records"))
        .and_then(|v| v.as_object())
    {
        for (name, ids) in records {
            for id in ids.as_object().into_iter().flat_map(|ids| ids.keys()) {
                views.push((name.clone(), Some(EntityId::new(id.as_str()))));
            }
        }
    }
    // A page shows a handful; a request naming thousands is not a page.
    views.truncate(MAX_VIEWS);
    // Before the key receivers leave `pending`: an early return or a client
    // leaving during these renders still releases the keys' channels.
    let mut view_receivers = Vec::with_capacity(views.len());
    for (name, id) in &views {
        match ctx.hub.views.subscribe(name, id.as_ref()).await {
            None => {}
            Some(Ok(rx)) => view_receivers.push(rx),
            Some(Err(e)) => {
                return Err(LiveUnavailable {
                    what: format!("live view `{name}`"),
                    source: e,
                }
                .into());
            }
        }
    }
    let mut receivers = pending.take();
    receivers.extend(view_receivers);
    let mut first = BytesMut::new();
    for rx in &mut receivers {
        if let Some(frame) = rx.borrow_and_update().as_ref() {
            first.extend_from_slice(&frame.bytes);
        }
    }
    let start = tokio::time::Instant::now() + ctx.heartbeat;
    let ctx = ctx.clone();
    let body = LiveBody::new(
        first.freeze(),
        receivers
            .into_iter()
            .map(WatchStream::from_changes)
            .collect(),
        tokio::time::interval_at(start, ctx.heartbeat),
        WatchStream::from_changes(ctx.shutdown.subscribe()),
        ctx.hub.clone(),
        keys,
    );
    let mut response = Response::new(Body::from_stream(body));
    response
        .headers_mut()
        .extend(starmodel_datastar::sse_headers());
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
