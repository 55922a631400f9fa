use std::time::Duration;

use serde_json::json;

use super::*;

fn key(id: &str) -> EntityKey {
    EntityKey::new("counter", id)
}

async fn increment(store: &MemoryStore, k: &EntityKey) -> UpdateOutcome {
    store
        .update(k, &mut |current| {
            let count = current.map_or(0, |r| r.value["count"].as_i64().unwrap_or(0));
            Mutation::Put(json!({ "count": count + 1 }))
        })
        .await
        .expect("update")
}

/// Units of work over the same two instances, named in opposite orders, neither
/// deadlock nor lose an update: the store locks in key order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_of_work_over_shared_instances_lose_nothing() {
    let store = MemoryStore::new();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let keys = if t % 2 == 0 {
                    [key("a"), key("b")]
                } else {
                    [key("b"), key("a")]
                };
                for _ in 0..500 {
                    store
                        .update_many(&keys, &mut |current| {
                            current
                                .iter()
                                .map(|r| {
                                    let n = r.map_or(0, |r| r.value["count"].as_i64().unwrap_or(0));
                                    Mutation::Put(json!({ "count": n + 1 }))
                                })
                                .collect()
                        })
                        .await
                        .expect("unit of work");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    for k in ["a", "b"] {
        let record = store.load(&key(k)).await.unwrap().expect("record");
        assert_eq!(record.value["count"], 4_000, "{k}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_on_one_instance_lose_nothing() {
    let store = MemoryStore::new();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..1000 {
                    increment(&store, &key("global")).await;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let record = store.load(&key("global")).await.unwrap().expect("record");
    assert_eq!(record.value["count"], 16_000);
    assert_eq!(record.version, 16_000);
}

#[tokio::test]
async fn keep_and_delete() {
    let store = MemoryStore::new();
    let k = key("a");
    assert_eq!(
        store.update(&k, &mut |_| Mutation::Keep).await.unwrap(),
        UpdateOutcome::Unchanged(None)
    );
    increment(&store, &k).await;
    assert_eq!(
        store.update(&k, &mut |_| Mutation::Delete).await.unwrap(),
        UpdateOutcome::Deleted
    );
    assert_eq!(store.load(&k).await.unwrap(), None);
    assert!(store.is_empty(), "a delete leaves no slot");
    let UpdateOutcome::Written(again) = increment(&store, &k).await else {
        panic!("expected a write");
    };
    assert_eq!(again.version, 2, "versions never go back");
}

#[tokio::test]
async fn failed_first_writes_leave_no_slot() {
    let store = MemoryStore::new();
    for i in 0..100 {
        store
            .update(&key(&i.to_string()), &mut |_| Mutation::Keep)
            .await
            .unwrap();
    }
    assert!(store.is_empty());
}

#[tokio::test]
async fn idle_instances_expire() {
    // A TTL long enough that a loaded machine cannot expire the instance between
    // the write and the first read.
    let store = MemoryStore::builder()
        .ttl(Duration::from_millis(500))
        .build()
        .unwrap();
    increment(&store, &key("a")).await;
    assert!(store.load(&key("a")).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(store.load(&key("a")).await.unwrap(), None);
    // A write after expiry starts from scratch, at a version above the old one so
    // viewers holding the old state take the new one.
    let UpdateOutcome::Written(r) = increment(&store, &key("a")).await else {
        panic!("expected a write");
    };
    assert_eq!(r.version, 2);
    assert_eq!(r.value["count"], 1);
}

#[tokio::test]
async fn capacity_evicts_least_recently_used() {
    let store = MemoryStore::builder().capacity(32).build().unwrap();
    for i in 0..32 {
        increment(&store, &key(&i.to_string())).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Touch the oldest so it is no longer the least recently used.
    store.load(&key("0")).await.unwrap();
    increment(&store, &key("new")).await;
    assert!(store.len() <= 32);
    assert!(store.load(&key("0")).await.unwrap().is_some());
    assert!(store.load(&key("1")).await.unwrap().is_none());
    assert!(store.load(&key("new")).await.unwrap().is_some());
}

#[tokio::test]
async fn snapshot_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("snapshot.json");
    {
        let store = MemoryStore::builder().snapshot(&path).build().unwrap();
        for _ in 0..3 {
            increment(&store, &key("global")).await;
        }
        increment(&store, &EntityKey::new("other", "s1")).await;
        store.flush().await.unwrap();
    }
    let store = MemoryStore::builder().snapshot(&path).build().unwrap();
    let record = store.load(&key("global")).await.unwrap().expect("restored");
    assert_eq!(
        (record.version, record.value["count"].as_i64()),
        (3, Some(3))
    );
    assert_eq!(store.list("other").await.unwrap().len(), 1);
}

#[tokio::test]
async fn snapshot_is_written_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    let store = MemoryStore::builder()
        .snapshot(&path)
        .snapshot_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    increment(&store, &key("global")).await;
    // Up to 30 s: the write includes an fsync, which a busy disk can delay.
    let mut waited = 0;
    while !path.exists() && waited < 3000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert!(path.exists(), "no snapshot written within 30 s");
    let restored = MemoryStore::builder().snapshot(&path).build().unwrap();
    assert!(restored.load(&key("global")).await.unwrap().is_some());
}

#[test]
fn a_corrupt_snapshot_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, b"{not json").unwrap();
    let err = MemoryStore::builder().snapshot(&path).build().unwrap_err();
    assert!(err.to_string().contains("does not parse"), "{err}");
}

#[tokio::test]
async fn pinned_entities_neither_expire_nor_get_evicted() {
    let store = MemoryStore::builder()
        .ttl(Duration::from_millis(30))
        .capacity(16)
        .build()
        .unwrap();
    store.pin("tally");
    let shared = EntityKey::new("tally", "global");
    increment(&store, &shared).await;
    for i in 0..64 {
        increment(&store, &key(&i.to_string())).await;
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    store.sweep();
    assert!(store.load(&shared).await.unwrap().is_some());
    assert!(
        store.load(&key("63")).await.unwrap().is_none(),
        "unpinned ones expire"
    );
}

mod unique {
    use super::*;
    use crate::entity::{Field, FieldType};
    use serde_json::Value;

    static FIELDS: [Field; 3] = [
        Field::new("id", "String", FieldType::Text).id(),
        Field::new("email", "String", FieldType::Text).unique(),
        Field::new("nick", "Option<String>", FieldType::Text)
            .unique()
            .nullable(),
    ];
    static ACCOUNT: Schema = Schema::new("account", &FIELDS);

    fn account(id: &str) -> EntityKey {
        EntityKey::new("account", id)
    }

    async fn put(store: &MemoryStore, id: &str, value: Value) -> Result<UpdateOutcome, StoreError> {
        store
            .update(&account(id), &mut |_| Mutation::Put(value.clone()))
            .await
    }

    fn attached() -> MemoryStore {
        let store = MemoryStore::new();
        store.attach(&ACCOUNT).unwrap();
        store
    }

    /// An account's JSON form.
    fn acc(id: &str, email: &str, nick: Option<&str>) -> Value {
        json!({"id": id, "email": email, "nick": nick})
    }

    #[tokio::test]
    async fn a_unit_of_work_that_breaks_uniqueness_writes_nothing() {
        let store = attached();
        put(&store, "a", acc("a", "ann@x.io", None)).await.unwrap();
        // `b` takes a free value, `c` one that `a` holds: neither is written.
        let err = store
            .update_many(&[account("b"), account("c")], &mut |_| {
                vec![
                    Mutation::Put(acc("b", "bob@x.io", Some("bobby"))),
                    Mutation::Put(acc("c", "ann@x.io", None)),
                ]
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.load(&account("b")).await.unwrap(), None);
        assert_eq!(store.load(&account("c")).await.unwrap(), None);
        // `b`'s values were given back.
        put(&store, "d", acc("d", "bob@x.io", Some("bobby")))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_value_another_instance_holds_is_a_conflict_naming_the_field() {
        let store = attached();
        put(&store, "a", acc("a", "ann@x.io", None)).await.unwrap();
        let before = put(&store, "b", acc("b", "bob@x.io", None)).await.unwrap();
        // Taken, on a create and on a change: refused, nothing written.
        for id in ["c", "b"] {
            let err = put(&store, id, acc(id, "ann@x.io", None))
                .await
                .unwrap_err();
            assert_eq!(err.status(), 409);
            assert_eq!(err.to_string(), "email is taken");
        }
        assert_eq!(store.load(&account("c")).await.unwrap(), None);
        let UpdateOutcome::Written(before) = before else {
            panic!("written")
        };
        assert_eq!(store.load(&account("b")).await.unwrap(), Some(before));
        assert_eq!(store.len(), 2, "no empty slot left by the refused create");
        // An instance keeps its own value; `null` is never taken.
        put(&store, "a", acc("a", "ann@x.io", None)).await.unwrap();
        // A value given up, or whose holder is deleted, is free again.
        put(&store, "a", acc("a", "ann@y.io", Some("an")))
            .await
            .unwrap();
        put(&store, "c", acc("c", "ann@x.io", None)).await.unwrap();
        let err = put(&store, "d", acc("d", "d@x.io", Some("an")))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "nick is taken");
        store
            .update(&account("a"), &mut |_| Mutation::Delete)
            .await
            .unwrap();
        put(&store, "d", acc("d", "ann@y.io", Some("an")))
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_creates_of_one_value_let_exactly_one_through() {
        let store = attached();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let id = i.to_string();
                    put(&store, &id, json!({"id": id, "email": "same@x.io"})).await
                })
            })
            .collect();
        let mut written = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => written += 1,
                Err(e) => assert_eq!(e.to_string(), "email is taken"),
            }
        }
        assert_eq!(written, 1);
        assert_eq!(store.list("account").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn imports_and_expiry_keep_the_index() {
        let store = MemoryStore::builder()
            .ttl(Duration::from_millis(300))
            .build()
            .unwrap();
        store.attach(&ACCOUNT).unwrap();
        let record = |id: &str, email: &str| Record {
            version: 3,
            value: json!({"id": id, "email": email}),
        };
        store
            .import(&account("a"), &record("a", "x@x.io"))
            .await
            .unwrap();
        let err = store
            .import(&account("b"), &record("b", "x@x.io"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "email is taken");
        assert_eq!(store.len(), 1);
        // An expired instance holds nothing.
        tokio::time::sleep(Duration::from_millis(800)).await;
        store.sweep();
        put(&store, "b", json!({"id": "b", "email": "x@x.io"}))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn attaching_again_keeps_the_index() {
        let store = attached();
        put(&store, "a", acc("a", "ann@x.io", None)).await.unwrap();
        store.attach(&ACCOUNT).unwrap();
        let err = put(&store, "b", acc("b", "ann@x.io", None))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "email is taken");
    }

    #[tokio::test]
    async fn a_snapshot_that_breaks_uniqueness_refuses_the_entity() {
        let store = MemoryStore::new();
        for id in ["a", "b"] {
            put(&store, id, json!({"id": id, "email": "x@x.io"}))
                .await
                .unwrap();
        }
        let err = store.attach(&ACCOUNT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`account` instances `a` and `b` both hold email \"x@x.io\": the field is \
             unique, so one must change before the store can serve it"
        );
    }
}
