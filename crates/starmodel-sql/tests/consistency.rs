//! The unit of work on every backend: concurrent events never lose an update, two
//! creates of one id make one record, a failed event changes nothing, a taken
//! unique value is a 409 naming the field.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use serde_json::json;
use starmodel_core::{
    DispatchError, Dispatcher, EntityId, EntityKey, EventOutcome, FilterOp, ListQuery, Record,
    Sort, Store, StoreError,
};
use starmodel_sql::SqlStore;
use support::{
    Account, Backend, Order, Tally, Todo, concurrently, dispatcher, entity, filter, fresh, send,
    stored,
};

on_every_backend!(
    concurrent_increments_are_never_lost,
    concurrent_creates_of_one_id_make_one_record,
    concurrent_creates_of_distinct_ids_all_succeed,
    failed_events_leave_the_row_as_it_was,
    taken_unique_value_is_a_conflict_naming_the_field,
    reserved_words_work_as_entity_and_field_names,
    writes_beside_the_store_are_seen_by_the_next_event,
);

const TASKS: usize = 8;
const PER_TASK: usize = 500;

async fn concurrent_increments_are_never_lost(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = Arc::new(dispatcher(vec![entity::<Tally>(&db).await]));
    send(&d, "tally", "open", "7", &[("id", "7")])
        .await
        .unwrap();
    concurrently(TASKS, |_| {
        let d = d.clone();
        async move {
            for _ in 0..PER_TASK {
                send(&d, "tally", "increment", "7", &[]).await.unwrap();
            }
        }
    })
    .await;
    let record = stored(&*db.store, "tally", "7").await;
    let total = (TASKS * PER_TASK) as u64;
    assert_eq!(record.value, json!({"id": 7, "count": total}));
    assert_eq!(record.version, total + 1, "one version per write");
}

async fn concurrent_creates_of_one_id_make_one_record(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = Arc::new(dispatcher(vec![entity::<Todo>(&db).await]));
    let results = concurrently(TASKS, |n| {
        let d = d.clone();
        async move {
            let title = format!("writer {n}");
            send(
                &d,
                "todo",
                "add",
                "same",
                &[("id", "same"), ("title", &title)],
            )
            .await
        }
    })
    .await;
    let mut created = Vec::new();
    for result in results {
        match result {
            Ok(outcome) => created.push(outcome.record.unwrap()),
            Err(e) => assert_eq!(e.status(), 409, "{e}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one create wins");
    let record = stored(&*db.store, "todo", "same").await;
    assert_eq!(record, created[0]);
    assert_eq!(record.version, 1);
}

/// Neighbouring new keys (a lock gap on MySQL, a retried transaction anywhere)
/// must not turn a create into a false 409.
async fn concurrent_creates_of_distinct_ids_all_succeed(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = Arc::new(dispatcher(vec![entity::<Todo>(&db).await]));
    concurrently(TASKS, |n| {
        let d = d.clone();
        async move {
            for i in 0..25 {
                let id = format!("t{:03}", i * TASKS + n);
                send(
                    &d,
                    "todo",
                    "add",
                    id.as_str(),
                    &[("id", &id), ("title", "x")],
                )
                .await
                .unwrap_or_else(|e| panic!("creating {id}: {e}"));
            }
        }
    })
    .await;
    assert_eq!(db.store.list("todo").await.unwrap().len(), TASKS * 25);
}

async fn failed_events_leave_the_row_as_it_was(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Todo>(&db).await]);
    let add = [("id", "a"), ("title", "keep me")];
    send(&d, "todo", "add", "a", &add).await.unwrap();
    send(&d, "todo", "toggle", "a", &[]).await.unwrap();
    let key = EntityKey::new("todo", "a");
    let before = db.store.load(&key).await.unwrap().unwrap();
    assert_eq!(before.version, 2);

    let too_long = "x".repeat(201);
    let failures = [
        ("refuse", vec![]),
        ("explode", vec![]),
        ("rename", vec![("title", "")]),
        ("rename", vec![("title", too_long.as_str())]),
    ];
    for (event, params) in failures {
        let e = send(&d, "todo", event, "a", &params).await.unwrap_err();
        assert!(matches!(e, DispatchError::Event(_)), "{event}: {e}");
        assert_eq!(
            db.store.load(&key).await.unwrap().as_ref(),
            Some(&before),
            "after `{event}` failed"
        );
    }
    let listed = db.store.list("todo").await.unwrap();
    assert_eq!(listed, [(EntityId::new("a"), before)]);
}

