//! One `Todo` entity, unchanged, on SQLite, PostgreSQL and MySQL: created by its
//! create event, changed, deleted, loaded and queried through the dispatcher.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use starmodel_core::store::query::apply;
use starmodel_core::{DispatchError, EntityKey, FilterOp, ListQuery, Sort, Store, StoreError};
use support::{Backend, Todo, Visits, dispatcher, entity, filter, filtered, fresh, send, stored};

on_every_backend!(
    todo_is_created_toggled_renamed_and_deleted,
    todo_query_filters_sorts_and_pages_like_memory,
    session_entity_is_kept_under_its_session_id,
);

async fn todo_is_created_toggled_renamed_and_deleted(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Todo>(&db).await]);
    let created = send(
        &d,
        "todo",
        "add",
        "ignored",
        &[("id", "a"), ("title", "Buy milk")],
    )
    .await
    .unwrap();
    assert_eq!(created.key, EntityKey::new("todo", "a"));
    let record = created.record.unwrap();
    assert_eq!(record.version, 1);
    assert_eq!(
        record.value,
        json!({"id": "a", "title": "Buy milk", "done": false})
    );

    let toggled = send(&d, "todo", "toggle", "a", &[]).await.unwrap();
    assert_eq!(toggled.record.unwrap().version, 2);
    send(&d, "todo", "rename", "a", &[("title", "Buy oat milk")])
        .await
        .unwrap();
    let loaded = stored(&*db.store, "todo", "a").await;
    assert_eq!(loaded.version, 3);
    assert_eq!(
        loaded.value,
        json!({"id": "a", "title": "Buy oat milk", "done": true})
    );
    let todo: Todo = serde_json::from_value(loaded.value).unwrap();
    assert!(todo.done);

    let removed = send(&d, "todo", "remove", "a", &[]).await.unwrap();
    assert!(removed.record.is_none());
    assert_eq!(
        db.store.load(&EntityKey::new("todo", "a")).await.unwrap(),
        None
    );
    let gone = send(&d, "todo", "toggle", "a", &[]).await.unwrap_err();
    assert!(matches!(gone, DispatchError::NotFound { .. }), "{gone}");
    assert!(db.store.list("todo").await.unwrap().is_empty());
}

async fn todo_query_filters_sorts_and_pages_like_memory(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Todo>(&db).await]);
    let titles = [
        ("t1", "walk the dog"),
        ("t2", "Buy milk"),
        ("t3", "answer mail"),
        ("t4", "buy bread"),
        ("t5", "Zap the bug"),
        ("t6", "answer mail"),
    ];
    for (i, title) in titles {
        send(&d, "todo", "add", i, &[("id", i), ("title", title)])
            .await
            .unwrap();
    }
    for done in ["t2", "t3", "t5"] {
        send(&d, "todo", "toggle", done, &[]).await.unwrap();
    }
    let open = ListQuery {
        filters: vec![filter("done", FilterOp::Eq, json!(false))],
        sort: vec![Sort {
            field: "title".into(),
            descending: true,
        }],
        limit: Some(2),
        ..ListQuery::default()
    };
    let ids = |page: &starmodel_core::Page| {
        page.items
            .iter()
            .map(|(i, _)| i.to_string())
            .collect::<Vec<_>>()
    };
    let first = db.store.query("todo", &open).await.unwrap();
    assert_eq!(ids(&first), ["t1", "t4"], "by title, bytes: lowercase last");
    assert_eq!(first.next.as_deref(), Some("o2"));
    let second = db
        .store
        .query(
            "todo",
            &ListQuery {
                cursor: first.next.clone(),
                ..open.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&second), ["t6"]);
    assert_eq!(second.next, None);

    let all = db.store.list("todo").await.unwrap();
    assert_eq!(all.len(), 6);
    let queries = [
        open.clone(),
        ListQuery {
            sort: vec![Sort {
                field: "title".into(),
                descending: false,
            }],
            ..ListQuery::default()
        },
        ListQuery {
            filters: vec![filter("title", FilterOp::Ge, json!("answer mail"))],
            offset: 1,
            ..ListQuery::default()
        },
        ListQuery {
            filters: vec![filter("id", FilterOp::Ne, json!("t3"))],
            limit: Some(3),
            offset: 2,
            ..ListQuery::default()
        },
    ];
    for q in queries {
        let page = db.store.query("todo", &q).await.unwrap();
        assert_eq!(page, apply(all.clone(), &q), "{q:?}");
    }

    let bad = db
        .store
        .query("todo", &filtered("done", FilterOp::Eq, json!("yes")))
        .await
        .unwrap_err();
    assert!(matches!(bad, StoreError::BadQuery(_)), "{bad}");
    assert_eq!(bad.status(), 400);
}

async fn session_entity_is_kept_under_its_session_id(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let d = dispatcher(vec![entity::<Visits>(&db).await]);
    for session in ["s1", "s1", "s2"] {
        send(&d, "visits", "visit", session, &[]).await.unwrap();
    }
    let s1 = stored(&*db.store, "visits", "s1").await;
    assert_eq!((s1.version, s1.value.clone()), (2, json!({"count": 2})));
    let listed = db.store.list("visits").await.unwrap();
    let listed: Vec<_> = listed
        .into_iter()
        .map(|(i, r)| (i.to_string(), r.value))
        .collect();
    assert_eq!(
        listed,
        [
            ("s1".to_owned(), json!({"count": 2})),
            ("s2".to_owned(), json!({"count": 1}))
        ]
    );
}
