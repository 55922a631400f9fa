//! The OpenAPI 3.0.3 document of the JSON API, generated from the entities'
//! schemas: one path pair per entity, one schema per request and response body,
//! and every status an operation can answer with its body.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use starmodel_core::EntityType;
use starmodel_core::entity::{Field, Schema};

mod schema;

use self::schema::{Body, Usage, field_schema, object_schema};
use super::params::{CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, OPERATORS, RESERVED};

/// `todo_item` → `TodoItem`, for component names.
fn pascal(name: &str) -> String {
    name.split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// The shared error responses, by status.
const ERRORS: [(&str, &str, &str); 8] = [
    (
        "400",
        "BadRequest",
        "malformed JSON, a body that is not an object, or a bad query parameter (named in `field`)",
    ),
    (
        "403",
        "Forbidden",
        "a write a browser sent from another site (its `Origin` or `Sec-Fetch-Site` says so)",
    ),
    ("404", "NotFound", "no record with this id"),
    (
        "409",
        "Conflict",
        "a record with this id exists, or a unique value is taken",
    ),
    (
        "413",
        "PayloadTooLarge",
        "the body is larger than the application's limit",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "the body is not sent as JSON",
    ),
    (
        "422",
        "UnprocessableEntity",
        "fields missing, mistyped or breaking a validation rule, each in `fields`",
    ),
    (
        "503",
        "ServiceUnavailable",
        "the store is unavailable or full; retry later",
    ),
];

fn responses(ok: (&str, Value), errors: &[&str]) -> Value {
    let mut r = Map::new();
    r.insert(ok.0.to_owned(), ok.1);
    for (status, name, _) in ERRORS {
        if errors.contains(&status) {
            r.insert(status.to_owned(), reference("responses", name));
        }
    }
    Value::Object(r)
}

fn list_parameters(schema: &Schema) -> Vec<Value> {
    let mut params = vec![
        reference("parameters", "Limit"),
        reference("parameters", "Offset"),
        reference("parameters", "Cursor"),
    ];
    let comparable: Vec<&Field> = schema
        .fields
        .iter()
        .filter(|f| f.kind().comparable())
        .collect();
    let names: Vec<&str> = comparable.iter().map(|f| f.name).collect();
    let one = format!("-?({})", names.join("|"));
    params.push(json!({
        "name": "sort",
        "in": "query",
        "description": "order by these fields, comma-separated, each in turn; a leading `-` \
                        for largest first (remaining ties by id): `sort=-pinned,created_at`",
        "schema": { "type": "string", "pattern": format!("^{one}(,{one})*$") },
    }));
    for field in comparable {
        for (op, _) in OPERATORS {
            // Plain `field=value` is equality; `field[eq]` only where the plain
            // name is taken by a paging parameter.
            let name = match op {
                "eq" if !RESERVED.contains(&field.name) => field.name.to_owned(),
                _ => format!("{}[{op}]", field.name),
            };
            let mut value = field_schema(field, Usage::Filter);
            let nullable = field.nullable && matches!(op, "eq" | "ne");
            let description = if nullable {
                format!("`{}` {op} this value (`null`: no value)", field.name)
            } else {
                format!("`{}` {op} this value", field.name)
            };
            if nullable {
                value = json!({ "anyOf": [value, { "type": "string", "enum": ["null"] }] });
            }
            params.push(json!({
                "name": name,
                "in": "query",
                "description": description,
                "schema": value,
            }));
        }
    }
    params
}

fn paths_of(ty: &EntityType, paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let schema = ty.schema();
    let name = schema.name;
    let p = pascal(name);
    for (suffix, body) in [
        ("", Body::Response),
        ("Create", Body::Create),
        ("Replace", Body::Replace),
        ("Patch", Body::Patch),
    ] {
        schemas.insert(format!("{p}{suffix}"), object_schema(schema, body));
    }
    schemas.insert(
        format!("{p}Page"),
        json!({
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": { "type": "array", "items": reference("schemas", &p) },
                "next": {
                    "type": "string",
                    "nullable": true,
                    "description": "the `cursor` of the next page; `null` on the last",
                },
            },
        }),
    );
    let one = || json_content(reference("schemas", &p));
    let id_field = schema.id_field();
    let id_pointer = format!("$response.body#/{}", id_field.map_or("id", |f| f.name));
    let link =
        |op: &str| json!({ "operationId": format!("{op}{p}"), "parameters": { "id": id_pointer } });
    let id_schema = match id_field {
        Some(f) => field_schema(f, Usage::Path),
        None => json!({ "type": "string" }),
    };
    let body = |suffix: &str, media: &[&str]| {
        let schema = reference("schemas", &format!("{p}{suffix}"));
        let content: Map<String, Value> = media
            .iter()
            .map(|m| ((*m).to_owned(), json!({ "schema": schema })))
            .collect();
        json!({ "required": true, "content": content })
    };
    paths.insert(
        format!("/api/{name}"),
        json!({
            "get": {
                "operationId": format!("list{p}"),
                "tags": [name],
                "summary": format!("List `{name}` records"),
                "parameters": list_parameters(schema),
                "responses": responses(
                    ("200", json!({
                        "description": "one page of records",
                        "content": json_content(reference("schemas", &format!("{p}Page"))),
                    })),
                    &["400", "503"],
                ),
            },
            "post": {
                "operationId": format!("create{p}"),
                "tags": [name],
                "summary": format!("Create a `{name}` record"),
                "requestBody": body("Create", &["application/json"]),
                "responses": responses(
                    ("201", json!({
                        "description": "created; the stored record",
                        "headers": { "Location": {
                            "description": "the new record's URL",
                            "schema": { "type": "string" },
                        } },
                        "content": one(),
                        "links": {
                            format!("Get{p}"): link("get"),
                            format!("Replace{p}"): link("replace"),
                            format!("Patch{p}"): link("patch"),
                            format!("Delete{p}"): link("delete"),
                        },
                    })),
                    &["400", "403", "409", "413", "415", "422", "503"],
                ),
            },
        }),
    );
    let changed = |what: &str| json!({ "description": what, "content": one() });
    let write_errors = ["400", "403", "404", "409", "413", "415", "422", "503"];
    paths.insert(
        format!("/api/{name}/{{id}}"),
        json!({
            "parameters": [{
                "name": "id",
                "in": "path",
                "required": true,
                "description": format!("the record's `{}`", id_field.map_or("id", |f| f.name)),
                "schema": id_schema,
            }],
            "get": {
                "operationId": format!("get{p}"),
                "tags": [name],
                "summary": format!("One `{name}` record"),
                "responses": responses(("200", changed("the record")), &["404", "503"]),
            },
            "put": {
                "operationId": format!("replace{p}"),
                "tags": [name],
                "summary": format!("Replace a `{name}` record"),
                "description": "Every field but the id, which comes from the path (a body may repeat it unchanged).",
                "requestBody": body("Replace", &["application/json"]),
                "responses": responses(("200", changed("the stored record")), &write_errors),
            },
            "patch": {
                "operationId": format!("patch{p}"),
                "tags": [name],
                "summary": format!("Change fields of a `{name}` record"),
                "description": "A JSON Merge Patch (RFC 7396): the fields given replace the stored ones, `null` removes an optional field.",
                "requestBody": body("Patch", &[super::body::MERGE_PATCH, "application/json"]),
                "responses": responses(("200", changed("the stored record")), &write_errors),
            },
            "delete": {
                "operationId": format!("delete{p}"),
                "tags": [name],
                "summary": format!("Delete a `{name}` record"),
                "responses": responses(("204", json!({ "description": "deleted" })), &["403", "404", "503"]),
            },
        }),
    );
    if !schema.api_writes {
        // `#[entity(api = "events")]`: every write runs one of the entity's events.
        for (path, methods) in [
            (format!("/api/{name}"), &["post"][..]),
            (
                format!("/api/{name}/{{id}}"),
                &["put", "patch", "delete"][..],
            ),
        ] {
            if let Some(Value::Object(ops)) = paths.get_mut(&path) {
                for method in methods {
                    ops.remove(*method);
                }
            }
        }
    }
    event_paths(ty, &p, &id_schema, paths);
}

