//! The JSON API: CRUD over HTTP for every record entity marked `#[entity(api)]`,
//! and its OpenAPI document.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/{entity}` | one page: `limit`, `offset`, `cursor`, `sort`, filters ([`params`]) |
//! | `POST /api/{entity}` | create (201, `Location`); 409 when the id exists |
//! | `GET /api/{entity}/{id}` | one record |
//! | `PUT /api/{entity}/{id}` | replace every field |
//! | `PATCH /api/{entity}/{id}` | JSON Merge Patch (RFC 7396) |
//! | `DELETE /api/{entity}/{id}` | delete (204) |
//! | `GET /api/openapi.json` | the OpenAPI 3.0.3 document ([`openapi`]) |
//!
//! Writes go through the [`Dispatcher`](starmodel_core::Dispatcher) like events
//! do: validated, atomic per record, and published to live pages. Bodies must be
//! sent as JSON, which a cross-site form cannot do without a CORS preflight.

mod body;
mod openapi;
mod params;
mod shape;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value, json};
use starmodel_core::entity::{Field, FieldError};
use starmodel_core::{DispatchError, EntityId, EntityType, EventError, Scope, StoreError};

use self::body::{Accept, Completeness, field_errors, merge_patch, read_object};
use self::shape::{Shape, new_uuid_v4};
use crate::context::AppContext;
use crate::error::ErrorResponse;

/// Where the OpenAPI document is served.
pub(crate) const OPENAPI_PATH: &str = "/api/openapi.json";

/// One entity's API: the application context, the resolved type and its id field.
struct EntityApi {
    ctx: Arc<AppContext>,
    ty: Arc<EntityType>,
    id_field: &'static Field,
}

/// Whether `ty` is served by the API (record entities always have an id field).
fn served(ty: &EntityType) -> bool {
    ty.schema().api && ty.scope() == Scope::Record && ty.schema().id_field().is_some()
}

/// The API's routes for the entities of `ctx`; none when no entity asks for them.
pub(crate) fn routes(ctx: &Arc<AppContext>) -> Router {
    let types: Vec<Arc<EntityType>> = ctx
        .dispatcher
        .registry()
        .iter()
        .filter(|ty| served(ty))
        .cloned()
        .collect();
    if types.is_empty() {
        return Router::new();
    }
    let document = Bytes::from(openapi::document(&types).to_string());
    let mut router = Router::new().route(
        OPENAPI_PATH,
        any(move |req: Request| {
            let document = document.clone();
            async move {
                if !matches!(*req.method(), Method::GET | Method::HEAD) {
                    return method_not_allowed(req.method(), "GET, HEAD");
                }
                json_response(StatusCode::OK, document)
            }
        }),
    );
    for ty in types {
        let name = ty.name();
        let Some(id_field) = ty.schema().id_field() else {
            continue;
        };
        let api = Arc::new(EntityApi {
            ctx: ctx.clone(),
            ty,
            id_field,
        });
        let item = api.clone();
        router = router
            .route(
                &format!("/api/{name}"),
                any(move |req: Request| writes_complete(req, collection, api.clone())),
            )
            .route(
                &format!("/api/{name}/{{id}}"),
                any(move |req: Request| writes_complete(req, record, item.clone())),
            );
    }
    router
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn method_not_allowed(method: &Method, allow: &'static str) -> Response {
    let mut r = ErrorResponse::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed here (allowed: {allow})"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn error(e: &DispatchError) -> Response {
    ErrorResponse::from_dispatch(e).into_response()
}

fn invalid(errors: Vec<FieldError>) -> DispatchError {
    EventError::Invalid(errors).into()
}

/// Writes must come from this site's pages or from a non-browser client, like
/// events (a browser's cross-site request says so in its headers).
fn cross_site_write(req: &Request) -> Option<Response> {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    (!read && !crate::routes::same_site(req.headers())).then(|| {
        ErrorResponse::new(
            StatusCode::FORBIDDEN,
            "cross-site API write refused: send it from a same-origin page or without browser headers",
        )
        .into_response()
    })
}

/// Runs `handler`; a write [to completion](crate::routes::to_completion), so a
/// client that goes away cannot cancel it half-done.
async fn writes_complete<F>(
    req: Request,
    handler: fn(Arc<EntityApi>, Request) -> F,
    api: Arc<EntityApi>,
) -> Response
where
    F: Future<Output = Response> + Send + 'static,
{
    if req.method().is_safe() {
        handler(api, req).await
    } else {
        let ctx = api.ctx.clone();
        crate::routes::to_completion(&ctx, false, handler(api, req)).await
    }
}

/// `/api/{entity}`: list and create.
async fn collection(api: Arc<EntityApi>, req: Request) -> Response {
    if let Some(refused) = cross_site_write(&req) {
        return refused;
    }
    match *req.method() {
        Method::GET | Method::HEAD => api.list(req).await,
        Method::POST => api.create(req).await.unwrap_or_else(|e| e),
        ref m => method_not_allowed(m, "GET, HEAD, POST"),
    }
}

/// `/api/{entity}/{id}`: read, replace, patch, delete.
async fn record(api: Arc<EntityApi>, req: Request) -> Response {
    if let Some(refused) = cross_site_write(&req) {
        return refused;
    }
    let Some(raw) = path_id(req.uri().path()) else {
        return ErrorResponse::new(StatusCode::NOT_FOUND, "the id in the path is not UTF-8")
            .into_response();
    };
    // The form every store keys records by (`6F96…` and `6f96…` are one UUID).
    let Some(id) = api.ty.canonical_id(raw.as_str()) else {
        return api.not_found(&raw);
    };
    let result = match *req.method() {
        Method::GET | Method::HEAD => api.get(id).await,
        Method::PUT => api.replace(id, req).await,
        Method::PATCH => api.patch(id, req).await,
        Method::DELETE => api.delete(id).await,
        ref m => return method_not_allowed(m, "GET, HEAD, PUT, PATCH, DELETE"),
    };
    result.unwrap_or_else(|e| e)
}

/// The last path segment, percent-decoded (the route matched one segment).
fn path_id(path: &str) -> Option<EntityId> {
    let raw = path.rsplit('/').next().unwrap_or_default().as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).ok().map(EntityId::new)
}

