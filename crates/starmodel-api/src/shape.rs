//! The JSON shape of one field, read from its schema entry: what the API accepts
//! in bodies and query strings, and what the OpenAPI document promises.

use serde_json::Value;
use starmodel_core::entity::{Field, FieldType};

/// How a date or time field is written as JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// RFC 3339 `date-time` with an offset (`chrono::DateTime`, `time::OffsetDateTime`).
    DateTime,
    /// `2024-05-01T12:00:00` without an offset (`NaiveDateTime`, `PrimitiveDateTime`).
    Local,
    /// RFC 3339 `full-date` (`NaiveDate`, `time::Date`).
    Date,
    /// RFC 3339 `partial-time` (`NaiveTime`, `time::Time`).
    Time,
}

/// What JSON values a field takes (`null` aside: that is [`Field::nullable`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// An integer within the Rust type's bounds and a signed 64-bit integer's
    /// (what every store holds).
    Integer {
        /// The smallest value.
        min: i128,
        /// The largest value.
        max: i128,
    },
    /// A finite number; `single` for `f32`.
    Float { single: bool },
    /// Text; `char` fields hold exactly one character.
    Text { char: bool },
    /// `true` or `false`.
    Bool,
    /// A hyphenated UUID.
    Uuid,
    /// A date or time as text.
    Temporal(Temporal),
    /// Anything (the field is stored as JSON).
    Json,
}

/// The Rust type's name without `Option<…>`, module path or generic arguments.
pub(crate) fn base_type(rust_type: &str) -> &str {
    let mut t = rust_type.trim();
    while let Some(inner) = t
        .strip_prefix("Option<")
        .or_else(|| t.strip_prefix("std::option::Option<"))
        .or_else(|| t.strip_prefix("core::option::Option<"))
        .and_then(|r| r.strip_suffix('>'))
    {
        t = inner.trim();
    }
    let t = t.split('<').next().unwrap_or(t);
    t.rsplit("::").next().unwrap_or(t)
}

impl Shape {
    /// The shape of `field`, from its storage type and Rust type.
    pub(crate) fn of(field: &Field) -> Self {
        let base = base_type(field.rust_type);
        match field.ty {
            FieldType::Integer => {
                let (min, max): (i128, i128) = match base {
                    "i8" => (i8::MIN.into(), i8::MAX.into()),
                    "i16" => (i16::MIN.into(), i16::MAX.into()),
                    "i32" => (i32::MIN.into(), i32::MAX.into()),
                    "u8" => (0, u8::MAX.into()),
                    "u16" => (0, u16::MAX.into()),
                    "u32" => (0, u32::MAX.into()),
                    // Every store must hold it: SQL keeps integers in a signed
                    // 64-bit `BIGINT`, so the API takes no more whatever the store.
                    "u64" | "usize" | "u128" => (0, i64::MAX.into()),
                    _ => (i64::MIN.into(), i64::MAX.into()),
                };
                Shape::Integer { min, max }
            }
            FieldType::Float => Shape::Float {
                single: base == "f32",
            },
            FieldType::Text => Shape::Text {
                char: base == "char",
            },
            FieldType::Bool => Shape::Bool,
            FieldType::Uuid => Shape::Uuid,
            FieldType::DateTime => match base {
                "NaiveDateTime" | "PrimitiveDateTime" => Shape::Temporal(Temporal::Local),
                "NaiveDate" | "Date" => Shape::Temporal(Temporal::Date),
                "NaiveTime" | "Time" => Shape::Temporal(Temporal::Time),
                // `SystemTime` serializes as seconds and nanoseconds since the epoch.
                "SystemTime" => Shape::Json,
                _ => Shape::Temporal(Temporal::DateTime),
            },
            _ => Shape::Json,
        }
    }

    /// Whether lists can filter and sort by fields of this shape.
    pub(crate) fn comparable(self) -> bool {
        self != Shape::Json
    }