/// `POST /api/{entity}/{id}/{event}` for each update event and
/// `POST /api/{entity}/{event}` for each create event: its parameters as the
/// properties of a JSON object, typed as the event's Rust code declares them.
fn event_paths(ty: &EntityType, p: &str, id_schema: &Value, paths: &mut Map<String, Value>) {
    let name = ty.name();
    for spec in ty.events() {
        if spec.internal {
            continue;
        }
        let create = spec.kind == starmodel_core::EventKind::Create;
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (param, kind) in spec.params.iter().zip(spec.param_kinds) {
            let field = kind.field(param);
            properties.insert((*param).to_owned(), field_schema(&field, Usage::Body));
            if !kind.nullable {
                required.push(*param);
            }
        }
        let mut body = json!({ "type": "object", "properties": properties });
        if !required.is_empty() {
            body["required"] = json!(required);
        }
        let mut answers = responses(
            (
                "200",
                json!({
                    "description": "the record after the event",
                    "content": json_content(reference("schemas", p)),
                }),
            ),
            &["400", "403", "404", "409", "413", "415", "422", "503"],
        );
        answers["204"] = json!({ "description": "the event deleted the record" });
        if create {
            let mut answers = responses(
                (
                    "201",
                    json!({
                        "description": "the record the event created",
                        "content": json_content(reference("schemas", p)),
                    }),
                ),
                &["400", "403", "409", "413", "415", "422", "503"],
            );
            answers["201"]["headers"] = json!({
                "Location": { "description": "the new record's URL", "schema": { "type": "string" } }
            });
            paths.insert(
                format!("/api/{name}/{}", spec.name),
                json!({
                    "post": {
                        "operationId": format!("event{p}{}", pascal(spec.name)),
                        "tags": [name],
                        "summary": format!("Create a `{name}` record with event `{}`", spec.name),
                        "description": "The event's own logic and checks, as a page's action runs them. Its parameters are read from the body by name.",
                        "requestBody": {
                            "required": !required.is_empty(),
                            "content": json_content(body),
                        },
                        "responses": answers,
                    },
                }),
            );
            continue;
        }
        paths.insert(
            format!("/api/{name}/{{id}}/{}", spec.name),
            json!({
                "parameters": [{
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": id_schema,
                }],
                "post": {
                    "operationId": format!("event{p}{}", pascal(spec.name)),
                    "tags": [name],
                    "summary": format!("Run event `{}` on a `{name}` record", spec.name),
                    "description": "The event's own logic and checks, as a page's action runs them. Its parameters are read from the body by name; a body may be left out when the event takes none.",
                    "requestBody": {
                        "required": !required.is_empty(),
                        "content": json_content(body),
                    },
                    "responses": answers,
                },
            }),
        );
    }
}

