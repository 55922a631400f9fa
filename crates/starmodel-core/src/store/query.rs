//! Listing instances: filter, sort, limit and a cursor ([`ListQuery`] -> [`Page`]).
//!
//! Every store answers the same query. SQL stores turn it into a `WHERE`/`ORDER BY`
//! on indexed columns; the default [`apply`] does it in memory over
//! [`Store::list`](super::Store::list).

use std::cmp::Ordering;

use serde_json::Value;

use super::Record;
use crate::EntityId;

/// How a filter compares a field with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterOp {
    /// Equal (`null` matches a missing or null field).
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// `field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// A field of the entity's schema.
    pub field: String,
    /// The comparison.
    pub op: FilterOp,
    /// The JSON value compared with (a string, number, bool or null).
    pub value: Value,
}

/// Ordering by one field (a [`ListQuery`] sorts by each in turn; remaining ties
/// are broken by id, ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// A field of the entity's schema.
    pub field: String,
    /// Largest first.
    pub descending: bool,
}

/// Which instances to list. The default lists every instance ordered by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// All must hold.
    pub filters: Vec<Filter>,
    /// By the first, ties by the next, and so on; then by id (empty: by id).
    pub sort: Vec<Sort>,
    /// At most this many (`None`: all).
    pub limit: Option<usize>,
    /// Skip this many first (ignored when `cursor` is set).
    pub offset: usize,
    /// Continue after the page that returned this cursor ([`Page::next`]).
    pub cursor: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The instances, in order.
    pub items: Vec<(EntityId, Record)>,
    /// The cursor of the next page, when there may be one.
    pub next: Option<String>,
}

/// The cursor is the position after the page, as text: stable for a given query
/// while no instance is added or removed before it.
pub fn cursor_offset(cursor: &str) -> Option<usize> {
    cursor.strip_prefix("o").and_then(|n| n.parse().ok())
}

/// The cursor for position `offset`.
pub fn cursor_at(offset: usize) -> String {
    format!("o{offset}")
}

/// Compares two JSON scalars the way SQL would: numbers numerically, text by
/// bytes, `false < true`; `null` sorts first.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn matches(value: &Value, filter: &Filter) -> bool {
    let field = value.get(&filter.field).unwrap_or(&Value::Null);
    let ord = compare(field, &filter.value);
    match filter.op {
        FilterOp::Eq => ord == Ordering::Equal,
        FilterOp::Ne => ord != Ordering::Equal,
        FilterOp::Lt => !field.is_null() && ord == Ordering::Less,
        FilterOp::Le => !field.is_null() && ord != Ordering::Greater,
        FilterOp::Gt => !field.is_null() && ord == Ordering::Greater,
        FilterOp::Ge => !field.is_null() && ord != Ordering::Less,
    }
}

/// Answers `query` over every instance (already ordered by id), in memory.
pub fn apply(mut items: Vec<(EntityId, Record)>, query: &ListQuery) -> Page {
    items.retain(|(_, r)| query.filters.iter().all(|f| matches(&r.value, f)));
    if !query.sort.is_empty() {
        let null = Value::Null;
        items.sort_by(|(ia, a), (ib, b)| {
            query
                .sort
                .iter()
                .map(|sort| {
                    let ord = compare(
                        a.value.get(&sort.field).unwrap_or(&null),
                        b.value.get(&sort.field).unwrap_or(&null),
                    );
                    if sort.descending { ord.reverse() } else { ord }
                })
                .find(|ord| ord.is_ne())
                .unwrap_or(Ordering::Equal)
                .then_with(|| ia.cmp(ib))
        });
    }
    let start = query
        .cursor
        .as_deref()
        .and_then(cursor_offset)
        .unwrap_or(query.offset);
    let total = items.len();
    let items: Vec<_> = items
        .into_iter()
        .skip(start)
        .take(query.limit.unwrap_or(usize::MAX))
        .collect();
    let end = start.saturating_add(items.len());
    let next = (query.limit.is_some() && end < total).then(|| cursor_at(end));
    Page { items, next }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(id: &str, value: Value) -> (EntityId, Record) {
        (EntityId::new(id), Record { version: 1, value })
    }

    #[test]
    fn filters_sorts_and_pages() {
        let items = vec![
            rec("a", json!({"n": 3, "done": true})),
            rec("b", json!({"n": 1, "done": false})),
            rec("c", json!({"n": 2, "done": false})),
        ];
        let q = ListQuery {
            filters: vec![Filter {
                field: "done".into(),
                op: FilterOp::Eq,
                value: json!(false),
            }],
            ..ListQuery::default()
        };
        let ids = |p: &Page| {
            p.items
                .iter()
                .map(|(i, _)| i.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&apply(items.clone(), &q)), ["b", "c"]);
        let q = ListQuery {
            sort: vec![Sort {
                field: "n".into(),
                descending: true,
            }],
            limit: Some(2),
            ..ListQuery::default()
        };
        let first = apply(items.clone(), &q);
        assert_eq!(ids(&first), ["a", "c"]);
        let second = apply(
            items,
            &ListQuery {
                cursor: first.next.clone(),
                ..q
            },
        );
        assert_eq!(ids(&second), ["b"]);
        assert_eq!(second.next, None);
    }
}
