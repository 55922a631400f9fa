//! An entity's update events as API operations:
//! `POST /api/{entity}/{id}/{event}` runs the event (its own logic and checks,
//! exactly as a page's button would), with its parameters as a JSON object in
//! the body, and answers the record as it is after the event (204 when the event
//! deleted it).
//!
//! Create events are operations too: `POST /api/{entity}/{event}` runs the event
//! and answers 201 with the new record. That path is also the one of a record
//! whose id is the event's name: its other methods (`GET`, `PUT`, ...) still
//! reach that record.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use http::{StatusCode, header};
use serde_json::{Map, Value};
use starmodel_axum::rejection::{NotFound, Rejection};
use starmodel_axum::routes::only;
use starmodel_core::{EventInput, EventKind};

use super::body::{Accept, read_object};
use super::{EntityApi, error, json_response, path_id};

/// Adds a route per event of `api`'s entity to `router`; `record_methods` are
/// those of `/api/{entity}/{id}`, which a create event's path keeps serving.
pub(crate) fn routes(
    mut router: Router,
    api: &Arc<EntityApi>,
    record_methods: MethodFilter,
    allow: &'static str,
) -> Router {
    let name = api.ty.name();
    for (index, spec) in api.ty.events().iter().enumerate() {
        if spec.internal {
            continue;
        }
        if spec.kind == EventKind::Create {
            let (create, record) = (api.clone(), api.clone());
            router = router.route(
                &format!("/api/{name}/{}", spec.name),
                only(
                    MethodFilter::POST.or(record_methods),
                    allow,
                    "this path".into(),
                    move |req: Request| {
                        let (create, record) = (create.clone(), record.clone());
                        async move {
                            if req.method() == http::Method::POST {
                                run_create(create, index, req).await
                            } else {
                                super::record(record, req).await
                            }
                        }
                    },
                ),
            );
            continue;
        }
        let api = api.clone();
        router = router.route(
            &format!("/api/{name}/{{id}}/{}", spec.name),
            only(
                MethodFilter::POST,
                "POST",
                format!("event `{}` of `{name}`", spec.name),
                move |req: Request| run(api.clone(), index, req),
            ),
        );
    }
    router
}

/// The parameters in a request body: a JSON object, or nothing at all.
async fn params(
    api: &EntityApi,
    req: Request,
) -> Result<(http::request::Parts, EventInput), Response> {
    let (parts, body) = req.into_parts();
    let empty = parts.headers.get(header::CONTENT_TYPE).is_none()
        && parts
            .headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
    let params = if empty {
        Map::new()
    } else {
        read_object(&parts.headers, body, api.app.body_limit(), Accept::Json)
            .await
            .map_err(IntoResponse::into_response)?
    };
    let input = EventInput::new(api.ty.name()).with_signals(Value::Object(params));
    Ok((parts, input))
}

async fn run_create(api: Arc<EntityApi>, index: usize, req: Request) -> Response {
    let (parts, input) = match params(&api, req).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let input = starmodel_axum::inject::provide(input, &parts, &api.app, &api.ty.events()[index]);
    match api
        .app
        .dispatcher()
        .dispatch_event(&api.ty, index, starmodel_core::EntityId::new(""), &input)
        .await
    {
        Ok(outcome) => match outcome.record {
            Some(record) => api.created(&outcome.key.id, &record),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(e) => error(&e),
    }
}

async fn run(api: Arc<EntityApi>, index: usize, req: Request) -> Response {
    // `/api/{entity}/{id}/{event}`: the id is the segment before the event's.
    let id_path = req
        .uri()
        .path()
        .rsplit_once('/')
        .map_or("", |(head, _)| head);
    let Some(raw) = path_id(id_path) else {
        return Rejection::from(NotFound("the id in the path is not UTF-8".into())).into_response();
    };
    let Some(id) = api.ty.canonical_id(raw.as_str()) else {
        return api.not_found(&raw);
    };
    let (parts, input) = match params(&api, req).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let input = starmodel_axum::inject::provide(input, &parts, &api.app, &api.ty.events()[index]);
    match api
        .app
        .dispatcher()
        .dispatch_event(&api.ty, index, id, &input)
        .await
    {
        Ok(outcome) => match outcome.record {
            Some(record) => json_response(StatusCode::OK, record.value.to_string()),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(e) => error(&e),
    }
}