fn components(schemas: Map<String, Value>) -> Value {
    let mut schemas = schemas;
    schemas.insert(
        "FieldError".to_owned(),
        json!({
            "type": "object",
            "required": ["field", "message"],
            "properties": {
                "field": { "type": "string" },
                "message": { "type": "string" },
            },
        }),
    );
    schemas.insert(
        "Error".to_owned(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": { "type": "integer", "minimum": 400, "maximum": 599 },
                    "message": { "type": "string" },
                    "field": {
                        "type": "string",
                        "nullable": true,
                        "description": "the (first) field or parameter at fault",
                    },
                    "fields": {
                        "type": "array",
                        "items": reference("schemas", "FieldError"),
                        "description": "every field at fault, with its own message",
                    },
                },
            } },
        }),
    );
    let responses: Map<String, Value> = ERRORS
        .iter()
        .map(|(_, name, description)| {
            (
                (*name).to_owned(),
                json!({
                    "description": description,
                    "content": json_content(reference("schemas", "Error")),
                }),
            )
        })
        .collect();
    json!({
        "schemas": schemas,
        "responses": responses,
        "parameters": {
            "Limit": {
                "name": "limit",
                "in": "query",
                "description": format!("records per page (default {DEFAULT_LIMIT})"),
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT },
            },
            "Offset": {
                "name": "offset",
                "in": "query",
                "description": "records to skip (ignored with `cursor`)",
                "schema": { "type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0 },
            },
            "Cursor": {
                "name": "cursor",
                "in": "query",
                "description": "continue after the page whose `next` this is",
                "schema": { "type": "string", "pattern": CURSOR_PATTERN },
            },
        },
    })
}

/// The OpenAPI document of the API over `types` (the entities it serves).
pub(crate) fn document(types: &[Arc<EntityType>]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for ty in types {
        paths_of(ty, &mut paths, &mut schemas);
    }
    paths.insert(
        super::OPENAPI_PATH.to_owned(),
        json!({ "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": { "200": {
                "description": "the OpenAPI document",
                "content": json_content(json!({ "type": "object" })),
            } },
        } }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "StarModel JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Records of every entity marked `#[entity(api)]`. Errors answer `{\"error\": {\"status\", \"message\", \"field\", \"fields\"}}`.",
        },
        "paths": paths,
        "components": components(schemas),
    })
}
