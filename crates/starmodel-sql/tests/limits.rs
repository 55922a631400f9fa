//! Values at the edge of what a backend holds: each is kept exactly, or refused as
//! [`StoreError::Invalid`] (422) naming the field and nothing is written — never a
//! 5xx. Found by `scripts/api-fuzz` and pinned down per backend here.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use serde_json::{Value, json};
use starmodel::prelude::*;
use starmodel_core::{DispatchError, EntityKey, FilterOp, Mutation, Store, StoreError};
use support::{Backend, TestDb, dispatcher, entity, filtered, fresh};

on_every_backend!(
    nul_is_kept_or_refused_naming_the_field,
    text_longer_than_its_mysql_column_is_refused_naming_the_field,
    ids_and_unique_values_differing_in_trailing_space_are_distinct,
    json_null_in_a_non_null_json_field_is_kept,
    integers_beyond_bigint_are_refused_naming_the_field,
    json_nested_beyond_mariadb_depth_is_refused_naming_the_field,
    timestamps_at_the_ends_of_rfc_3339_are_kept,
);

#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Note {
    #[entity(id)]
    pub id: String,
    /// Unique text: a `VARCHAR(255)` on MySQL.
    #[entity(unique)]
    pub handle: String,
    /// Unbounded text: `TEXT` (65,535 bytes) on MySQL.
    pub body: String,
    pub count: u64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub meta: Value,
}

#[events]
impl Note {}

fn note(id: &str) -> Value {
    json!({
        "id": id,
        "handle": format!("h-{id}"),
        "body": "text",
        "count": 1,
        "at": "2024-05-01T10:00:00Z",
        "meta": {"k": [1, "two"]},
    })
}

/// `note(id)` with `field` set to `value`.
fn note_with(id: &str, field: &str, value: Value) -> Value {
    let mut n = note(id);
    n[field] = value;
    n
}

async fn notes(backend: Backend) -> Option<TestDb> {
    let db = fresh(backend).await?;
    db.store.attach(Note::schema()).unwrap();
    db.store.prepare().await.unwrap();
    Some(db)
}

/// Writes `value` as record `id`.
async fn put(db: &TestDb, id: &str, value: &Value) -> Result<(), StoreError> {
    let key = EntityKey::new("note", id);
    db.store
        .update(&key, &mut |_| Mutation::Put(value.clone()))
        .await
        .map(drop)
}

async fn load(db: &TestDb, id: &str) -> Option<Value> {
    let key = EntityKey::new("note", id);
    db.store.load(&key).await.unwrap().map(|r| r.value)
}

/// `value` written as `id` reads back unchanged.
async fn kept(db: &TestDb, id: &str, value: &Value) {
    put(db, id, value).await.unwrap();
    assert_eq!(load(db, id).await.as_ref(), Some(value), "{id}");
}

/// `value` written as `id` is refused: 422, naming `field`, nothing stored.
async fn refused(db: &TestDb, id: &str, value: &Value, field: &str) -> String {
    let e = put(db, id, value).await.unwrap_err();
    assert_eq!(e.status().as_u16(), 422, "{id}: {e}");
    assert!(
        matches!(&e, StoreError::Invalid { field: Some(f), .. } if f == field),
        "{id}: {e:?}"
    );
    assert!(e.to_string().starts_with(&format!("`{field}` ")), "{e}");
    assert_eq!(load(db, id).await, None, "{id}: nothing is written");
    e.to_string()
}

async fn nul_is_kept_or_refused_naming_the_field(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    let cases = [
        ("text", note_with("text", "body", json!("a\0b")), "body"),
        (
            "string-in-json",
            note_with("string-in-json", "meta", json!({"k": ["a\0b"]})),
            "meta",
        ),
        (
            "key-in-json",
            note_with("key-in-json", "meta", json!({"k\0": 1})),
            "meta",
        ),
        ("id\0", note("id\0"), "id"),
    ];
    for (id, value, field) in cases {
        if backend == Backend::Postgres {
            let message = refused(&db, id, &value, field).await;
            assert!(message.contains("U+0000"), "{message}");
        } else {
            kept(&db, id, &value).await;
        }
    }
    // An id PostgreSQL cannot hold names no record: reads find none, a delete
    // deletes nothing, only writing it fails.
    let key = EntityKey::new("note", "id\0");
    assert_eq!(
        db.store.load(&key).await.unwrap().map(|_| ()).is_some(),
        backend != Backend::Postgres
    );
    db.store
        .update(&key, &mut |_| Mutation::Delete)
        .await
        .unwrap();
    assert_eq!(db.store.load(&key).await.unwrap(), None);
    // A filter on a NUL value is refused the same way on PostgreSQL.
    let q = filtered("body", FilterOp::Eq, json!("a\0b"));
    match db.store.query("note", &q).await {
        Ok(page) if backend != Backend::Postgres => assert_eq!(page.items.len(), 1),
        Err(e) if backend == Backend::Postgres => assert_eq!(e.status().as_u16(), 422, "{e}"),
        other => panic!("{backend:?}: {other:?}"),
    }
}

