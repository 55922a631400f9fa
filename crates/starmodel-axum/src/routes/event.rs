//! `/{entity}/{event}` (and `/{entity}/{id}/{event}`): decode the request, run the
//! event through the dispatcher, answer with Datastar patches. The pipeline has
//! already applied the same-site policy and runs this to completion.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header};
use serde::de::IgnoredAny;
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{EntityId, EntityType, EventInput, EventKind, EventOutput, Scope};
use starmodel_datastar::{
    DatastarEvent, PatchElements, PatchSignals, ReadSignalsError, TEXT_EVENT_STREAM,
};

use crate::App;
use crate::live::namespaced_json;
use crate::pipeline::read_body;
use crate::rejection::{BadParameter, Internal, MalformedBody, NotFound, NotServed, Rejection};
use crate::session::SessionSlot;

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k != "datastar")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// One event as the router resolved it at start-up.
#[derive(Clone)]
pub(super) struct EventTarget {
    pub(super) app: App,
    pub(super) ty: Arc<EntityType>,
    pub(super) index: usize,
}

pub(super) async fn handle(target: EventTarget, req: Request) -> Response {
    match run(&target, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The signals could not be read (400).
fn unreadable(e: ReadSignalsError) -> Rejection {
    MalformedBody(e.to_string()).into()
}

/// The signals of a request with a JSON body: checked now (malformed JSON is a 400
/// whether or not a parameter needs it), parsed only if a parameter is looked up.
fn json_signals(input: EventInput, body: Bytes) -> Result<EventInput, Rejection> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(input),
        Some(b'{') => {
            serde_json::from_slice::<IgnoredAny>(&body)
                .map_err(|e| unreadable(ReadSignalsError::InvalidJson(e)))?;
            Ok(input.with_signals_json(body))
        }
        // Not an object: let the reader name what it is.
        Some(_) => match starmodel_datastar::read_signals(&Method::POST, None, &body) {
            Ok(signals) => Ok(input.with_signals(signals)),
            Err(e) => Err(unreadable(e)),
        },
    }
}

async fn run(target: &EventTarget, req: Request) -> Result<Response, Rejection> {
    let EventTarget { app, ty, index } = target;
    let ctx = app.context();
    let spec = ty.events()[*index];
    let (mut parts, body) = req.into_parts();
    let body = read_body(&parts.headers, body, ctx.body_limit).await?;
    let mut input = EventInput::new(ty.name()).with_query(query_pairs(parts.uri.query()));
    if parts.method == Method::GET || parts.method == Method::DELETE {
        let signals = starmodel_datastar::read_signals(&parts.method, parts.uri.query(), b"")
            .map_err(unreadable)?;
        input = input.with_signals(signals);
    } else if is_form(&parts.headers) {
        input = input.with_form(
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    } else {
        input = json_signals(input, body)?;
    }
    let id = match ty.scope() {
        Scope::Session => SessionSlot::of(&parts)
            .ok_or_else(|| NotServed("no session on the request".into()))?
            .session()
            .id()
            .clone(),
        Scope::Global => EntityId::new(GLOBAL_ID),
        Scope::Record => {
            let Path(path) =
                <Path<Vec<(String, String)>> as FromRequestParts<()>>::from_request_parts(
                    &mut parts,
                    &(),
                )
                .await
                .map_err(|e| BadParameter {
                    field: None,
                    message: format!("bad path: {e}"),
                })?;
            let id = path
                .iter()
                .find(|(k, _)| k == "id")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            input = input.with_path(path);
            if spec.kind == EventKind::Create {
                // No record yet: the new one's id comes from the event.
                EntityId::new(id)
            } else {
                // The form every store keys records by (`6F96…` and `6f96…` are
                // one UUID); an id no record can have is simply not found.
                ty.canonical_id(&id)
                    .ok_or_else(|| NotFound::record(ty.name(), &id))?
            }
        }
    };
    let input = crate::inject::provide(input, &parts, app, &spec);
    let outcome = ctx
        .dispatcher
        .dispatch_event(ty, *index, id, &input)
        .await?;

    let mut body = Vec::with_capacity(128);
    // When a live stream watches this instance, it delivers the new state, in
    // order with every other change; echoing it here too could arrive after a
    // later change on the stream (two quick clicks) and put the page back.
    let mut encoded = Ok(());
    // Record entities are live through views, not signals.
    if ty.scope() != Scope::Record
        && !ctx.hub.is_watched(&outcome.key)
        && let Some(record) = &outcome.record
    {
        let signals = PatchSignals::new(namespaced_json(ty.name(), &record.value));
        encoded = signals.write_to(&mut body);
    }
    if let EventOutput::Elements(html) = outcome.output {
        let mut patch = PatchElements::new(html);
        if let Some(selector) = spec.selector {
            patch = patch.selector(selector);
        }
        if let Some(mode) = spec.mode {
            patch = patch.mode(mode);
        }
        encoded = encoded.and_then(|()| patch.write_to(&mut body));
    }
    if let Err(e) = encoded {
        // The change is committed; only its echo to this browser failed (the live
        // stream still delivers the state).
        return Err(Internal(format!("response could not be encoded: {e}")).into());
    }
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TEXT_EVENT_STREAM),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
