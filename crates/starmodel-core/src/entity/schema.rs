use serde::Serialize;
use serde_json::Value;

/// The shape of an entity as the derive sees it: what stores, migrations, forms and
/// APIs need to know without the Rust type at hand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schema {
    /// The entity's name (also its table name).
    pub name: &'static str,
    /// The fields in declaration order.
    pub fields: &'static [Field],
    /// `#[entity(api)]`: served as JSON under `/api/{name}`.
    pub api: bool,
    /// With `api`: raw creates, replaces, patches and deletes are served too.
    /// `#[entity(api = "events")]` turns them off, so that every write through
    /// the API runs one of the entity's events.
    pub api_writes: bool,
    /// Listed in the generated admin pages; `false` until they exist (the derive
    /// refuses `#[entity(admin)]` for now).
    pub admin: bool,
}

impl Schema {
    /// A schema named `name` with `fields`, served neither by the JSON API nor the
    /// admin (set `api` with struct update syntax):
    ///
    /// ```
    /// use starmodel_core::entity::{Field, FieldType, Schema};
    /// static FIELDS: [Field; 2] = [
    ///     Field::new("id", "String", FieldType::Text).id(),
    ///     Field::new("note", "Option<String>", FieldType::Text).nullable(),
    /// ];
    /// static NOTE: Schema = Schema::new("note", &FIELDS);
    /// assert_eq!(NOTE.id_field().map(|f| f.name), Some("id"));
    /// ```
    pub const fn new(name: &'static str, fields: &'static [Field]) -> Self {
        Self {
            name,
            fields,
            api: false,
            api_writes: false,
            admin: false,
        }
    }

    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The `#[entity(id)]` field (record entities have one).
    pub fn id_field(&self) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.id)
    }

    /// Checks `value` (the entity as a JSON object) against the declared rules.
    /// Types are checked by serde when the value becomes the Rust type; this checks
    /// what serde cannot: lengths, ranges, formats.
    ///
    /// ```
    /// use starmodel_core::entity::{Field, FieldType, Rule, Schema};
    /// static FIELDS: [Field; 1] = [Field {
    ///     validate: &[Rule::Length { min: Some(1), max: Some(5) }],
    ///     ..Field::new("title", "String", FieldType::Text)
    /// }];
    /// static SCHEMA: Schema = Schema::new("todo", &FIELDS);
    /// assert!(SCHEMA.validate(&serde_json::json!({"title": "ok"})).is_ok());
    /// let errors = SCHEMA.validate(&serde_json::json!({"title": ""})).unwrap_err();
    /// assert_eq!(errors[0].field, "title");
    /// ```
    pub fn validate(&self, value: &Value) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for field in self.fields {
            let Some(v) = value.get(field.name) else {
                continue;
            };
            for rule in field.validate {
                if let Some(message) = rule.check(v) {
                    errors.push(FieldError {
                        field: field.name.to_owned(),
                        message,
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// One field of an entity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The field's name, also its signal name and column name.
    pub name: &'static str,
    /// The Rust type as written in the struct.
    pub rust_type: &'static str,
    /// The storage type the derive inferred (or `#[entity(text)]` chose);
    /// [`Field::kind`] refines it by the Rust type.
    pub ty: FieldType,
    /// `true` for `Option<_>` fields.
    pub nullable: bool,
    /// `true` for the field marked `#[entity(id)]`.
    pub id: bool,
    /// `#[entity(unique)]`: no two instances share a value.
    pub unique: bool,
    /// `#[entity(index)]`: the store keeps an index for filtering and sorting.
    pub index: bool,
    /// `#[entity(validate(...))]` rules.
    pub validate: &'static [Rule],
    /// `#[entity(renamed_from = "old")]`: the field's previous name, so a migration
    /// renames the column instead of dropping it.
    pub renamed_from: Option<&'static str>,
    /// `#[entity(server)]`: set by the server (an id, a timestamp, an owner), never
    /// by a client: the JSON API neither requires nor accepts it, and documents it
    /// read-only.
    pub server: bool,
}

impl Field {
    /// A plain field: not id, unique or indexed, no rules.
    pub const fn new(name: &'static str, rust_type: &'static str, ty: FieldType) -> Self {
        Self {
            name,
            rust_type,
            ty,
            nullable: false,
            id: false,
            unique: false,
            index: false,
            validate: &[],
            renamed_from: None,
            server: false,
        }
    }

    /// The same field, as the `#[entity(id)]` one.
    pub const fn id(mut self) -> Self {
        self.id = true;
        self
    }

    /// The same field, allowed to be null (`Option<T>`).
    pub const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// The same field, unique among the entity's records.
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// The same field, indexed.
    pub const fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// The same field, set by the server only (`#[entity(server)]`).
    pub const fn server(mut self) -> Self {
        self.server = true;
        self
    }

    /// The same field, checked by `rules`.
    pub const fn validate(mut self, rules: &'static [Rule]) -> Self {
        self.validate = rules;
        self
    }

    /// The largest text length the rules allow, if any (SQL stores size columns by it).
    pub fn max_length(&self) -> Option<u64> {
        self.validate.iter().find_map(|r| match r {
            Rule::Length { max, .. } => *max,
            _ => None,
        })
    }
}

/// The storage type of a field, independent of any database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldType {
    /// Signed or unsigned integers up to 64 bits.
    Integer,
    /// `f32`, `f64`.
    Float,
    /// `String` and other text, and fields marked `#[entity(text)]` (unit-only enums
    /// serialized as their variant name).
    Text,
    /// `bool`.
    Bool,
    /// `uuid::Uuid`.
    Uuid,
    /// Date and time types, as RFC 3339 text in JSON.
    DateTime,
    /// Anything else, stored as JSON (collections, nested structs, enums with data).
    Json,
}

/// A validation rule from `#[entity(validate(...))]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// `length(min = 1, max = 200)`: text length in characters (or items of a list).
    Length {
        /// The fewest allowed.
        min: Option<u64>,
        /// The most allowed.
        max: Option<u64>,
    },
    /// `range(min = 0, max = 10)`: a number's bounds, inclusive.
    Range {
        /// The smallest allowed.
        min: Option<f64>,
        /// The largest allowed.
        max: Option<f64>,
    },
    /// `email`: text shaped like an e-mail address.
    Email,
}

impl Rule {
    /// `None` when `value` passes, else the message. `null` always passes (it is
    /// the absence of a value; nullability is the type's business).
    pub fn check(&self, value: &Value) -> Option<String> {
        match (self, value) {
            (_, Value::Null) => None,
            (Rule::Length { min, max }, _) => {
                let len = match value {
                    Value::String(s) => s.chars().count() as u64,
                    Value::Array(a) => a.len() as u64,
                    _ => return None,
                };
                match (min, max) {
                    (Some(min), _) if len < *min => Some(if *min == 1 {
                        "must not be empty".to_owned()
                    } else {
                        format!("must be at least {min} characters long")
                    }),
                    (_, Some(max)) if len > *max => {
                        Some(format!("must be at most {max} characters long"))
                    }
                    _ => None,
                }
            }
            (Rule::Range { min, max }, Value::Number(n)) => {
                let x = n.as_f64()?;
                match (min, max) {
                    (Some(min), _) if x < *min => Some(format!("must be at least {min}")),
                    (_, Some(max)) if x > *max => Some(format!("must be at most {max}")),
                    _ => None,
                }
            }
            (Rule::Email, Value::String(s)) => {
                let ok = s.split_once('@').is_some_and(|(user, host)| {
                    !user.is_empty()
                        && host.contains('.')
                        && !host.starts_with('.')
                        && !host.ends_with('.')
                        && !s.chars().any(char::is_whitespace)
                        && !host.contains('@')
                });
                (!ok).then(|| "must be an e-mail address".to_owned())
            }
            _ => None,
        }
    }
}

/// A field that failed validation, with a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_check_text_numbers_and_email() {
        let len = Rule::Length {
            min: Some(2),
            max: Some(3),
        };
        assert_eq!(len.check(&json!("ab")), None);
        assert_eq!(
            len.check(&json!("a")).as_deref(),
            Some("must be at least 2 characters long")
        );
        assert_eq!(
            len.check(&json!("abcd")).as_deref(),
            Some("must be at most 3 characters long")
        );
        assert_eq!(len.check(&json!("äöü")), None, "characters, not bytes");
        let range = Rule::Range {
            min: Some(0.0),
            max: Some(10.0),
        };
        assert_eq!(range.check(&json!(10)), None);
        assert_eq!(
            range.check(&json!(-1)).as_deref(),
            Some("must be at least 0")
        );
        assert_eq!(Rule::Email.check(&json!("a@b.io")), None);
        assert!(Rule::Email.check(&json!("a@b")).is_some());
        assert!(Rule::Email.check(&json!("a b@c.io")).is_some());
        assert_eq!(Rule::Email.check(&Value::Null), None);
    }
}
