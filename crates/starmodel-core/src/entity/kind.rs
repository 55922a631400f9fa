//! What values a field takes, read once from its storage type and Rust type: the
//! [`FieldKind`] every store and API reads instead of parsing `rust_type` again,
//! and the checks of a field's JSON values.

use serde_json::Value;

use super::{Field, FieldType};

/// The precise kind of a field's values: the [`FieldType`] refined by the Rust type.
///
/// | Rust type | kind |
/// |---|---|
/// | `i8` … `i64`, `isize`, `u8` … `u64`, `usize` | [`Integer`](Self::Integer) with its width and sign |
/// | `f32`, `f64` | [`Float`](Self::Float) with its width |
/// | `String`, `str`, `#[entity(text)]` fields | [`Text`](Self::Text) |
/// | `char` | [`Char`](Self::Char) |
/// | `bool` | [`Bool`](Self::Bool) |
/// | `uuid::Uuid` | [`Uuid`](Self::Uuid) |
/// | `chrono::DateTime<Tz>` | [`Timestamp`](Self::Timestamp) |
/// | `time::OffsetDateTime` | [`OffsetDateTime`](Self::OffsetDateTime) |
/// | `chrono::NaiveDateTime`, `time::PrimitiveDateTime` | [`LocalDateTime`](Self::LocalDateTime) |
/// | `chrono::NaiveDate`, `time::Date` | [`Date`](Self::Date) |
/// | `chrono::NaiveTime`, `time::Time` | [`Time`](Self::Time) |
/// | `std::time::SystemTime`, anything else | [`Json`](Self::Json) |
///
/// ```
/// use starmodel_core::entity::{Field, FieldKind, FieldType};
/// let stars = Field::new("stars", "Option<u8>", FieldType::Integer);
/// assert_eq!(stars.kind(), FieldKind::Integer { bits: 8, signed: false });
/// assert_eq!(stars.kind().integer_bounds(), Some((0, 255)));
/// let at = Field::new("at", "chrono::DateTime<chrono::Utc>", FieldType::DateTime);
/// assert_eq!(at.kind(), FieldKind::Timestamp);
/// assert!(at.kind().check(&serde_json::json!("2024-05-01T12:00:00Z")).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// An integer of `bits` bits (`isize` and `usize` count as 64), signed or not.
    Integer {
        /// 8, 16, 32, 64 or 128.
        bits: u8,
        /// `false` for `u8` … `u128`.
        signed: bool,
    },
    /// A floating-point number of `bits` bits (32 or 64).
    Float {
        /// 32 for `f32`, 64 for `f64`.
        bits: u8,
    },
    /// Text.
    Text,
    /// Text of exactly one character.
    Char,
    /// `true` or `false`.
    Bool,
    /// A hyphenated UUID.
    Uuid,
    /// chrono's `DateTime<Tz>`: an instant with an offset, RFC 3339 `date-time` text
    /// in JSON (SQL stores keep it as a timestamp).
    Timestamp,
    /// `time::OffsetDateTime`: RFC 3339 `date-time` text in JSON, kept as that text
    /// by SQL stores.
    OffsetDateTime,
    /// A date and time without offset (`2024-05-01T12:00:00`).
    LocalDateTime,
    /// An RFC 3339 `full-date` (`2024-05-01`).
    Date,
    /// An RFC 3339 `partial-time` (`12:00:00`).
    Time,
    /// Any JSON value (collections, nested structs, enums with data, `SystemTime`,
    /// which serializes as seconds and nanoseconds since the epoch).
    Json,
}

