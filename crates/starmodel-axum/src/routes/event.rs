//! `/{entity}/{event}` (and `/{entity}/{id}/{event}`): decode the request, run the
//! event through the dispatcher, answer with Datastar patches.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::IgnoredAny;
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{EntityId, EntityType, EventInput, EventKind, EventOutput, Scope};
use starmodel_datastar::{
    DatastarEvent, ElementPatchMode, PatchElements, PatchSignals, ReadSignalsError,
    TEXT_EVENT_STREAM,
};

use crate::context::AppContext;
use crate::error::ErrorResponse;
use crate::view::namespaced_json;

fn too_large(limit: usize) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body is larger than the {limit}-byte limit"),
    )
}

async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ErrorResponse> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => Err(ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            format!("request body could not be read: {e}"),
        )),
    }
}

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
    pub(super) ctx: Arc<AppContext>,
    pub(super) ty: Arc<EntityType>,
    pub(super) index: usize,
}

pub(super) async fn handle(target: EventTarget, req: Request) -> Response {
    let datastar = starmodel_datastar::is_datastar_request(req.headers());
    match run(&target, datastar, req).await {
        Ok(response) => response,
        Err(e) => e.datastar(datastar).into_response(),
    }
}

/// The signals of a request with a JSON body: checked now (malformed JSON is a 400
/// whether or not a parameter needs it), parsed only if a parameter is looked up.
fn json_signals(input: EventInput, body: Bytes) -> Result<EventInput, ErrorResponse> {
    let bad = |e: ReadSignalsError| ErrorResponse::new(e.status(), e.to_string());
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(input),
        Some(b'{') => {
            serde_json::from_slice::<IgnoredAny>(&body)
                .map_err(|e| bad(ReadSignalsError::InvalidJson(e)))?;
            Ok(input.with_signals_json(body))
        }
        // Not an object: let the reader name what it is.
        Some(_) => match starmodel_datastar::read_signals(&Method::POST, None, &body) {
            Ok(signals) => Ok(input.with_signals(signals)),
            Err(e) => Err(bad(e)),
        },
    }
}

async fn run(
    target: &EventTarget,
    datastar: bool,
    req: Request,
) -> Result<Response, ErrorResponse> {
    let EventTarget { ctx, ty, index } = target;
    let spec = ty.events()[*index];
    if !datastar && !super::same_site(req.headers()) {
        return Err(ErrorResponse::new(
            StatusCode::FORBIDDEN,
            "cross-site event request refused: send `Datastar-Request: true` from a same-origin page",
        ));
    }
    let (mut parts, body) = req.into_parts();
    if spec.method.to_http() != parts.method {
        let mut r = ErrorResponse::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "event `{}` of `{}` answers {}, not {}",
                spec.name,
                ty.name(),
                spec.method.to_http(),
                parts.method
            ),
        )
        .datastar(datastar)
        .into_response();
        if let Ok(allow) = HeaderValue::from_str(spec.method.to_http().as_str()) {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        return Ok(r);
    }
    let body = read_body(&parts.headers, body, ctx.body_limit).await?;
    let mut input = EventInput::new(ty.name()).with_query(query_pairs(parts.uri.query()));
    if parts.method == Method::GET || parts.method == Method::DELETE {
        let signals = starmodel_datastar::read_signals(&parts.method, parts.uri.query(), b"")
            .map_err(|e| ErrorResponse::new(e.status(), e.to_string()))?;
        input = input.with_signals(signals);
    } else if is_form(&parts.headers) {
        input = input.with_form(
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    } else {
        input = json_signals(input, body)?;
    }
    let mut new_session = None;
    let id = match ty.scope() {
        Scope::Session => {
            let session = ctx.sessions.session(&parts.headers);
            if session.is_new() {
                new_session = Some(ctx.sessions.set_cookie(session.id()));
            }
            session.id().clone()
        }
        Scope::Global => EntityId::new(GLOBAL_ID),
        Scope::Record => {
            let Path(path) =
                <Path<Vec<(String, String)>> as FromRequestParts<()>>::from_request_parts(
                    &mut parts,
                    &(),
                )
                .await
                .map_err(|e| {
                    ErrorResponse::new(StatusCode::BAD_REQUEST, format!("bad path: {e}"))
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
                ty.canonical_id(&id).ok_or_else(|| {
                    ErrorResponse::new(
                        StatusCode::NOT_FOUND,
                        format!("no `{}` with id `{id}`", ty.name()),
                    )
                })?
            }
        }
    };
    let outcome = ctx
        .dispatcher
        .dispatch_event(ty, *index, id, &input)
        .await
        .map_err(|e| ErrorResponse::from_dispatch(&e))?;

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
        if let Some(mode) = spec.mode.and_then(parse_mode) {
            patch = patch.mode(mode);
        }
        encoded = encoded.and_then(|()| patch.write_to(&mut body));
    }
    if let Err(e) = encoded {
        // The change is committed; only its echo to this browser failed (the live
        // stream still delivers the state).
        return Err(ErrorResponse::new(
            e.status(),
            format!("response could not be encoded: {e}"),
        ));
    }
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TEXT_EVENT_STREAM),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(cookie) = new_session {
        headers.insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

fn parse_mode(mode: &str) -> Option<ElementPatchMode> {
    Some(match mode {
        "outer" => ElementPatchMode::Outer,
        "inner" => ElementPatchMode::Inner,
        "remove" => ElementPatchMode::Remove,
        "replace" => ElementPatchMode::Replace,
        "prepend" => ElementPatchMode::Prepend,
        "append" => ElementPatchMode::Append,
        "before" => ElementPatchMode::Before,
        "after" => ElementPatchMode::After,
        _ => return None,
    })
}
