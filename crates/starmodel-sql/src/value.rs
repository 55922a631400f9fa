//! JSON values to column values and back, by [`ColumnKind`] and dialect.
//!
//! A row read back is exactly the object serde produced: every field present,
//! `null` for NULL, timestamps as RFC 3339 in UTC with `Z` and only the sub-second
//! digits needed (chrono's own format), JSON columns parsed.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sea_query::Value as SqlValue;
use serde_json::{Number, Value};
use starmodel_core::StoreError;

use crate::dialect::{ColumnKind, Dialect};

/// The fixed-width text SQLite keeps timestamps as, so that text order is time order.
const SQLITE_TIMESTAMP: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

fn wrong_type(field: &str, expected: &str, got: &Value) -> StoreError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    StoreError::BadQuery(format!("`{field}` must be {expected}, not {got}"))
}

/// SQL NULL typed for the column (PostgreSQL wants to know the type of a NULL).
fn null(kind: ColumnKind, dialect: Dialect) -> SqlValue {
    use ColumnKind as K;
    match (kind, dialect) {
        (K::Integer, _) => SqlValue::BigInt(None),
        (K::Float, _) => SqlValue::Double(None),
        (K::Bool, _) => SqlValue::Bool(None),
        (K::Uuid, Dialect::Postgres) => SqlValue::Uuid(None),
        (K::Timestamp, Dialect::Postgres) => SqlValue::ChronoDateTimeUtc(None),
        (K::Timestamp, Dialect::MySql) => SqlValue::ChronoDateTime(None),
        (K::Json, Dialect::Postgres | Dialect::MySql) => SqlValue::Json(None),
        _ => SqlValue::String(None),
    }
}

/// JSON `null` in a JSON column (not SQL NULL): the `null` of a field typed
/// `serde_json::Value`, whose column is `NOT NULL`. It reads back as `null`.
pub(crate) fn json_null(dialect: Dialect) -> SqlValue {
    match dialect {
        Dialect::Sqlite => SqlValue::String(Some(Box::new("null".to_owned()))),
        Dialect::Postgres | Dialect::MySql => SqlValue::Json(Some(Box::new(Value::Null))),
    }
}

/// Text PostgreSQL cannot hold: U+0000, refused in `text` and in `jsonb` strings
/// and keys alike.
const NUL: char = '\0';

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(NUL),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains(NUL) || has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

fn no_nul_on_postgres(dialect: Dialect, field: &str, value: &Value) -> Result<(), StoreError> {
    if dialect == Dialect::Postgres && has_nul(value) {
        return Err(StoreError::Invalid {
            field: Some(field.to_owned()),
            message: "cannot hold the character U+0000 on PostgreSQL".to_owned(),
        });
    }
    Ok(())
}

/// The column value for `value`, the JSON of field `field` of kind `kind`. Text
/// that is no UUID or timestamp and values of the wrong JSON type are a
/// [`StoreError::BadQuery`]; integers beyond 64 bits and, on PostgreSQL, text
/// holding U+0000 a [`StoreError::Invalid`].
pub(crate) fn to_sql(
    kind: ColumnKind,
    dialect: Dialect,
    field: &str,
    value: &Value,
) -> Result<SqlValue, StoreError> {
    use ColumnKind as K;
    if value.is_null() {
        return Ok(null(kind, dialect));
    }
    Ok(match kind {
        K::Integer => match value.as_i64() {
            Some(n) => SqlValue::BigInt(Some(n)),
            None if value.is_u64() => {
                return Err(StoreError::Invalid {
                    field: Some(field.to_owned()),
                    message: format!("must be at most {} (a BIGINT column)", i64::MAX),
                });
            }
            None => return Err(wrong_type(field, "a 64-bit integer", value)),
        },
        K::Float => match value.as_f64() {
            Some(x) => SqlValue::Double(Some(x)),
            None => return Err(wrong_type(field, "a number", value)),
        },
        K::Bool => match value.as_bool() {
            Some(b) => SqlValue::Bool(Some(b)),
            None => return Err(wrong_type(field, "a boolean", value)),
        },
        K::Text => match value {
            Value::String(s) => {
                no_nul_on_postgres(dialect, field, value)?;
                SqlValue::String(Some(Box::new(s.clone())))
            }
            _ => return Err(wrong_type(field, "text", value)),
        },
        K::Uuid => {
            let Some(uuid) = value.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()) else {
                return Err(wrong_type(field, "a UUID", value));
            };
            match dialect {
                Dialect::Postgres => SqlValue::Uuid(Some(Box::new(uuid))),
                _ => SqlValue::String(Some(Box::new(uuid.hyphenated().to_string()))),
            }
        }
        K::Timestamp => {
            let Some(at) = value.as_str().and_then(parse_timestamp) else {
                return Err(wrong_type(field, "an RFC 3339 date-time", value));
            };
            match dialect {
                Dialect::Sqlite => {
                    SqlValue::String(Some(Box::new(at.format(SQLITE_TIMESTAMP).to_string())))
                }
                Dialect::Postgres => SqlValue::ChronoDateTimeUtc(Some(Box::new(at))),
                // sqlx sends a `DateTime<Utc>` to MySQL typed TIMESTAMP, whose range
                // ends in 1970 and 2038: MariaDB stores NULL outside it. A naive UTC
                // time goes as DATETIME, the column's type, with its full range.
                Dialect::MySql => SqlValue::ChronoDateTime(Some(Box::new(at.naive_utc()))),
            }
        }
        K::Json => match dialect {
            Dialect::Postgres => {
                no_nul_on_postgres(dialect, field, value)?;
                SqlValue::Json(Some(Box::new(value.clone())))
            }
            Dialect::Sqlite => SqlValue::String(Some(Box::new(value.to_string()))),
            _ => SqlValue::Json(Some(Box::new(value.clone()))),
        },
    })
}