    /// `Err(message)` when `value` (not `null`) does not have this shape.
    pub(crate) fn check(self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (Shape::Integer { min, max }, Value::Number(n)) => {
                let v = n
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from));
                match v {
                    Some(v) if (min..=max).contains(&v) => Ok(()),
                    _ => Err(format!("must be an integer from {min} to {max}")),
                }
            }
            (Shape::Integer { .. }, _) => Err("must be an integer".to_owned()),
            (Shape::Float { single }, Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if single && x.abs() > f64::from(f32::MAX) {
                    Err(format!(
                        "must be a number from {} to {}",
                        f32::MIN,
                        f32::MAX
                    ))
                } else {
                    Ok(())
                }
            }
            (Shape::Float { .. }, _) => Err("must be a number".to_owned()),
            (Shape::Text { char: true }, Value::String(s)) if s.chars().count() != 1 => {
                Err("must be exactly one character".to_owned())
            }
            (Shape::Text { .. }, Value::String(_)) => Ok(()),
            (Shape::Text { .. }, _) => Err("must be text".to_owned()),
            (Shape::Bool, Value::Bool(_)) => Ok(()),
            (Shape::Bool, _) => Err("must be true or false".to_owned()),
            (Shape::Uuid, Value::String(s)) if is_uuid(s) => Ok(()),
            (Shape::Uuid, _) => Err("must be a UUID (8-4-4-4-12 hexadecimal digits)".to_owned()),
            (Shape::Temporal(t), Value::String(s)) if t.parses(s) => Ok(()),
            (Shape::Temporal(t), _) => Err(format!("must be {}", t.describe())),
            (Shape::Json, _) => Ok(()),
        }
    }

    /// The JSON value a query-string `text` stands for, or why it stands for none.
    pub(crate) fn parse(self, text: &str) -> Result<Value, String> {
        let value = match self {
            Shape::Integer { .. } => {
                // Only plain decimal digits: `+1`, `1.0` or ` 1` are refused like
                // any other text that is not an integer.
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("must be an integer".to_owned());
                }
                match (text.parse::<i64>(), text.parse::<u64>()) {
                    (Ok(v), _) => Value::from(v),
                    (_, Ok(v)) => Value::from(v),
                    // Beyond 64 bits: out of any integer field's bounds.
                    _ => Value::from(f64::MAX),
                }
            }
            Shape::Float { .. } => match text.parse::<f64>() {
                Ok(x) if x.is_finite() && !text.starts_with('+') => Value::from(x),
                _ => return Err("must be a number".to_owned()),
            },
            Shape::Bool => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err("must be true or false".to_owned()),
            },
            // Stored UUIDs are lowercase: compare in the same form.
            Shape::Uuid => Value::String(text.to_ascii_lowercase()),
            Shape::Text { .. } | Shape::Temporal(_) | Shape::Json => Value::String(text.to_owned()),
        };
        self.check(&value).map(|()| value)
    }
}

impl Temporal {
    /// The JSON Schema `format` of this kind of text, if it has one.
    pub(crate) fn format(self) -> Option<&'static str> {
        match self {
            Temporal::DateTime => Some("date-time"),
            Temporal::Date => Some("date"),
            Temporal::Time => Some("time"),
            Temporal::Local => None,
        }
    }

    /// A pattern for kinds without a standard format.
    pub(crate) fn pattern(self) -> Option<&'static str> {
        match self {
            Temporal::Local => Some(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$"),
            Temporal::Time => Some(r"^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$"),
            Temporal::DateTime | Temporal::Date => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Temporal::DateTime => "an RFC 3339 date-time (2024-05-01T12:00:00Z)",
            Temporal::Local => "a date and time without offset (2024-05-01T12:00:00)",
            Temporal::Date => "a date (2024-05-01)",
            Temporal::Time => "a time (12:00:00)",
        }
    }

    fn parses(self, s: &str) -> bool {
        match self {
            Temporal::Date => full_date(s),
            Temporal::Time => partial_time(s).is_some_and(str::is_empty),
            Temporal::Local => split_date_time(s)
                .and_then(|(d, t)| full_date(d).then_some(t))
                .and_then(partial_time)
                .is_some_and(str::is_empty),
            Temporal::DateTime => {
                split_date_time(s)
                    .and_then(|(d, t)| full_date(d).then_some(t))
                    .and_then(partial_time)
                    .is_some_and(offset)
                    && within_years_in_utc(s)
            }
        }
    }
}

/// Whether a valid RFC 3339 date-time stays within the years 0000 to 9999 once
/// moved to UTC: chrono writes other years with a sign (`+10000-01-01T…`), which
/// is no RFC 3339 and which SQL stores refuse. Only the first and last day of that
/// range can leave it, by their offset.
fn within_years_in_utc(s: &str) -> bool {
    let (date, time) = (&s[..10], &s[11..]);
    let edge = match date {
        "0000-01-01" => -1,
        "9999-12-31" => 1,
        _ => return true,
    };
    let minutes = |hh: &str, mm: &str| -> i32 {
        let n = |t: &str| t.parse::<i32>().unwrap_or(0);
        n(hh) * 60 + n(mm)
    };
    let local = minutes(&time[..2], &time[3..5]);
    let offset = match time.find(['+', '-']) {
        Some(i) => {
            let hm = &time[i + 1..];
            let sign = if time[i..].starts_with('-') { -1 } else { 1 };
            sign * minutes(&hm[..2], &hm[3..5])
        }
        None => 0,
    };
    let utc = local - offset;
    if edge < 0 { utc >= 0 } else { utc < 24 * 60 }
}

/// `8-4-4-4-12` hexadecimal digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A random (version 4) UUID in its hyphenated form.
pub(crate) fn new_uuid_v4() -> String {
    let mut b = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut b) {
        // Without an OS random source no id can be safe.
        panic!("the operating system's random source failed: {e}");
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn number(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n <= max)
}

fn split_date_time(s: &str) -> Option<(&str, &str)> {
    let i = s.find(['T', 't'])?;
    Some((&s[..i], &s[i + 1..]))
}

