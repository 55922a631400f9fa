//! Rows and queries: every field type comes back as serde wrote it, and every
//! query answers what the memory store's `apply` answers for the same data.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use starmodel::prelude::*;
use starmodel_core::store::query::apply;
use starmodel_core::{
    EntityKey, FilterOp, ListQuery, Mutation, Record, Sort, Store, UpdateOutcome,
};
use support::{Backend, filter, filtered, fresh};

on_every_backend!(
    every_field_type_round_trips,
    queries_answer_like_memory_apply,
    values_that_do_not_fit_their_column_are_refused,
);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Address {
    pub city: String,
    pub zip: Option<String>,
}

#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Sample {
    #[entity(id)]
    pub id: uuid::Uuid,
    pub count: i64,
    pub ratio: f64,
    #[entity(index)]
    pub name: String,
    pub active: bool,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub tags: Vec<String>,
    pub address: Address,
    pub extra: BTreeMap<String, i64>,
    pub maybe_count: Option<i64>,
    pub maybe_at: Option<DateTime<Utc>>,
    pub maybe_id: Option<uuid::Uuid>,
    pub maybe_address: Option<Address>,
}

#[events]
impl Sample {}

fn sample(n: u128, at: &str) -> Sample {
    Sample {
        id: uuid::Uuid::from_u128(0x1234_5678_9abc_4def_8000_0000_0000_0000 + n),
        count: -(n as i64) * 1_000_000_007,
        ratio: 0.1 * n as f64 + 1.0 / 3.0,
        name: format!("ünïcødé 🦀 '\"; drop table x; -- {n}"),
        active: n % 2 == 0,
        at: at.parse().unwrap(),
        day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        tags: vec!["a".into(), format!("b{n}")],
        address: Address {
            city: "Zürich".into(),
            zip: (n % 2 == 0).then(|| "8001".into()),
        },
        extra: BTreeMap::from([("x".into(), n as i64)]),
        maybe_count: (n % 2 == 1).then_some(n as i64),
        maybe_at: (n % 2 == 1).then(|| "1999-12-31T23:59:59.5Z".parse().unwrap()),
        maybe_id: (n % 2 == 1).then(uuid::Uuid::nil),
        maybe_address: None,
    }
}

async fn every_field_type_round_trips(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    db.store.attach(Sample::schema()).unwrap();
    db.store.prepare().await.unwrap();
    let cases = [
        sample(1, "2024-05-01T10:00:00Z"),
        sample(2, "2024-05-01T10:00:00.250Z"),
        sample(3, "1970-01-01T00:00:00.000001Z"),
    ];
    for s in &cases {
        let value = serde_json::to_value(s).unwrap();
        let key = EntityKey::new("sample", s.id.to_string());
        let out = db
            .store
            .update(&key, &mut |_| Mutation::Put(value.clone()))
            .await
            .unwrap();
        assert!(matches!(
            out,
            UpdateOutcome::Written(Record { version: 1, .. })
        ));
        let loaded = db.store.load(&key).await.unwrap().unwrap();
        assert_eq!(loaded.value, value, "the object serde produced");
        let back: Sample = serde_json::from_value(loaded.value).unwrap();
        assert_eq!(&back, s);
    }
    let listed = db.store.list("sample").await.unwrap();
    let ids: Vec<_> = listed.iter().map(|(i, _)| i.to_string()).collect();
    let mut expected: Vec<_> = cases.iter().map(|s| s.id.to_string()).collect();
    expected.sort();
    assert_eq!(ids, expected, "listed by id");

    // Timestamps compare as points in time (text on SQLite, kept sortable).
    let page = db
        .store
        .query(
            "sample",
            &filtered("at", FilterOp::Gt, json!("2024-05-01T10:00:00.1Z")),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].0.as_str(), cases[1].id.to_string());
}

#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Item {
    #[entity(id)]
    pub id: String,
    #[entity(index)]
    pub n: Option<i64>,
    pub x: f64,
    pub label: String,
    pub flag: bool,
}

#[events]
impl Item {}

/// A small deterministic spread of values, with ties, NULLs and mixed case.
fn items() -> Vec<Item> {
    let labels = ["apple", "Banana", "cherry", "apple", "Äpfel", "b", ""];
    (0..23)
        .map(|i: i64| Item {
            id: format!("i{:02}", (i * 7) % 23),
            n: (i % 5 != 0).then_some((i * 37) % 11 - 5),
            x: ((i * 13) % 7) as f64 / 2.0 - 1.0,
            label: labels[(i as usize) % labels.len()].to_owned(),
            flag: i % 3 == 0,
        })
        .collect()
}

