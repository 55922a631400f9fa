//! The list endpoint's query string: `limit`, `offset`, `cursor`, `sort` and
//! filters (`field=value`, `field[op]=value`), typed by the entity's schema.

use serde_json::Value;
use starmodel_axum::rejection::BadParameter;
use starmodel_core::entity::Schema;
use starmodel_core::{Filter, FilterOp, ListQuery, Sort};

/// Items per page when the request names no `limit`.
pub(crate) const DEFAULT_LIMIT: usize = 50;

/// The largest `limit` a request may ask for.
pub(crate) const MAX_LIMIT: usize = 1000;

/// The largest `offset` (SQL's `OFFSET` is a signed 64-bit integer).
pub(crate) const MAX_OFFSET: usize = i64::MAX as usize;

/// What a `cursor` looks like (a [`Page::next`](starmodel_core::Page::next)): `o`
/// and the offset after the page, at most 18 digits so it stays below
/// [`MAX_OFFSET`].
pub(crate) const CURSOR_PATTERN: &str = "^o[0-9]{1,18}$";

/// The parameters that are not filters.
pub(crate) const RESERVED: [&str; 4] = ["limit", "offset", "cursor", "sort"];

/// The comparison suffixes a filter may carry (`age[gt]=3`), plain `age=3` being
/// equality.
pub(crate) const OPERATORS: [(&str, FilterOp); 6] = [
    ("eq", FilterOp::Eq),
    ("ne", FilterOp::Ne),
    ("lt", FilterOp::Lt),
    ("le", FilterOp::Le),
    ("gt", FilterOp::Gt),
    ("ge", FilterOp::Ge),
];

fn bad(param: &str, message: impl std::fmt::Display) -> BadParameter {
    BadParameter::query(param, message)
}

fn count(param: &str, text: &str, min: usize, max: usize) -> Result<usize, BadParameter> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n) && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            bad(
                param,
                format_args!("must be an integer from {min} to {max}"),
            )
        })
}

/// A cursor as [`CURSOR_PATTERN`] describes it, refused otherwise (the stores
/// would read a malformed one differently: memory ignores it, SQL refuses it).
fn cursor(param: &str, text: &str) -> Result<String, BadParameter> {
    let digits = text.strip_prefix('o').unwrap_or_default();
    if (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(bad(param, "is not the `next` of a page"))
    }
}

/// `name` or `name[op]`.
fn split_operator(key: &str) -> Option<(&str, FilterOp)> {
    let Some(open) = key.find('[') else {
        return Some((key, FilterOp::Eq));
    };
    let op = key[open + 1..].strip_suffix(']')?;
    let (_, op) = OPERATORS.iter().find(|(name, _)| *name == op)?;
    Some((&key[..open], *op))
}

/// The [`ListQuery`] a list request's query string asks for.
pub(crate) fn list_query(schema: &Schema, query: Option<&str>) -> Result<ListQuery, BadParameter> {
    let mut q = ListQuery {
        limit: Some(DEFAULT_LIMIT),
        ..ListQuery::default()
    };
    let mut seen = Vec::new();
    for (key, text) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        // One value per parameter, as the OpenAPI document describes them:
        // `n[gt]=1&n[gt]=3` is more likely a mistake than a wish for both.
        if seen.contains(&key) {
            return Err(bad(&key, "is given more than once"));
        }
        seen.push(key.clone());
        match key.as_ref() {
            "limit" => q.limit = Some(count(&key, &text, 1, MAX_LIMIT)?),
            "offset" => q.offset = count(&key, &text, 0, MAX_OFFSET)?,
            "cursor" => q.cursor = Some(cursor(&key, &text)?),
            "sort" => q.sort = sorts(schema, &key, &text)?,
            _ => q.filters.push(filter(schema, &key, &text)?),
        }
    }
    Ok(q)
}

/// `sort=-pinned,created_at`: by each field in turn, `-` for largest first.
fn sorts(schema: &Schema, key: &str, text: &str) -> Result<Vec<Sort>, BadParameter> {
    let mut sorts: Vec<Sort> = Vec::new();
    for part in text.split(',') {
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        match schema.field(name) {
            Some(f) if f.kind().comparable() => {}
            Some(_) => return Err(bad(key, format_args!("cannot sort by `{name}`"))),
            None if name.is_empty() => {
                return Err(bad(
                    key,
                    "names an empty field (`sort=a,-b` sorts by a, then b descending)",
                ));
            }
            None => {
                return Err(bad(
                    key,
                    format_args!("names no field of `{}`: `{name}`", schema.name),
                ));
            }
        }
        sorts.push(Sort {
            field: name.to_owned(),
            descending,
        });
    }
    Ok(sorts)
}