/// The Rust type's name without `Option<…>` (nested or by path), module path or
/// generic arguments.
///
/// ```
/// use starmodel_core::entity::base_type;
/// assert_eq!(base_type("chrono::DateTime<chrono::Utc>"), "DateTime");
/// assert_eq!(base_type("std::option::Option<Option<u8>>"), "u8");
/// ```
pub fn base_type(rust_type: &str) -> &str {
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

impl FieldKind {
    /// The kind of a field of storage type `ty` and Rust type `rust_type`; see
    /// [`Field::kind`].
    pub fn of(ty: FieldType, rust_type: &str) -> Self {
        let base = base_type(rust_type);
        match ty {
            FieldType::Integer => {
                let (bits, signed) = match base {
                    "i8" => (8, true),
                    "i16" => (16, true),
                    "i32" => (32, true),
                    "u8" => (8, false),
                    "u16" => (16, false),
                    "u32" => (32, false),
                    "u64" | "usize" => (64, false),
                    "u128" => (128, false),
                    "i128" => (128, true),
                    _ => (64, true),
                };
                FieldKind::Integer { bits, signed }
            }
            FieldType::Float => FieldKind::Float {
                bits: if base == "f32" { 32 } else { 64 },
            },
            FieldType::Text if base == "char" => FieldKind::Char,
            FieldType::Text => FieldKind::Text,
            FieldType::Bool => FieldKind::Bool,
            FieldType::Uuid => FieldKind::Uuid,
            FieldType::DateTime => match base {
                "DateTime" => FieldKind::Timestamp,
                "NaiveDateTime" | "PrimitiveDateTime" => FieldKind::LocalDateTime,
                "NaiveDate" | "Date" => FieldKind::Date,
                "NaiveTime" | "Time" => FieldKind::Time,
                "SystemTime" => FieldKind::Json,
                _ => FieldKind::OffsetDateTime,
            },
            _ => FieldKind::Json,
        }
    }

    /// For integers, the smallest and largest value: the Rust type's bounds within
    /// a signed 64-bit integer's, which is what every store holds (SQL keeps
    /// integers in a `BIGINT`).
    pub fn integer_bounds(self) -> Option<(i128, i128)> {
        let FieldKind::Integer { bits, signed } = self else {
            return None;
        };
        let bits = u32::from(bits.min(64));
        Some(match (signed, bits) {
            (true, 64) => (i64::MIN.into(), i64::MAX.into()),
            (true, _) => (-(1 << (bits - 1)), (1 << (bits - 1)) - 1),
            (false, 64) => (0, i64::MAX.into()),
            (false, _) => (0, (1 << bits) - 1),
        })
    }

    /// Whether lists can filter and sort by fields of this kind (all but JSON).
    pub fn comparable(self) -> bool {
        self != FieldKind::Json
    }

    /// Whether the value is a date or time written as text.
    fn temporal(self) -> bool {
        matches!(
            self,
            FieldKind::Timestamp
                | FieldKind::OffsetDateTime
                | FieldKind::LocalDateTime
                | FieldKind::Date
                | FieldKind::Time
        )
    }

    /// `Err(message)` when `value` (not `null`: that is [`Field::nullable`]'s
    /// business) is not a value of this kind.
    pub fn check(self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (FieldKind::Integer { .. }, Value::Number(n)) => {
                let (min, max) = self.integer_bounds().unwrap_or_default();
                let v = n
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from));
                match v {
                    Some(v) if (min..=max).contains(&v) => Ok(()),
                    _ => Err(format!("must be an integer from {min} to {max}")),
                }
            }
            (FieldKind::Integer { .. }, _) => Err("must be an integer".to_owned()),
            (FieldKind::Float { bits }, Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if bits == 32 && x.abs() > f64::from(f32::MAX) {
                    Err(format!(
                        "must be a number from {} to {}",
                        f32::MIN,
                        f32::MAX
                    ))
                } else {
                    Ok(())
                }
            }
            (FieldKind::Float { .. }, _) => Err("must be a number".to_owned()),
            (FieldKind::Char, Value::String(s)) if s.chars().count() != 1 => {
                Err("must be exactly one character".to_owned())
            }
            (FieldKind::Text | FieldKind::Char, Value::String(_)) => Ok(()),
            (FieldKind::Text | FieldKind::Char, _) => Err("must be text".to_owned()),
            (FieldKind::Bool, Value::Bool(_)) => Ok(()),
            (FieldKind::Bool, _) => Err("must be true or false".to_owned()),
            (FieldKind::Uuid, Value::String(s)) if is_uuid(s) => Ok(()),
            (FieldKind::Uuid, _) => {
                Err("must be a UUID (8-4-4-4-12 hexadecimal digits)".to_owned())
            }
            (FieldKind::Json, _) => Ok(()),
            (_, Value::String(s)) if self.parses(s) => Ok(()),
            _ => Err(format!("must be {}", self.describe())),
        }
    }

    /// The JSON value a query-string `text` stands for, or why it stands for none.
    pub fn parse(self, text: &str) -> Result<Value, String> {
        let value = match self {
            FieldKind::Integer { .. } => {
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
            FieldKind::Float { .. } => match text.parse::<f64>() {
                Ok(x) if x.is_finite() && !text.starts_with('+') => Value::from(x),
                _ => return Err("must be a number".to_owned()),
            },
            FieldKind::Bool => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err("must be true or false".to_owned()),
            },
            // Stored UUIDs are lowercase: compare in the same form.
            FieldKind::Uuid => Value::String(text.to_ascii_lowercase()),
            _ => Value::String(text.to_owned()),
        };
        self.check(&value).map(|()| value)
    }

    /// The JSON Schema `format` of a date or time kind's text, if it has one.
    pub fn text_format(self) -> Option<&'static str> {
        match self {
            FieldKind::Timestamp | FieldKind::OffsetDateTime => Some("date-time"),
            FieldKind::Date => Some("date"),
            FieldKind::Time => Some("time"),
            _ => None,
        }
    }

    /// A pattern for the date and time kinds without a standard format.
    pub fn text_pattern(self) -> Option<&'static str> {
        match self {
            FieldKind::LocalDateTime => Some(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$"),
            FieldKind::Time => Some(r"^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$"),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FieldKind::LocalDateTime => "a date and time without offset (2024-05-01T12:00:00)",
            FieldKind::Date => "a date (2024-05-01)",
            FieldKind::Time => "a time (12:00:00)",
            _ => "an RFC 3339 date-time (2024-05-01T12:00:00Z)",
        }
    }

    /// Whether `s` is the text of a date or time of this kind.
    fn parses(self, s: &str) -> bool {
        match self {
            FieldKind::Date => full_date(s),
            FieldKind::Time => partial_time(s).is_some_and(str::is_empty),
            FieldKind::LocalDateTime => split_date_time(s)
                .and_then(|(d, t)| full_date(d).then_some(t))
                .and_then(partial_time)
                .is_some_and(str::is_empty),
            _ if self.temporal() => {
                split_date_time(s)
                    .and_then(|(d, t)| full_date(d).then_some(t))
                    .and_then(partial_time)
                    .is_some_and(offset)
                    && within_years_in_utc(s)
            }
            _ => false,
        }
    }
}