/// The key column value for an instance id (the id field of records is typed).
pub(crate) fn key_to_sql(
    kind: ColumnKind,
    dialect: Dialect,
    field: &str,
    id: &str,
) -> Result<SqlValue, StoreError> {
    match kind {
        ColumnKind::Integer => match id.parse::<i64>() {
            Ok(n) => Ok(SqlValue::BigInt(Some(n))),
            Err(_) => Err(StoreError::BadQuery(format!(
                "`{field}` must be a 64-bit integer, not `{id}`"
            ))),
        },
        ColumnKind::Text => {
            no_nul_on_postgres(dialect, field, &Value::String(id.to_owned()))?;
            Ok(SqlValue::String(Some(Box::new(id.to_owned()))))
        }
        kind => to_sql(kind, dialect, field, &Value::String(id.to_owned())),
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// A timestamp as JSON: RFC 3339, UTC, `Z`, the sub-second digits it needs.
pub(crate) fn timestamp_json(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A MySQL `DATETIME` (kept in UTC) as JSON.
#[cfg_attr(not(any(feature = "mysql", feature = "sqlite")), allow(dead_code))]
pub(crate) fn naive_timestamp_json(at: NaiveDateTime) -> Value {
    timestamp_json(at.and_utc())
}

/// SQLite's timestamp text as JSON.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_timestamp_json(text: &str) -> Result<Value, StoreError> {
    NaiveDateTime::parse_from_str(text, SQLITE_TIMESTAMP)
        .map(naive_timestamp_json)
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{text}`: {e}")))
}

/// A float as JSON (`null` for NaN and infinities, which JSON lacks).
pub(crate) fn float_json(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Text holding JSON, parsed.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn json_text(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("JSON column: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sqlite_timestamps_sort_as_text_and_round_trip() {
        let cases = [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.123456Z",
            "2024-05-01T10:00:00.123456789Z",
            "2024-05-01T10:00:00.5Z",
        ];
        let mut stored = Vec::new();
        for case in cases {
            let SqlValue::String(Some(text)) =
                to_sql(ColumnKind::Timestamp, Dialect::Sqlite, "at", &json!(case)).unwrap()
            else {
                panic!("sqlite timestamps are text");
            };
            stored.push(text.to_string());
        }
        let mut sorted = stored.clone();
        sorted.sort();
        assert_eq!(sorted, stored, "text order is time order");
        let back: Vec<_> = stored
            .iter()
            .map(|t| sqlite_timestamp_json(t).unwrap())
            .collect();
        assert_eq!(
            back,
            [
                json!("2024-05-01T10:00:00Z"),
                json!("2024-05-01T10:00:00.123456Z"),
                json!("2024-05-01T10:00:00.123456789Z"),
                json!("2024-05-01T10:00:00.500Z"),
            ],
            "chrono's own format: 0, 3, 6 or 9 digits"
        );
    }

    #[test]
    fn offsets_become_utc() {
        let v = to_sql(
            ColumnKind::Timestamp,
            Dialect::Postgres,
            "at",
            &json!("2024-05-01T12:00:00+02:00"),
        )
        .unwrap();
        let SqlValue::ChronoDateTimeUtc(Some(at)) = v else {
            panic!("a timestamp");
        };
        assert_eq!(timestamp_json(*at), json!("2024-05-01T10:00:00Z"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = to_sql(ColumnKind::Integer, Dialect::Sqlite, "count", &json!("x")).unwrap_err();
        assert_eq!(e.to_string(), "`count` must be a 64-bit integer, not text");
        let e = to_sql(ColumnKind::Uuid, Dialect::Postgres, "id", &json!("nope")).unwrap_err();
        assert!(matches!(e, StoreError::BadQuery(_)));
        let e = to_sql(ColumnKind::Integer, Dialect::MySql, "n", &json!(u64::MAX)).unwrap_err();
        assert_eq!(e.status().as_u16(), 422);
        assert_eq!(
            e.to_string(),
            "`n` must be at most 9223372036854775807 (a BIGINT column)"
        );
    }

    #[test]
    fn postgres_refuses_nul_by_field() {
        let nul_values = [
            (ColumnKind::Text, json!("a\0b")),
            (ColumnKind::Json, json!({"k": ["a\0b"]})),
            (ColumnKind::Json, json!({"k\0": 1})),
        ];
        for (kind, value) in nul_values {
            let e = to_sql(kind, Dialect::Postgres, "note", &value).unwrap_err();
            assert!(
                matches!(&e, StoreError::Invalid { field: Some(f), .. } if f == "note"),
                "{value}: {e:?}"
            );
            for other in [Dialect::Sqlite, Dialect::MySql] {
                assert!(to_sql(kind, other, "note", &value).is_ok(), "{other}");
            }
        }
        let e = key_to_sql(ColumnKind::Text, Dialect::Postgres, "slug", "a\0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`slug` cannot hold the character U+0000 on PostgreSQL"
        );
        assert!(to_sql(ColumnKind::Json, Dialect::Postgres, "m", &json!({"k": "a"})).is_ok());
    }
}