/// `YYYY-MM-DD` naming a day that exists.
fn full_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (
        (y.len() == 4).then(|| number(y, 9999)).flatten(),
        (m.len() == 2).then(|| number(m, 12)).flatten(),
        (d.len() == 2).then(|| number(d, 31)).flatten(),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    (1..=days).contains(&day)
}

/// `HH:MM:SS(.fraction)`, returning what follows it.
fn partial_time(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    number(s.get(..2)?, 23)?;
    number(s.get(3..5)?, 59)?;
    number(s.get(6..8)?, 60)?;
    let rest = &s[8..];
    match rest.strip_prefix('.') {
        Some(frac) => {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0).then(|| &frac[digits..])
        }
        None => Some(rest),
    }
}

/// `Z` or `±HH:MM`.
fn offset(s: &str) -> bool {
    if s == "Z" || s == "z" {
        return true;
    }
    let Some(hm) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    hm.len() == 5
        && hm.as_bytes()[2] == b':'
        && number(&hm[..2], 23).is_some()
        && number(&hm[3..], 59).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use starmodel_core::entity::Field;

    use super::*;

    fn shape(rust_type: &'static str, ty: FieldType) -> Shape {
        Shape::of(&Field::new("f", rust_type, ty))
    }

    #[test]
    fn integer_bounds_come_from_the_rust_type() {
        assert_eq!(
            shape("Option<u8>", FieldType::Integer),
            Shape::Integer { min: 0, max: 255 }
        );
        let i64s = shape("i64", FieldType::Integer);
        assert!(i64s.check(&json!(i64::MIN)).is_ok());
        assert!(i64s.check(&json!(u64::MAX)).is_err());
        let u64s = shape("u64", FieldType::Integer);
        assert!(u64s.check(&json!(i64::MAX)).is_ok());
        assert!(
            u64s.check(&json!(i64::MAX as u64 + 1)).is_err(),
            "a SQL store's BIGINT cannot hold it"
        );
        assert_eq!(
            shape("Option<u128>", FieldType::Integer),
            Shape::Integer {
                min: 0,
                max: i64::MAX.into()
            }
        );
        assert!(u64s.check(&json!(-1)).is_err());
        assert!(u64s.check(&json!(1.5)).is_err());
        assert_eq!(
            shape("i8", FieldType::Integer).parse("-128"),
            Ok(json!(-128))
        );
        assert!(shape("i8", FieldType::Integer).parse("128").is_err());
        assert!(i64s.parse("+1").is_err());
        assert!(i64s.parse("1.0").is_err());
        assert!(i64s.parse("99999999999999999999").is_err());
    }

    #[test]
    fn dates_and_times_follow_rfc_3339() {
        let dt = shape("DateTime<Utc>", FieldType::DateTime);
        assert_eq!(dt, Shape::Temporal(Temporal::DateTime));
        for ok in [
            "2024-02-29T23:59:60Z",
            "0001-01-01t00:00:00.123456-23:59",
            "2024-05-01T12:00:00+02:00",
            "0000-01-01T00:00:00Z",
            "0000-01-01T01:00:00+01:00",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T22:00:00-01:59",
        ] {
            assert!(dt.check(&json!(ok)).is_ok(), "{ok}");
        }
        // In UTC these fall in the years -1 and 10000.
        for out in ["0000-01-01T00:59:00+01:00", "9999-12-31T23:00:00-01:00"] {
            assert!(dt.check(&json!(out)).is_err(), "{out}");
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-05-01 12:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-5-01T12:00:00Z",
        ] {
            assert!(dt.check(&json!(bad)).is_err(), "{bad}");
        }
        let local = shape("chrono::NaiveDateTime", FieldType::DateTime);
        assert!(local.check(&json!("2024-05-01T12:00:00.5")).is_ok());
        assert!(local.check(&json!("2024-05-01T12:00:00Z")).is_err());
        let date = shape("NaiveDate", FieldType::DateTime);
        assert!(date.check(&json!("2024-05-01")).is_ok());
        assert!(date.check(&json!("2024-04-31")).is_err());
    }

    #[test]
    fn uuids_are_hyphenated_hex() {
        let id = new_uuid_v4();
        assert!(is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]));
        assert_ne!(id, new_uuid_v4());
        assert_eq!(
            Shape::Uuid.parse("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
            Ok(json!("6f9619ff-8b86-d011-b42d-00c04fc964ff"))
        );
        assert!(
            Shape::Uuid
                .parse("6f9619ff8b86d011b42d00c04fc964ff")
                .is_err()
        );
    }

    #[test]
    fn text_bool_and_float_values() {
        let c = shape("char", FieldType::Text);
        assert!(c.check(&json!("é")).is_ok());
        assert!(c.check(&json!("ab")).is_err());
        assert!(Shape::Bool.parse("yes").is_err());
        assert_eq!(Shape::Bool.parse("false"), Ok(json!(false)));
        let f = shape("f32", FieldType::Float);
        assert!(f.check(&json!(1e300)).is_err());
        assert!(f.parse("inf").is_err());
        assert_eq!(f.parse("-2.5"), Ok(json!(-2.5)));
        assert!(Shape::Json.check(&json!({"any": [1]})).is_ok());
    }
}