impl Field {
    /// The kind of this field's values, from [`ty`](Self::ty) and
    /// [`rust_type`](Self::rust_type); see [`FieldKind`].
    pub fn kind(&self) -> FieldKind {
        FieldKind::of(self.ty, self.rust_type)
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
///
/// ```
/// assert!(starmodel_core::entity::is_uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff"));
/// assert!(!starmodel_core::entity::is_uuid("6f9619ff8b86d011b42d00c04fc964ff"));
/// ```
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
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

    use super::*;

    fn kind(rust_type: &'static str, ty: FieldType) -> FieldKind {
        Field::new("f", rust_type, ty).kind()
    }

    #[test]
    fn base_type_strips_option_paths_and_generics() {
        for (input, expected) in [
            ("chrono::DateTime<chrono::Utc>", "DateTime"),
            ("Option<DateTime<Utc>>", "DateTime"),
            ("Option<chrono::NaiveDate>", "NaiveDate"),
            ("std::time::SystemTime", "SystemTime"),
        ] {
            assert_eq!(base_type(input), expected, "{input:?}");
        }
    }

    #[test]
    fn integer_bounds_come_from_the_rust_type() {
        assert_eq!(
            kind("Option<u8>", FieldType::Integer).integer_bounds(),
            Some((0, 255))
        );
        let i64s = kind("i64", FieldType::Integer);
        assert!(i64s.check(&json!(i64::MIN)).is_ok());
        assert!(i64s.check(&json!(u64::MAX)).is_err());
        let u64s = kind("u64", FieldType::Integer);
        assert!(u64s.check(&json!(i64::MAX)).is_ok());
        assert!(
            u64s.check(&json!(i64::MAX as u64 + 1)).is_err(),
            "a SQL store's BIGINT cannot hold it"
        );
        assert_eq!(
            kind("Option<u128>", FieldType::Integer).integer_bounds(),
            Some((0, i64::MAX.into()))
        );
        assert!(u64s.check(&json!(-1)).is_err());
        assert!(u64s.check(&json!(1.5)).is_err());
        assert_eq!(
            kind("i8", FieldType::Integer).parse("-128"),
            Ok(json!(-128))
        );
        assert!(kind("i8", FieldType::Integer).parse("128").is_err());
        assert!(i64s.parse("+1").is_err());
        assert!(i64s.parse("1.0").is_err());
        assert!(i64s.parse("99999999999999999999").is_err());
    }

    #[test]
    fn dates_and_times_follow_rfc_3339() {
        let dt = kind("DateTime<Utc>", FieldType::DateTime);
        assert_eq!(dt, FieldKind::Timestamp);
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
        let local = kind("chrono::NaiveDateTime", FieldType::DateTime);
        assert!(local.check(&json!("2024-05-01T12:00:00.5")).is_ok());
        assert!(local.check(&json!("2024-05-01T12:00:00Z")).is_err());
        let date = kind("NaiveDate", FieldType::DateTime);
        assert!(date.check(&json!("2024-05-01")).is_ok());
        assert!(date.check(&json!("2024-04-31")).is_err());
        assert_eq!(
            kind("time::OffsetDateTime", FieldType::DateTime),
            FieldKind::OffsetDateTime
        );
        assert_eq!(
            kind("std::time::SystemTime", FieldType::DateTime),
            FieldKind::Json
        );
    }

    #[test]
    fn uuids_are_hyphenated_hex() {
        assert_eq!(
            FieldKind::Uuid.parse("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
            Ok(json!("6f9619ff-8b86-d011-b42d-00c04fc964ff"))
        );
        assert!(
            FieldKind::Uuid
                .parse("6f9619ff8b86d011b42d00c04fc964ff")
                .is_err()
        );
    }

    #[test]
    fn text_bool_and_float_values() {
        let c = kind("char", FieldType::Text);
        assert!(c.check(&json!("é")).is_ok());
        assert!(c.check(&json!("ab")).is_err());
        assert!(FieldKind::Bool.parse("yes").is_err());
        assert_eq!(FieldKind::Bool.parse("false"), Ok(json!(false)));
        let f = kind("f32", FieldType::Float);
        assert!(f.check(&json!(1e300)).is_err());
        assert!(f.parse("inf").is_err());
        assert_eq!(f.parse("-2.5"), Ok(json!(-2.5)));
        assert!(FieldKind::Json.check(&json!({"any": [1]})).is_ok());
    }
}
