//! The OpenAPI 3.0.3 document of the JSON API, generated from the entities'
//! schemas: one path pair per entity, one schema per request and response body,
//! and every status an operation can answer with its body.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use starmodel_core::EntityType;
use starmodel_core::entity::{Field, FieldKind, Rule, Schema, base_type};

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

fn int(v: i128) -> Value {
    i64::try_from(v).map_or_else(
        |_| u64::try_from(v).map_or(Value::Null, Value::from),
        Value::from,
    )
}

/// A whole number as an integer, else as a float.
fn bound(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        // Exact: |x| < 2^53.
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// Where a field's schema is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usage {
    /// A body or response field: with its rules; `Option` fields may be `null`.
    Body,
    /// A merge patch field: like [`Usage::Body`], but `null` (which removes the
    /// field) only for `Option` fields.
    Patch,
    /// A filter value: the type's bounds only (filters may look outside the rules).
    Filter,
    /// The id in a path: with its rules (no record has an id breaking them),
    /// never empty.
    Path,
}

/// The JSON Schema of a field's values as used in `usage`.
fn field_schema(field: &Field, usage: Usage) -> Value {
    let with_rules = usage != Usage::Filter;
    let nullable = field.nullable && matches!(usage, Usage::Body | Usage::Patch);
    let kind = field.kind();
    let mut s = Map::new();
    let mut put = |k: &str, v: Value| {
        s.insert(k.to_owned(), v);
    };
    let (mut min, mut max) = (None::<f64>, None::<f64>);
    let (mut min_len, mut max_len) = (None::<u64>, None::<u64>);
    let mut email = false;
    if with_rules {
        for rule in field.validate {
            match *rule {
                Rule::Range { min: a, max: b } => (min, max) = (a, b),
                Rule::Length { min: a, max: b } => (min_len, max_len) = (a, b),
                Rule::Email => email = true,
                _ => {}
            }
        }
    }
    match kind {
        FieldKind::Integer { .. } => {
            let (lo, hi) = kind.integer_bounds().unwrap_or_default();
            put("type", json!("integer"));
            let fits = |a: i128, b: i128, t: (i128, i128)| a >= t.0 && b <= t.1;
            if fits(lo, hi, (i32::MIN.into(), i32::MAX.into())) {
                put("format", json!("int32"));
            } else if fits(lo, hi, (i64::MIN.into(), i64::MAX.into())) {
                put("format", json!("int64"));
            }
            // Rule bounds narrow the type's, rounded inward to whole numbers.
            let lo = min.map_or(lo, |m| lo.max(m.ceil() as i128));
            let hi = max.map_or(hi, |m| hi.min(m.floor() as i128));
            put("minimum", int(lo));
            put("maximum", int(hi));
        }
        FieldKind::Float { bits } => {
            let single = bits == 32;
            put("type", json!("number"));
            put("format", json!(if single { "float" } else { "double" }));
            let limit = if single {
                f64::from(f32::MAX)
            } else {
                f64::MAX
            };
            if let Some(m) = min {
                put("minimum", bound(m));
            } else if single {
                put("minimum", json!(-limit));
            }
            if let Some(m) = max {
                put("maximum", bound(m));
            } else if single {
                put("maximum", json!(limit));
            }
        }
        FieldKind::Text | FieldKind::Char => {
            let char = kind == FieldKind::Char;
            put("type", json!("string"));
            let floor = u64::from(char || (field.id && usage != Usage::Filter));
            let min_len = min_len.map_or(floor, |m| m.max(floor));
            if min_len > 0 {
                put("minLength", json!(min_len));
            }
            if let Some(m) = if char { Some(1) } else { max_len } {
                put("maxLength", json!(m));
            }
            if email {
                put("format", json!("email"));
            }
            // Text fields of other types (unit enums marked `#[entity(text)]`) take
            // only their variants' names, which the schema cannot list.
            if !matches!(base_type(field.rust_type), "String" | "str" | "char") {
                put(
                    "description",
                    json!(format!("text form of `{}`", field.rust_type)),
                );
            }
        }
        FieldKind::Bool => put("type", json!("boolean")),
        FieldKind::Uuid => {
            put("type", json!("string"));
            put("format", json!("uuid"));
        }
        FieldKind::Json => {
            put(
                "description",
                json!(format!("any JSON value (`{}`)", field.rust_type)),
            );
            if usage == Usage::Patch && !field.nullable {
                // `null` would remove the field, which it cannot do without.
                let types = ["object", "array", "string", "number", "boolean"];
                let any: Vec<Value> = types.iter().map(|t| json!({ "type": t })).collect();
                put("anyOf", json!(any));
            }
        }
        // Dates and times, as text.
        _ => {
            put("type", json!("string"));
            if let Some(f) = kind.text_format() {
                put("format", json!(f));
            }
            if let Some(p) = kind.text_pattern() {
                put("pattern", json!(p));
            }
        }
    }
    if nullable && kind != FieldKind::Json {
        s.insert("nullable".to_owned(), json!(true));
    }
    Value::Object(s)
}

