//! The JSON API: CRUD over HTTP for every record entity marked `#[entity(api)]`,
//! and its OpenAPI document.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/{entity}` | one page: `limit`, `offset`, `cursor`, `sort`, filters (`field=value`, `field[gt]=value`, …) |
//! | `POST /api/{entity}` | create (201, `Location`); 409 when the id exists |
//! | `GET /api/{entity}/{id}` | one record |
//! | `PUT /api/{entity}/{id}` | replace every field |
//! | `PATCH /api/{entity}/{id}` | JSON Merge Patch (RFC 7396) |
//! | `DELETE /api/{entity}/{id}` | delete (204) |
//! | `POST /api/{entity}/{id}/{event}` | run an update event: its parameters as a JSON object, the record after it in the answer (204 when it deleted it) |
//! | `GET /api/openapi.json` | the OpenAPI 3.0.3 document |
//!
//! Writes go through the [`Dispatcher`](starmodel_core::Dispatcher) like events
//! do: validated, atomic per record, and published to live pages. Bodies must be
//! sent as JSON, which a cross-site form cannot do without a CORS preflight; the
//! request pipeline refuses browsers' cross-site writes and runs every write to
//! completion.
//!
//! Mount it on an application:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = starmodel_axum::StarModel::new()
//!     // .entity::<Todo>() for `#[entity(scope = "record", api)]` entities
//!     .mount(starmodel_api::JsonApi)
//!     .build()
//!     .unwrap();
//! # let _ = app.router();
//! # }
//! ```
//!
//! It depends on the adapter's public seams only: the [`App`] handle, the
//! [`Mount`] trait, the pipeline's body reader and the typed rejections.

mod body;
mod events;
mod openapi;
mod params;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use starmodel_axum::pipeline::Policy;
use starmodel_axum::rejection::{BadParameter, NotFound, Rejection};
use starmodel_axum::routes::only;
use starmodel_axum::{App, ErrorResponse, Mount};
use starmodel_core::entity::{Field, FieldError, FieldKind};
use starmodel_core::event::percent_encode_into;
use starmodel_core::{DispatchError, EntityId, EntityType, EventError, Scope, StoreError};

use self::body::{Accept, Completeness, field_errors, merge_patch, read_object};
use starmodel_core::entity::new_uuid_v4;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// The JSON API as a [`Mount`]: `.mount(JsonApi)` serves every registered record
/// entity marked `#[entity(api)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonApi;

impl Mount for JsonApi {
    fn routes(&self, app: &App) -> Router {
        routes(app)
    }

    fn policy(&self) -> Policy {
        Policy::writes(
            "API write",
            "send it from a same-origin page or without browser headers",
        )
    }

    fn serves(&self, capability: &str) -> bool {
        capability == "api"
    }
}

/// One entity's API: the application, the resolved type and its id field.
struct EntityApi {
    app: App,
    ty: Arc<EntityType>,
    id_field: &'static Field,
}

/// Whether `ty` is served by the API (record entities always have an id field).
fn served(ty: &EntityType) -> bool {
    ty.schema().api && ty.scope() == Scope::Record && ty.schema().id_field().is_some()
}

const READ: MethodFilter = MethodFilter::GET.or(MethodFilter::HEAD);