async fn text_longer_than_its_mysql_column_is_refused_naming_the_field(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    let long_body = note_with("long-body", "body", json!("x".repeat(70_000)));
    let long_handle = note_with("long-handle", "handle", json!("h".repeat(300)));
    // 65,532 bytes of 4-byte characters: fits `TEXT`.
    let wide_body = note_with("wide-body", "body", json!("🦀".repeat(16_383)));
    if backend == Backend::MySql {
        let message = refused(&db, "long-body", &long_body, "body").await;
        assert!(message.contains("too long"), "{message}");
        refused(&db, "long-handle", &long_handle, "handle").await;
    } else {
        kept(&db, "long-body", &long_body).await;
        kept(&db, "long-handle", &long_handle).await;
    }
    kept(&db, "wide-body", &wide_body).await;
}

/// MariaDB's `utf8mb4_bin` pads with spaces when comparing: `pad` and `pad ` were
/// one key. Its tables are now `utf8mb4_nopad_bin`.
async fn ids_and_unique_values_differing_in_trailing_space_are_distinct(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    let pad = note_with("pad", "handle", json!("same"));
    let padded = note_with("pad ", "handle", json!("same "));
    put(&db, "pad", &pad).await.unwrap();
    put(&db, "pad ", &padded)
        .await
        .expect("another id, another unique value");
    assert_eq!(load(&db, "pad").await, Some(pad.clone()));
    assert_eq!(load(&db, "pad ").await, Some(padded.clone()));
    assert_eq!(load(&db, "pad  ").await, None);
    let q = filtered("handle", FilterOp::Eq, json!("same"));
    let page = db.store.query("note", &q).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["pad"]);
}

async fn json_null_in_a_non_null_json_field_is_kept(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    kept(
        &db,
        "null-meta",
        &note_with("null-meta", "meta", Value::Null),
    )
    .await;
    // A missing non-null field is still refused.
    let mut missing = note("no-body");
    missing.as_object_mut().unwrap().remove("body");
    assert_eq!(
        put(&db, "no-body", &missing).await.unwrap_err().status(),
        400
    );
}

async fn integers_beyond_bigint_are_refused_naming_the_field(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Note>(&db).await]);
    let ty = d.registry().get("note").unwrap().clone();
    let max = note_with("max", "count", json!(i64::MAX));
    d.insert(&ty, max.clone()).await.unwrap();
    let huge = note_with("huge", "count", json!(i64::MAX as u64 + 1));
    let e = d.insert(&ty, huge).await.unwrap_err();
    assert!(
        matches!(&e, DispatchError::Store(StoreError::Invalid { .. })),
        "{e:?}"
    );
    // What the HTTP error carries: 422 and the field, as for a broken rule.
    assert_eq!(e.status().as_u16(), 422);
    assert_eq!(e.field(), Some("count"));
    let fields = e.field_errors();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, "count");
    assert_eq!(
        fields[0].message,
        "must be at most 9223372036854775807 (a BIGINT column)"
    );
    let all = db.store.list("note").await.unwrap();
    assert_eq!(all.len(), 1, "only `max` is stored");
}

async fn json_nested_beyond_mariadb_depth_is_refused_naming_the_field(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    let nested = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!([inner]));
    kept(&db, "depth-30", &note_with("depth-30", "meta", nested(30))).await;
    let deep = note_with("depth-40", "meta", nested(40));
    if backend == Backend::MySql {
        refused(&db, "depth-40", &deep, "meta").await;
    } else {
        kept(&db, "depth-40", &deep).await;
    }
}

async fn timestamps_at_the_ends_of_rfc_3339_are_kept(backend: Backend) {
    let Some(db) = notes(backend).await else {
        return;
    };
    for (id, at) in [
        ("first", "0000-01-01T00:00:00Z"),
        ("year-one", "0001-01-01T00:00:00Z"),
        ("last", "9999-12-31T23:59:59.999999Z"),
    ] {
        kept(&db, id, &note_with(id, "at", json!(at))).await;
    }
}