/// Which body an object schema describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    /// What the API answers: every field, `Option` ones possibly `null`.
    Response,
    /// `POST`: every non-`Option` field (a UUID id may be left to the server).
    Create,
    /// `PUT`: like create, without the id (it is in the path).
    Replace,
    /// `PATCH`: any fields but the id.
    Patch,
}

fn object_schema(schema: &Schema, body: Body) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in schema.fields {
        if field.id && matches!(body, Body::Replace | Body::Patch) {
            continue;
        }
        properties.insert(
            field.name.to_owned(),
            field_schema(
                field,
                if body == Body::Patch {
                    Usage::Patch
                } else {
                    Usage::Body
                },
            ),
        );
        let generated = field.id && field.kind() == FieldKind::Uuid && body == Body::Create;
        if !field.nullable && body != Body::Patch && !generated {
            required.push(field.name);
        }
    }
    let mut s = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    if body != Body::Response {
        // The API refuses unknown fields rather than dropping them silently.
        s["additionalProperties"] = json!(false);
    }
    s
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
    let sorts: Vec<String> = comparable
        .iter()
        .flat_map(|f| [f.name.to_owned(), format!("-{}", f.name)])
        .collect();
    params.push(json!({
        "name": "sort",
        "in": "query",
        "description": "order by this field; a leading `-` for largest first (ties by id)",
        "schema": { "type": "string", "enum": sorts },
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

#[cfg(test)]
mod tests {
    use starmodel_core::entity::FieldType;

    use super::*;

    #[test]
    fn names_and_bounds() {
        assert_eq!(pascal("todo_item"), "TodoItem");
        assert_eq!(int(i128::from(u64::MAX)), json!(u64::MAX));
        assert_eq!(bound(2.0), json!(2));
        assert_eq!(bound(2.5), json!(2.5));
    }

    #[test]
    fn field_schemas_carry_types_bounds_and_rules() {
        let u8s = Field {
            validate: &[Rule::Range {
                min: Some(1.0),
                max: Some(300.0),
            }],
            ..Field::new("stars", "u8", FieldType::Integer)
        };
        assert_eq!(
            field_schema(&u8s, Usage::Body),
            json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 255})
        );
        assert_eq!(
            field_schema(&u8s, Usage::Filter),
            json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 255})
        );
        let u64s = Field {
            nullable: true,
            ..Field::new("n", "Option<u64>", FieldType::Integer)
        };
        assert_eq!(
            field_schema(&u64s, Usage::Body),
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "nullable": true}),
            "a SQL store's BIGINT holds no more"
        );
        let email = Field {
            validate: &[
                Rule::Email,
                Rule::Length {
                    min: None,
                    max: Some(80),
                },
            ],
            ..Field::new("email", "String", FieldType::Text)
        };
        assert_eq!(
            field_schema(&email, Usage::Body),
            json!({"type": "string", "format": "email", "maxLength": 80})
        );
        let any = Field::new("meta", "serde_json::Value", FieldType::Json);
        assert!(field_schema(&any, Usage::Body).get("type").is_none());
        assert!(field_schema(&any, Usage::Patch).get("anyOf").is_some());
        let id = Field {
            id: true,
            ..Field::new("slug", "String", FieldType::Text)
        };
        assert_eq!(field_schema(&id, Usage::Path)["minLength"], 1);
        assert!(field_schema(&id, Usage::Filter).get("minLength").is_none());
    }
}
