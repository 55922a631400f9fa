//! `/{entity}/{event}` (and `/{entity}/{id}/{event}`): decode the request, run the
//! event through the dispatcher, answer with Datastar patches.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{EntityId, EventInput, EventOutput, Scope};
use starmodel_datastar::{DatastarEvent, ElementPatchMode, PatchElements, PatchSignals};

use crate::context::AppContext;
use crate::error::ErrorResponse;
use crate::session::Session;
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

pub(super) async fn handle(ctx: Arc<AppContext>, entity: &'static str, req: Request) -> Response {
    let datastar = starmodel_datastar::is_datastar_request(req.headers());
    match run(&ctx, entity, req).await {
        Ok(response) => response,
        Err(e) => e.datastar(datastar).into_response(),
    }
}

async fn run(
    ctx: &AppContext,
    entity: &'static str,
    req: Request,
) -> Result<Response, ErrorResponse> {
    if !super::same_site(req.headers()) {
        return Err(ErrorResponse::new(
            StatusCode::FORBIDDEN,
            "cross-site event request refused: send `Datastar-Request: true` from a same-origin page",
        ));
    }
    let (mut parts, body) = req.into_parts();
    let Path(mut path) =
        <Path<Vec<(String, String)>> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
            .map_err(|e| ErrorResponse::new(StatusCode::BAD_REQUEST, format!("bad path: {e}")))?;
    let event = path
        .iter()
        .position(|(k, _)| k == "event")
        .map(|i| path.remove(i).1)
        .unwrap_or_default();
    let registry = ctx.dispatcher.registry();
    let ty = registry.get(entity).ok_or_else(|| {
        ErrorResponse::new(StatusCode::NOT_FOUND, format!("unknown entity `{entity}`"))
    })?;
    let spec = ty
        .events()
        .iter()
        .find(|s| s.name == event)
        .ok_or_else(|| {
            ErrorResponse::new(
                StatusCode::NOT_FOUND,
                format!("entity `{entity}` has no event `{event}`"),
            )
        })?;
    if spec.method.to_http() != parts.method {
        let mut r = ErrorResponse::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "event `{event}` of `{entity}` answers {}, not {}",
                spec.method.to_http(),
                parts.method
            ),
        )
        .into_response();
        if let Ok(allow) = HeaderValue::from_str(spec.method.to_http().as_str()) {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        return Ok(r);
    }
    let body = read_body(&parts.headers, body, ctx.body_limit).await?;
    let mut input = EventInput::new(entity).with_query(query_pairs(parts.uri.query()));
    if is_form(&parts.headers) && parts.method != Method::GET {
        input = input.with_form(
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    } else {
        let signals = starmodel_datastar::read_signals(&parts.method, parts.uri.query(), &body)
            .map_err(|e| ErrorResponse::new(e.status(), e.to_string()))?;
        input = input.with_signals(signals);
    }
    let id = match ty.scope() {
        Scope::Session => parts
            .extensions
            .get::<Session>()
            .map(|s| s.id().clone())
            .ok_or_else(|| {
                ErrorResponse::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no session on the request",
                )
            })?,
        Scope::Global => EntityId::new(GLOBAL_ID),
        Scope::Record => {
            let id = path
                .iter()
                .find(|(k, _)| k == "id")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            input = input.with_path(path);
            EntityId::new(id)
        }
    };
    let outcome = ctx
        .dispatcher
        .dispatch(entity, &event, id, &input)
        .await
        .map_err(|e| ErrorResponse::from_dispatch(&e))?;

    let mut body = Vec::with_capacity(128);
    let signals = PatchSignals::new(namespaced_json(entity, &outcome.record.value));
    let mut encoded = signals.write_to(&mut body);
    if let EventOutput::Elements(html) = outcome.output {
        let mut patch = PatchElements::new(html);
        if let Some(selector) = outcome.spec.selector {
            patch = patch.selector(selector);
        }
        if let Some(mode) = outcome.spec.mode.and_then(parse_mode) {
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
    response
        .headers_mut()
        .extend(starmodel_datastar::sse_headers());
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