fn queries() -> Vec<ListQuery> {
    let mut out = Vec::new();
    let ops = [
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Le,
        FilterOp::Gt,
        FilterOp::Ge,
    ];
    let values = [
        ("n", json!(0)),
        ("n", json!(2.5)),
        ("n", Value::Null),
        ("x", json!(0.5)),
        ("x", json!(-1)),
        ("label", json!("apple")),
        ("label", json!("B")),
        ("flag", json!(true)),
        ("id", json!("i10")),
    ];
    for op in ops {
        for (field, value) in &values {
            out.push(filtered(field, op, value.clone()));
        }
    }
    for field in ["n", "x", "label", "flag", "id"] {
        for descending in [false, true] {
            for (limit, offset) in [
                (None, 0),
                (Some(4), 0),
                (Some(4), 8),
                (None, 20),
                (Some(3), 30),
            ] {
                out.push(ListQuery {
                    sort: vec![Sort {
                        field: field.into(),
                        descending,
                    }],
                    limit,
                    offset,
                    ..ListQuery::default()
                });
            }
        }
    }
    // Several sort fields, each in turn (nulls and ties included).
    for (first, second) in [("flag", "n"), ("label", "x"), ("x", "label")] {
        for (d1, d2) in [(false, true), (true, false)] {
            for limit in [None, Some(5)] {
                out.push(ListQuery {
                    sort: vec![
                        Sort {
                            field: first.into(),
                            descending: d1,
                        },
                        Sort {
                            field: second.into(),
                            descending: d2,
                        },
                    ],
                    limit,
                    ..ListQuery::default()
                });
            }
        }
    }
    out.push(ListQuery {
        filters: vec![
            filter("flag", FilterOp::Eq, json!(false)),
            filter("n", FilterOp::Ne, json!(1)),
        ],
        sort: vec![Sort {
            field: "label".into(),
            descending: false,
        }],
        limit: Some(5),
        cursor: Some("o5".into()),
        ..ListQuery::default()
    });
    out
}

async fn queries_answer_like_memory_apply(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    db.store.attach(Item::schema()).unwrap();
    db.store.prepare().await.unwrap();
    for item in items() {
        let key = EntityKey::new("item", item.id.clone());
        let value = serde_json::to_value(&item).unwrap();
        db.store
            .import(&key, &Record { version: 1, value })
            .await
            .unwrap();
    }
    let all = db.store.list("item").await.unwrap();
    assert_eq!(all.len(), 23);
    let queries = queries();
    for q in &queries {
        let sql = db.store.query("item", q).await.unwrap();
        assert_eq!(sql, apply(all.clone(), q), "{q:?}");
    }
    // Following the cursors visits every match once.
    let mut q = ListQuery {
        sort: vec![Sort {
            field: "x".into(),
            descending: true,
        }],
        limit: Some(4),
        ..ListQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = db.store.query("item", &q).await.unwrap();
        seen.extend(page.items.into_iter().map(|(i, _)| i));
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => break,
        }
    }
    seen.sort();
    let ids: Vec<_> = all.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(seen, ids);
}

async fn values_that_do_not_fit_their_column_are_refused(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    db.store.attach(Item::schema()).unwrap();
    db.store.prepare().await.unwrap();
    let key = EntityKey::new("item", "a");
    // Wrong types are a bad request (400); a value of the right type that the
    // column cannot hold is unprocessable (422).
    for (bad, status) in [
        (
            json!({"id": "a", "n": "seven", "x": 1.0, "label": "l", "flag": true}),
            400,
        ),
        (
            json!({"id": "a", "n": 18446744073709551615u64, "x": 1.0, "label": "l", "flag": true}),
            422,
        ),
        (json!({"id": "a", "n": 1, "x": 1.0, "label": "l"}), 400),
        (json!(["not", "an", "object"]), 400),
    ] {
        let e = db
            .store
            .update(&key, &mut |_| Mutation::Put(bad.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.status(), status, "{bad}: {e}");
    }
    assert_eq!(db.store.load(&key).await.unwrap(), None);
}
