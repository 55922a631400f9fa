//! Request bodies: read within the size limit, parsed as a JSON object, and
//! checked field by field against the schema so a client learns every mistake at
//! once.

use axum::body::Body;
use http::{HeaderMap, header};
use serde_json::{Map, Value};
use starmodel_axum::pipeline::read_body;
use starmodel_axum::rejection::{MalformedBody, Rejection, UnsupportedMediaType};
use starmodel_core::entity::{FieldError, FieldKind, Schema};

/// The media types a body may be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// `application/json` only.
    Json,
    /// `application/merge-patch+json` or `application/json`.
    MergePatch,
}

/// The media type of JSON Merge Patch (RFC 7396).
pub(crate) const MERGE_PATCH: &str = "application/merge-patch+json";

fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next()?.trim().to_ascii_lowercase())
}

/// Reads the body as a JSON object: 415 for another media type, 413 past
/// `limit` bytes, 400 for malformed JSON or another JSON value.
pub(crate) async fn read_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    accept: Accept,
) -> Result<Map<String, Value>, Rejection> {
    let media = media_type(headers);
    let ok = matches!(
        (accept, media.as_deref()),
        (_, Some("application/json")) | (Accept::MergePatch, Some(MERGE_PATCH))
    );
    if !ok {
        let expected = match accept {
            Accept::Json => "application/json".to_owned(),
            Accept::MergePatch => format!("{MERGE_PATCH} or application/json"),
        };
        return Err(UnsupportedMediaType {
            sent: media,
            expected,
        }
        .into());
    }
    let bytes = read_body(headers, body, limit).await?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(MalformedBody("request body must be a JSON object".into()).into()),
        Err(e) => Err(MalformedBody(format!("request body is not valid JSON: {e}")).into()),
    }
}

/// Which fields a body must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completeness {
    /// A whole instance: every non-`Option` field.
    Whole,
    /// A merge patch: any fields; `null` removes one.
    Patch,
}

/// Every field of `object` that the schema does not know, that is missing, or
/// whose value has the wrong shape, and then every broken validation rule of the
/// fields that have the right shape.
pub(crate) fn field_errors(
    schema: &Schema,
    object: &Map<String, Value>,
    completeness: Completeness,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let error = |field: &str, message: String| FieldError {
        field: field.to_owned(),
        message,
    };
    for key in object.keys() {
        if schema.field(key).is_none() {
            errors.push(error(key, format!("is not a field of `{}`", schema.name)));
        }
    }
    for field in schema.fields {
        if field.server {
            // Filled by the server (the API refuses them from clients first); the
            // hooks set them, and the write is validated after.
            continue;
        }
        let kind = field.kind();
        let problem = match object.get(field.name) {
            None if completeness == Completeness::Patch || field.nullable => None,
            None if kind == FieldKind::Json => Some("is required (any JSON value)".to_owned()),
            None => Some("is required".to_owned()),
            Some(Value::Null) if completeness == Completeness::Patch && !field.nullable => {
                Some("cannot be removed".to_owned())
            }
            Some(Value::Null) if field.nullable || kind == FieldKind::Json => None,
            Some(Value::Null) => Some("must not be null".to_owned()),
            Some(Value::String(s)) if field.id && s.is_empty() => {
                Some("must not be empty".to_owned())
            }
            Some(v) => kind.check(v).err(),
        };
        if let Some(message) = problem {
            errors.push(error(field.name, message));
        }
    }
    let wrong: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    if let Err(broken) = schema.validate(&Value::Object(object.clone())) {
        errors.extend(broken.into_iter().filter(|e| !wrong.contains(&e.field)));
    }
    errors
}

/// Applies a JSON Merge Patch (RFC 7396) to `target`.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use starmodel_core::entity::{Field, FieldType, Rule};

    use super::*;

    static FIELDS: [Field; 4] = [
        Field::new("id", "String", FieldType::Text).id(),
        Field::new("title", "String", FieldType::Text).validate(&[Rule::Length {
            min: Some(1),
            max: Some(5),
        }]),
        Field::new("stars", "u8", FieldType::Integer).validate(&[Rule::Range {
            min: Some(0.0),
            max: Some(10.0),
        }]),
        Field::new("note", "Option<String>", FieldType::Text).nullable(),
    ];
    static SCHEMA: Schema = Schema {
        api: true,
        ..Schema::new("review", &FIELDS)
    };

    fn fields(value: Value, completeness: Completeness) -> Vec<(String, String)> {
        let Value::Object(map) = value else {
            panic!("not an object")
        };
        field_errors(&SCHEMA, &map, completeness)
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn every_field_at_fault_is_named_once() {
        let errors = fields(
            json!({"id": "", "title": "", "stars": 300, "extra": 1}),
            Completeness::Whole,
        );
        let named: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(named, ["extra", "id", "stars", "title"], "{errors:?}");
        assert_eq!(errors[3].1, "must not be empty");
        assert!(errors[2].1.contains("0 to 255"), "{errors:?}");
        assert_eq!(
            fields(json!({"id": "a", "stars": 11}), Completeness::Whole),
            [
                ("title".to_owned(), "is required".to_owned()),
                ("stars".to_owned(), "must be at most 10".to_owned())
            ]
        );
        assert!(
            fields(
                json!({"id": "a", "title": "t", "stars": 1}),
                Completeness::Whole
            )
            .is_empty()
        );
    }

    #[test]
    fn patches_may_omit_fields_but_not_remove_required_ones() {
        assert!(fields(json!({"note": null}), Completeness::Patch).is_empty());
        assert_eq!(
            fields(json!({"title": null}), Completeness::Patch),
            [("title".to_owned(), "cannot be removed".to_owned())]
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut v, &json!({"a": "z", "c": {"f": null}, "n": [1]}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}, "n": [1]}));
        merge_patch(&mut v, &json!({"c": 1}));
        assert_eq!(v["c"], json!(1));
    }
}