/// The API's routes for the entities of `app`; none when no entity asks for them.
fn routes(app: &App) -> Router {
    let types: Vec<Arc<EntityType>> = app
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
        only(READ, "GET, HEAD", "this path".into(), move || {
            let document = document.clone();
            async move { json_response(StatusCode::OK, document) }
        }),
    );
    for ty in types {
        let name = ty.name();
        let Some(id_field) = ty.schema().id_field() else {
            continue;
        };
        let api = Arc::new(EntityApi {
            app: app.clone(),
            ty,
            id_field,
        });
        let item = api.clone();
        // `#[entity(api = "events")]`: reads here, every write through an event.
        let writes = api.ty.schema().api_writes;
        let (collection_methods, collection_allow) = if writes {
            (READ.or(MethodFilter::POST), "GET, HEAD, POST")
        } else {
            (READ, "GET, HEAD")
        };
        let (record_methods, record_allow) = if writes {
            (
                READ.or(MethodFilter::PUT)
                    .or(MethodFilter::PATCH)
                    .or(MethodFilter::DELETE),
                "GET, HEAD, PUT, PATCH, DELETE",
            )
        } else {
            (READ, "GET, HEAD")
        };
        let create_allow = if writes {
            "POST, GET, HEAD, PUT, PATCH, DELETE"
        } else {
            "POST, GET, HEAD"
        };
        router = events::routes(router, &api, record_methods, create_allow);
        router = router
            .route(
                &format!("/api/{name}"),
                only(
                    collection_methods,
                    collection_allow,
                    "this path".into(),
                    move |req: Request| collection(api.clone(), req),
                ),
            )
            .route(
                &format!("/api/{name}/{{id}}"),
                only(
                    record_methods,
                    record_allow,
                    "this path".into(),
                    move |req: Request| record(item.clone(), req),
                ),
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

fn error(e: &DispatchError) -> Response {
    ErrorResponse::from_dispatch(e).into_response()
}

fn invalid(errors: Vec<FieldError>) -> DispatchError {
    EventError::Invalid(errors).into()
}

/// `/api/{entity}`: list and create.
async fn collection(api: Arc<EntityApi>, req: Request) -> Response {
    if req.method().is_safe() {
        api.list(req).await
    } else {
        api.create(req).await.unwrap_or_else(|e| e)
    }
}

/// `/api/{entity}/{id}`: read, replace, patch, delete.
pub(crate) async fn record(api: Arc<EntityApi>, req: Request) -> Response {
    let Some(raw) = path_id(req.uri().path()) else {
        return Rejection::from(NotFound("the id in the path is not UTF-8".into())).into_response();
    };
    // The form every store keys records by (`6F96…` and `6f96…` are one UUID).
    let Some(id) = api.ty.canonical_id(raw.as_str()) else {
        return api.not_found(&raw);
    };
    let result = match *req.method() {
        http::Method::PUT => api.replace(id, req).await,
        http::Method::PATCH => api.patch(id, req).await,
        http::Method::DELETE => api.delete(id).await,
        _ => api.get(id).await,
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
    percent_encode_into(id, b"", &mut out);
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
        match self.app.dispatcher().query(&self.ty, &query).await {
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
            })) => Rejection::from(BadParameter {
                message: format!("filter on `{field}`: {message}"),
                field: Some(field),
            })
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

    /// Refuses a body that sets an `#[entity(server)]` field.
    fn no_server_fields(&self, object: &Map<String, Value>) -> Result<(), DispatchError> {
        let errors: Vec<FieldError> = self
            .ty
            .schema()
            .fields
            .iter()
            .filter(|f| f.server && object.contains_key(f.name))
            .map(|f| FieldError {
                field: f.name.to_owned(),
                message: "is set by the server: leave it out".to_owned(),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(errors))
        }
    }

    async fn create(&self, req: Request) -> Result<Response, Response> {
        let (parts, body) = req.into_parts();
        let mut object = read_object(&parts.headers, body, self.app.body_limit(), Accept::Json)
            .await
            .map_err(IntoResponse::into_response)?;
        self.no_server_fields(&object).map_err(|e| error(&e))?;
        let id_field = self.id_field;
        if id_field.kind() == FieldKind::Uuid && !object.contains_key(id_field.name) {
            object.insert(id_field.name.to_owned(), Value::String(new_uuid_v4()));
        }
        // The entity's `on_create` hook sets the real values.
        for (name, value) in self.ty.server_defaults() {
            object.entry(name.clone()).or_insert_with(|| value.clone());
        }
        let value = self.checked(object).map_err(|e| error(&e))?;
        let (id, record) = self
            .app
            .dispatcher()
            .insert(&self.ty, value)
            .await
            .map_err(|e| error(&e))?;
        Ok(self.created(&id, &record))
    }

    /// 201 with the new record and its `Location`.
    fn created(&self, id: &EntityId, record: &starmodel_core::Record) -> Response {
        let mut r = json_response(StatusCode::CREATED, record.value.to_string());
        let location = format!(
            "{}/api/{}/{}",
            starmodel_core::event::url_prefix(),
            self.ty.name(),
            encode_segment(id.as_str())
        );
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    }

    async fn get(&self, id: EntityId) -> Result<Response, Response> {
        if self.id_value(&id).is_none() {
            return Err(self.not_found(&id));
        }
        let record = self
            .app
            .dispatcher()
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
        let kind = field.kind();
        let value = match kind {
            FieldKind::Integer { .. } => kind.parse(id.as_str()).ok()?,
            _ => Value::String(id.to_string()),
        };
        let fits =
            kind.check(&value).is_ok() && field.validate.iter().all(|r| r.check(&value).is_none());
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
        let mut object = read_object(&parts.headers, body, self.app.body_limit(), Accept::Json)
            .await
            .map_err(IntoResponse::into_response)?;
        self.same_id(&id, &object).map_err(|e| error(&e))?;
        self.no_server_fields(&object).map_err(|e| error(&e))?;
        let Some(id_value) = self.id_value(&id) else {
            return Err(self.not_found(&id));
        };
        object.insert(self.id_field.name.to_owned(), id_value);
        let server: Vec<&str> = self
            .ty
            .schema()
            .fields
            .iter()
            .filter(|f| f.server && !f.id)
            .map(|f| f.name)
            .collect();
        if server.is_empty() {
            // Checked once, before the row is locked.
            self.checked(object.clone()).map_err(|e| error(&e))?;
        }
        let record = self
            .app
            .dispatcher()
            .modify(&self.ty, id, &|current| {
                // A replace keeps what the server set.
                let mut object = object.clone();
                for name in &server {
                    if let Some(v) = current.get(*name) {
                        object.insert((*name).to_owned(), v.clone());
                    }
                }
                self.checked(object)
            })
            .await
            .map_err(|e| error(&e))?;
        Ok(json_response(StatusCode::OK, record.value.to_string()))
    }

    async fn patch(&self, id: EntityId, req: Request) -> Result<Response, Response> {
        let (parts, body) = req.into_parts();
        let patch = read_object(
            &parts.headers,
            body,
            self.app.body_limit(),
            Accept::MergePatch,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        self.same_id(&id, &patch).map_err(|e| error(&e))?;
        self.no_server_fields(&patch).map_err(|e| error(&e))?;
        if self.id_value(&id).is_none() {
            return Err(self.not_found(&id));
        }
        let errors = field_errors(self.ty.schema(), &patch, Completeness::Patch);
        if !errors.is_empty() {
            return Err(error(&invalid(errors)));
        }
        let patch = Value::Object(patch);
        let record = self
            .app
            .dispatcher()
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
        self.app
            .dispatcher()
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
