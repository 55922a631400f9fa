//! Connecting: SQLite files are created in WAL mode, in-memory databases work, and
//! a database out of reach is `Unavailable` (503), never a panic.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use starmodel_core::entity::{Field, FieldType, Schema};
use starmodel_core::{EntityKey, Mutation, Store, StoreError};
use starmodel_sql::{Dialect, SqlPool, SqlStore};

static FIELDS: [Field; 1] = [Field::new("count", "i64", FieldType::Integer)];
static COUNTER: Schema = Schema::new("counter", &FIELDS);

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let store = SqlStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    assert_eq!(store.dialect(), Dialect::Sqlite);
    let SqlPool::Sqlite(pools) = store.pool() else {
        panic!("a SQLite pool");
    };
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pools.writer)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&pools.writer)
        .await
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
    store.close().await;
}

#[tokio::test]
async fn in_memory_sqlite_keeps_state_across_calls() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.attach(&COUNTER).unwrap();
    store.prepare().await.unwrap();
    assert_eq!(store.schemas(), [&COUNTER]);
    let key = EntityKey::new("counter", "global");
    for _ in 0..3 {
        store
            .update(&key, &mut |current| {
                let n = current.map_or(0, |r| r.value["count"].as_i64().unwrap());
                Mutation::Put(json!({ "count": n + 1 }))
            })
            .await
            .unwrap();
    }
    let record = store.load(&key).await.unwrap().unwrap();
    assert_eq!((record.version, record.value), (3, json!({"count": 3})));
}

#[tokio::test]
async fn unreachable_or_unknown_databases_are_unavailable() {
    for url in [
        "postgres://postgres@127.0.0.1:1/nothing",
        "mysql://root@127.0.0.1:1/nothing",
        "redis://127.0.0.1/0",
        "sqlite:///nonexistent-dir/deeper/x.db",
    ] {
        let e = SqlStore::connect(url).await.unwrap_err();
        assert!(matches!(e, StoreError::Unavailable(_)), "{url}: {e:?}");
        assert_eq!(e.status(), 503);
    }
}

#[tokio::test]
async fn entities_not_attached_are_refused() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    let e = store
        .load(&EntityKey::new("stranger", "1"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "store unavailable: entity `stranger` is not attached to this SQL store"
    );
}
