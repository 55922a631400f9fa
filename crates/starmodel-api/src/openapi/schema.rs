//! The JSON Schema of one field and of each request and response body, from the
//! entity's schema and its fields' kinds.

use serde_json::{Map, Value, json};
use starmodel_core::entity::{Field, FieldKind, Rule, Schema, base_type};

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
pub(super) enum Usage {
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
pub(super) fn field_schema(field: &Field, usage: Usage) -> Value {
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
pub(super) enum Body {
    /// What the API answers: every field, `Option` ones possibly `null`.
    Response,
    /// `POST`: every non-`Option` field (a UUID id may be left to the server).
    Create,
    /// `PUT`: like create, without the id (it is in the path).
    Replace,
    /// `PATCH`: any fields but the id.
    Patch,
}

pub(super) fn object_schema(schema: &Schema, body: Body) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in schema.fields {
        if field.id && matches!(body, Body::Replace | Body::Patch) {
            continue;
        }
        // `#[entity(server)]`: answered, never sent.
        if field.server && body != Body::Response {
            continue;
        }
        let mut property = field_schema(
            field,
            if body == Body::Patch {
                Usage::Patch
            } else {
                Usage::Body
            },
        );
        if field.server {
            property["readOnly"] = json!(true);
        }
        properties.insert(field.name.to_owned(), property);
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

#[cfg(test)]
mod tests {
    use starmodel_core::entity::FieldType;

    use super::super::pascal;
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
        let u8s = Field::new("stars", "u8", FieldType::Integer).validate(&[Rule::Range {
            min: Some(1.0),
            max: Some(300.0),
        }]);
        assert_eq!(
            field_schema(&u8s, Usage::Body),
            json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 255})
        );
        assert_eq!(
            field_schema(&u8s, Usage::Filter),
            json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 255})
        );
        let u64s = Field::new("n", "Option<u64>", FieldType::Integer).nullable();
        assert_eq!(
            field_schema(&u64s, Usage::Body),
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "nullable": true}),
            "a SQL store's BIGINT holds no more"
        );
        let email = Field::new("email", "String", FieldType::Text).validate(&[
            Rule::Email,
            Rule::Length {
                min: None,
                max: Some(80),
            },
        ]);
        assert_eq!(
            field_schema(&email, Usage::Body),
            json!({"type": "string", "format": "email", "maxLength": 80})
        );
        let any = Field::new("meta", "serde_json::Value", FieldType::Json);
        assert!(field_schema(&any, Usage::Body).get("type").is_none());
        assert!(field_schema(&any, Usage::Patch).get("anyOf").is_some());
        let id = Field::new("slug", "String", FieldType::Text).id();
        assert_eq!(field_schema(&id, Usage::Path)["minLength"], 1);
        assert!(field_schema(&id, Usage::Filter).get("minLength").is_none());
    }
}