async fn taken_unique_value_is_a_conflict_naming_the_field(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Account>(&db).await]);
    signup(&d, "a", "ann@x.io").await.unwrap();
    signup(&d, "b", "bob@x.io").await.unwrap();

    let taken = signup(&d, "c", "ann@x.io").await.unwrap_err();
    assert_eq!(taken.status(), 409);
    assert_eq!(taken.to_string(), "email is taken");

    let b = EntityKey::new("account", "b");
    let before = db.store.load(&b).await.unwrap().unwrap();
    let change = [("email", "ann@x.io")];
    let taken = send(&d, "account", "change_email", "b", &change)
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, DispatchError::Store(StoreError::Conflict(m)) if m == "email is taken"),
        "{taken:?}"
    );
    assert_eq!(db.store.load(&b).await.unwrap(), Some(before));

    let same_id = signup(&d, "a", "new@x.io").await.unwrap_err();
    assert_eq!(same_id.status(), 409, "{same_id}");
    assert_eq!(db.store.list("account").await.unwrap().len(), 2);

    // Unique text compares byte by byte, as in memory: other case, other value.
    signup(&d, "d", "ANN@x.io").await.unwrap();
}

async fn signup(d: &Dispatcher, id: &str, email: &str) -> Result<EventOutcome, DispatchError> {
    send(d, "account", "signup", id, &[("id", id), ("email", email)]).await
}

async fn reserved_words_work_as_entity_and_field_names(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Order>(&db).await]);
    for (select, group) in [("s1", "3"), ("s2", "1"), ("s3", "2")] {
        send(
            &d,
            "order",
            "place",
            select,
            &[("select", select), ("group", group)],
        )
        .await
        .unwrap();
    }
    let regroup = [("group", "5"), ("from", "north")];
    let out = send(&d, "order", "regroup", "s2", &regroup).await.unwrap();
    assert_eq!(
        out.record.unwrap().value,
        json!({"select": "s2", "group": 5, "from": "north"})
    );
    let taken = send(&d, "order", "regroup", "s3", &regroup)
        .await
        .unwrap_err();
    assert_eq!(taken.to_string(), "from is taken");

    let page = db
        .store
        .query(
            "order",
            &ListQuery {
                filters: vec![filter("group", FilterOp::Ge, json!(2))],
                sort: vec![Sort {
                    field: "from".into(),
                    descending: true,
                }],
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = page.items.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        ["s2", "s1", "s3"],
        "nulls last when descending, then by id"
    );

    let key = EntityKey::new("order", "s9");
    let record = Record {
        version: 41,
        value: json!({"select": "s9", "group": 9, "from": null}),
    };
    db.store.import(&key, &record).await.unwrap();
    db.store.import(&key, &record).await.unwrap();
    assert_eq!(db.store.load(&key).await.unwrap(), Some(record));
}

/// Two stores (two application processes) writing one SQLite file: the version
/// check makes the loser of each race read again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sqlite_stores_on_one_file_lose_no_update() {
    let db = fresh(Backend::Sqlite).await.unwrap();
    let first = dispatcher(vec![entity::<Tally>(&db).await]);
    let other = Arc::new(SqlStore::connect(&db.url).await.unwrap());
    other
        .attach(<Tally as starmodel::Entity>::schema())
        .unwrap();
    let second = dispatcher(vec![starmodel_core::EntityType::of::<Tally>(other.clone())]);
    send(&first, "tally", "open", "1", &[("id", "1")])
        .await
        .unwrap();
    let dispatchers = [Arc::new(first), Arc::new(second)];
    // The first half of the tasks on one store, the second half on the other.
    concurrently(TASKS, |n| {
        let d = dispatchers[n / (TASKS / 2)].clone();
        async move {
            for _ in 0..PER_TASK / 2 {
                send(&d, "tally", "increment", "1", &[]).await.unwrap();
            }
        }
    })
    .await;
    let total = (TASKS * PER_TASK / 2) as u64;
    for store in [&*db.store, &*other] {
        let record = stored(store, "tally", "1").await;
        assert_eq!(record.value["count"], json!(total));
        assert_eq!(record.version, total + 1);
    }
}

/// Raw SQL through the store's own connections and imports change rows behind the
/// events' back; the next event must start from what the database holds.
async fn writes_beside_the_store_are_seen_by_the_next_event(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Tally>(&db).await]);
    let count = |outcome: starmodel_core::EventOutcome| {
        let record = outcome.record.unwrap();
        (record.value["count"].as_i64().unwrap(), record.version)
    };
    send(&d, "tally", "open", "1", &[("id", "1")])
        .await
        .unwrap();
    let out = send(&d, "tally", "increment", "1", &[]).await.unwrap();
    assert_eq!(count(out), (1, 2));

    let changed = db
        .store
        .pool()
        .execute("UPDATE tally SET count = 100, _version = 7 WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let out = send(&d, "tally", "increment", "1", &[]).await.unwrap();
    assert_eq!(count(out), (101, 8));

    let key = EntityKey::new("tally", "1");
    let imported = Record {
        version: 50,
        value: json!({"id": 1, "count": 500}),
    };
    db.store.import(&key, &imported).await.unwrap();
    let out = send(&d, "tally", "increment", "1", &[]).await.unwrap();
    assert_eq!(count(out), (501, 51));

    db.store
        .pool()
        .execute("DELETE FROM tally WHERE id = 1")
        .await
        .unwrap();
    let gone = send(&d, "tally", "increment", "1", &[]).await.unwrap_err();
    assert!(matches!(gone, DispatchError::NotFound { .. }), "{gone}");
}