/// `id` as a path segment: everything but RFC 3986's unreserved characters
/// percent-encoded.
fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text the dispatcher keys a record by, for an id field's JSON value.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl EntityApi {
    fn not_found(&self, id: &EntityId) -> Response {
        error(&DispatchError::NotFound {
            entity: self.ty.name().to_owned(),
            id: id.to_string(),
        })
    }

    async fn list(&self, req: Request) -> Response {
        let query = match params::list_query(self.ty.schema(), req.uri().query()) {
            Ok(q) => q,
            Err(e) => return e.into_response(),
        };
        match self.ctx.dispatcher.query(&self.ty, &query).await {
            Ok(page) => {
                let items: Vec<Value> = page.items.into_iter().map(|(_, r)| r.value).collect();
                let body = json!({ "items": items, "next": page.next });
                json_response(StatusCode::OK, body.to_string())
            }
            // A filter value the store cannot compare (U+0000 on PostgreSQL) is a
            // bad query parameter, as its other filter errors are.
            Err(DispatchError::Store(StoreError::Invalid {
                field: Some(field),
                message,
            })) => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                format!("filter on `{field}`: {message}"),
            )
            .field(field)
            .into_response(),
            Err(e) => error(&e),
        }
    }

    /// Field errors of a whole instance, then serde's verdict (which also fills
    /// defaults and normalizes values such as UUIDs).
    fn checked(&self, object: Map<String, Value>) -> Result<Value, DispatchError> {
        let errors = field_errors(self.ty.schema(), &object, Completeness::Whole);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        self.ty
            .check(Value::Object(object))
            .map_err(|e| invalid(vec![e]))
    }

    async fn create(&self, req: Request) -> Result<Response, Response> {
        let (parts, body) = req.into_parts();
        let mut object = read_object(&parts.headers, body, self.ctx.body_limit, Accept::Json)
            .await
            .map_err(IntoResponse::into_response)?;
        let id_field = self.id_field;
        if Shape::of(id_field) == Shape::Uuid && !object.contains_key(id_field.name) {
            object.insert(id_field.name.to_owned(), Value::String(new_uuid_v4()));
        }
        let value = self.checked(object).map_err(|e| error(&e))?;
        let (id, record) = self
            .ctx
            .dispatcher
            .insert(&self.ty, value)
            .await
            .map_err(|e| error(&e))?;
        let mut r = json_response(StatusCode::CREATED, record.value.to_string());
        let location = format!("/api/{}/{}", self.ty.name(), encode_segment(id.as_str()));
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Ok(r)
    }

    async fn get(&self, id: EntityId) -> Result<Response, Response> {
        if self.id_value(&id).is_none() {
            return Err(self.not_found(&id));
        }
        let record = self
            .ctx
            .dispatcher
            .state(self.ty.name(), &id)
            .await
            .map_err(|e| error(&e))?;
        Ok(json_response(StatusCode::OK, record.value.to_string()))
    }

    /// The id field's JSON value for path id `id`; `None` when `id` cannot be one
    /// (of the wrong type or breaking a rule: no record has it). Every route with
    /// an id answers 404 for those before a store sees them (a SQL store would
    /// refuse to compare a UUID column with `abc`).
    fn id_value(&self, id: &EntityId) -> Option<Value> {
        let field = self.id_field;
        let shape = Shape::of(field);
        let value = match shape {
            Shape::Integer { .. } => shape.parse(id.as_str()).ok()?,
            _ => Value::String(id.to_string()),
        };
        let fits =
            shape.check(&value).is_ok() && field.validate.iter().all(|r| r.check(&value).is_none());
        fits.then_some(value)
    }

    /// Refuses a body id that names another record than the path.
    fn same_id(&self, id: &EntityId, object: &Map<String, Value>) -> Result<(), DispatchError> {
        let field = self.id_field;
        match object.get(field.name) {
            Some(v) if id_text(v).as_deref() != Some(id.as_str()) => {
                Err(invalid(vec![FieldError {
                    field: field.name.to_owned(),
                    message: format!("must be the id in the path (`{id}`) or left out"),
                }]))
            }
            _ => Ok(()),
        }
    }

    async fn replace(&self, id: EntityId, req: Request) -> Result<Response, Response> {
        let (parts, body) = req.into_parts();
        let mut object = read_object(&parts.headers, body, self.ctx.body_limit, Accept::Json)
            .await
            .map_err(IntoResponse::into_response)?;
        self.same_id(&id, &object).map_err(|e| error(&e))?;
        let Some(id_value) = self.id_value(&id) else {
            return Err(self.not_found(&id));
        };
        object.insert(self.id_field.name.to_owned(), id_value);
        let value = self.checked(object).map_err(|e| error(&e))?;
        let record = self
            .ctx
            .dispatcher
            .modify(&self.ty, id, &|_| Ok(value.clone()))
            .await
            .map_err(|e| error(&e))?;
        Ok(json_response(StatusCode::OK, record.value.to_string()))
    }

    async fn patch(&self, id: EntityId, req: Request) -> Result<Response, Response> {
        let (parts, body) = req.into_parts();
        let patch = read_object(
            &parts.headers,
            body,
            self.ctx.body_limit,
            Accept::MergePatch,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        self.same_id(&id, &patch).map_err(|e| error(&e))?;
        if self.id_value(&id).is_none() {
            return Err(self.not_found(&id));
        }
        let errors = field_errors(self.ty.schema(), &patch, Completeness::Patch);
        if !errors.is_empty() {
            return Err(error(&invalid(errors)));
        }
        let patch = Value::Object(patch);
        let record = self
            .ctx
            .dispatcher
            .modify(&self.ty, id, &|current| {
                let mut value = current.clone();
                merge_patch(&mut value, &patch);
                let Value::Object(object) = value else {
                    return Err(EventError::Corrupt {
                        entity: self.ty.name().to_owned(),
                        reason: "the stored state is not a JSON object".to_owned(),
                    }
                    .into());
                };
                self.checked(object)
            })
            .await
            .map_err(|e| error(&e))?;
        Ok(json_response(StatusCode::OK, record.value.to_string()))
    }

    async fn delete(&self, id: EntityId) -> Result<Response, Response> {
        if self.id_value(&id).is_none() {
            return Err(self.not_found(&id));
        }
        self.ctx
            .dispatcher
            .remove(&self.ty, id)
            .await
            .map_err(|e| error(&e))?;
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_path() {
        let id = "a/b c%é";
        let encoded = encode_segment(id);
        assert_eq!(encoded, "a%2Fb%20c%25%C3%A9");
        assert_eq!(
            path_id(&format!("/api/x/{encoded}")),
            Some(EntityId::new(id))
        );
        assert_eq!(path_id("/api/x/%FF"), None);
        assert_eq!(path_id("/api/x/100%"), Some(EntityId::new("100%")));
    }
}