fn filter(schema: &Schema, key: &str, text: &str) -> Result<Filter, BadParameter> {
    let Some((name, op)) = split_operator(key) else {
        return Err(bad(
            key,
            "is not a filter (use `field` or `field[op]` with op one of eq, ne, lt, le, gt, ge)",
        ));
    };
    let Some(field) = schema.field(name) else {
        return Err(bad(
            key,
            format_args!("is not a parameter or field of `{}`", schema.name),
        ));
    };
    let kind = field.kind();
    if !kind.comparable() {
        return Err(bad(key, "filters a JSON field, which cannot be compared"));
    }
    let value = if field.nullable && text == "null" && matches!(op, FilterOp::Eq | FilterOp::Ne) {
        Value::Null
    } else {
        kind.parse(text).map_err(|m| bad(key, m))?
    };
    Ok(Filter {
        field: name.to_owned(),
        op,
        value,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use starmodel_core::entity::{Field, FieldType};

    use super::*;

    static FIELDS: [Field; 4] = [
        Field::new("id", "String", FieldType::Text).id(),
        Field::new("age", "u8", FieldType::Integer),
        Field::new("nick", "Option<String>", FieldType::Text).nullable(),
        Field::new("tags", "Vec<String>", FieldType::Json),
    ];
    static SCHEMA: Schema = Schema {
        api: true,
        ..Schema::new("person", &FIELDS)
    };

    fn parse(q: &str) -> Result<ListQuery, String> {
        list_query(&SCHEMA, Some(q)).map_err(|e| e.message)
    }

    #[test]
    fn paging_sorting_and_filters_are_typed_by_the_schema() {
        let q = parse("limit=2&offset=4&sort=-age&age[ge]=18&nick=null&id%5Bne%5D=x").unwrap();
        assert_eq!(q.limit, Some(2));
        assert_eq!(q.offset, 4);
        assert_eq!(
            q.sort,
            [Sort {
                field: "age".into(),
                descending: true
            }]
        );
        let multi = parse("sort=nick,-age").unwrap();
        let by: Vec<_> = multi
            .sort
            .iter()
            .map(|s| (s.field.as_str(), s.descending))
            .collect();
        assert_eq!(by, [("nick", false), ("age", true)]);
        assert_eq!(q.filters.len(), 3);
        assert_eq!(q.filters[0].value, json!(18));
        assert_eq!(q.filters[0].op, FilterOp::Ge);
        assert_eq!(q.filters[1].value, Value::Null);
        assert_eq!(q.filters[2].op, FilterOp::Ne);
        assert_eq!(parse("").unwrap().limit, Some(DEFAULT_LIMIT));
        assert_eq!(
            parse("cursor=o123456789012345678")
                .unwrap()
                .cursor
                .as_deref(),
            Some("o123456789012345678")
        );
        assert_eq!(
            parse("nick[lt]=null").unwrap().filters[0].value,
            json!("null")
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (q, param) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=-1", "limit"),
            ("limit=1&limit=2", "limit"),
            ("age[gt]=1&age[gt]=2", "age[gt]"),
            ("offset=x", "offset"),
            ("sort=height", "sort"),
            ("sort=tags", "sort"),
            ("age=256", "age"),
            ("age[gt]=x", "age[gt]"),
            ("age[like]=1", "age[like]"),
            ("height=1", "height"),
            ("tags=a", "tags"),
            ("cursor=", "cursor"),
            ("cursor=o", "cursor"),
            ("cursor=o+5", "cursor"),
            ("cursor=x5", "cursor"),
            ("cursor=o1234567890123456789", "cursor"),
        ] {
            let e = list_query(&SCHEMA, Some(q)).unwrap_err();
            assert_eq!(e.status(), http::StatusCode::BAD_REQUEST, "{q}");
            assert!(
                e.message.contains(&format!("`{param}`")),
                "{q}: {}",
                e.message
            );
        }
    }
}
