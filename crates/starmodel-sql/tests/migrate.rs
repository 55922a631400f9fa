//! Migrations on SQLite, PostgreSQL and MySQL, schema change by schema change:
//! one `todo` entity in several versions (see `support::migrate`), each started
//! on the database the previous one left, as an application redeployed with a
//! changed struct would be. The files each change writes are snapshots.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use starmodel_core::{EntityKey, Mutation, Store};
use starmodel_sql::SqlStore;
use starmodel_sql::migrate::{MigrateError, Migrator, Step};
use support::migrate::*;
use support::{Backend, fresh};

on_every_backend!(
    added_table_and_fields_are_written_applied_and_defaulted,
    renamed_field_keeps_its_data_and_index,
    renamed_and_retyped_field_keeps_its_data,
    dropped_field_is_refused_without_the_flag_and_done_with_it,
    retyped_columns_keep_every_row,
);

fn snapshot(name: &str, store: &SqlStore, text: &str) {
    insta::assert_snapshot!(format!("{name}_{}", store.dialect().name()), text);
}

async fn added_table_and_fields_are_written_applied_and_defaulted(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let v1 = start(&db, &V1, with_dir(dir.path())).await.unwrap();
    assert_eq!(files(dir.path(), &v1), ["0001_create_todo.sql"]);
    put(&v1, json!({"id": "a", "title": "Buy milk"})).await;
    v1.close().await;

    let v2 = start(&db, &V2, with_dir(dir.path())).await.unwrap();
    let written = files(dir.path(), &v2);
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written[1].starts_with("0002_add_todo_priority"),
        "{written:?}"
    );
    let text = std::fs::read_to_string(file(dir.path(), &v2, &written[1])).unwrap();
    snapshot("add_fields", &v2, &text);
    assert_eq!(
        get(&v2, "a").await,
        json!({
            "id": "a", "title": "Buy milk", "priority": 0, "note": null, "score": 0.0,
            "done": false, "owner": "00000000-0000-0000-0000-000000000000",
            "due": "1970-01-01T00:00:00Z", "tags": [],
        })
    );
    // New rows use the new columns as any other.
    let b = json!({
        "id": "b", "title": "Walk", "priority": 2, "note": "park", "score": 1.5,
        "done": true, "owner": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "due": "2024-05-01T10:00:00Z", "tags": ["outside"],
    });
    put(&v2, b.clone()).await;
    assert_eq!(get(&v2, "b").await, b);
    v2.close().await;

    // The same entities again: nothing to write, nothing to apply.
    let again = start(&db, &V2, with_dir(dir.path())).await.unwrap();
    assert_eq!(files(dir.path(), &again), written);
    assert_eq!(applied(&again).await, written);
    let migrator = Migrator::new(&again);
    assert!(migrator.plan().await.unwrap().is_empty());
    assert_eq!(migrator.generate(dir.path()).await.unwrap(), None);
    assert!(migrator.apply(dir.path()).await.unwrap().is_empty());
    assert_eq!(files(dir.path(), &again), written);
    again.close().await;
}

async fn renamed_field_keeps_its_data_and_index(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let v1 = start(&db, &V1, with_dir(dir.path())).await.unwrap();
    put(&v1, json!({"id": "a", "title": "Buy milk"})).await;
    put(&v1, json!({"id": "b", "title": "Walk"})).await;
    v1.close().await;

    let renamed = start(&db, &RENAMED, with_dir(dir.path())).await.unwrap();
    let written = files(dir.path(), &renamed);
    let text = std::fs::read_to_string(file(dir.path(), &renamed, &written[1])).unwrap();
    assert!(!text.contains("DESTRUCTIVE"), "{text}");
    snapshot("rename", &renamed, &text);
    assert_eq!(
        get(&renamed, "a").await,
        json!({"id": "a", "name": "Buy milk"})
    );
    assert_eq!(get(&renamed, "b").await, json!({"id": "b", "name": "Walk"}));
    // The unique index on the new name is there: a taken name is a conflict.
    let taken = renamed
        .update(&EntityKey::new("todo", "c"), &mut |_| {
            Mutation::Put(json!({"id": "c", "name": "Walk"}))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, starmodel_core::StoreError::Conflict(m) if m.contains("name")),
        "{taken:?}"
    );
    assert!(Migrator::new(&renamed).plan().await.unwrap().is_empty());
    renamed.close().await;
}

async fn renamed_and_retyped_field_keeps_its_data(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let counted = start(&db, &COUNTED, |s| s).await.unwrap();
    put(
        &counted,
        json!({"id": "a", "title": "Buy milk", "note": null, "count": 12}),
    )
    .await;
    counted.close().await;
    let plan = {
        let store = SqlStore::connect(&db.url).await.unwrap();
        store.attach(&RENAMED_TOTAL).unwrap();
        let plan = Migrator::new(&store).plan().await.unwrap();
        store.close().await;
        plan
    };
    let steps: Vec<String> = plan.steps().map(ToString::to_string).collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0], "rename column todo.count to total");
    assert!(
        steps[1].starts_with("change column todo.total from "),
        "{steps:?}"
    );

    let renamed = start(&db, &RENAMED_TOTAL, |s| s.allow_destructive(true))
        .await
        .unwrap();
    assert_eq!(
        get(&renamed, "a").await,
        json!({"id": "a", "title": "Buy milk", "note": null, "total": "12"})
    );
    assert!(Migrator::new(&renamed).plan().await.unwrap().is_empty());
    renamed.close().await;
}

async fn dropped_field_is_refused_without_the_flag_and_done_with_it(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let counted = start(&db, &COUNTED, with_dir(dir.path())).await.unwrap();
    put(
        &counted,
        json!({"id": "a", "title": "Buy milk", "note": "2 litres", "count": 3}),
    )
    .await;
    counted.close().await;

    let refused = start(&db, &V1, with_dir(dir.path())).await.unwrap_err();
    let message = refused.to_string();
    assert!(message.contains("drop column todo.note"), "{message}");
    assert!(message.contains("drop column todo.count"), "{message}");
    let store = SqlStore::connect(&db.url).await.unwrap();
    store.attach(&V1).unwrap();
    assert_eq!(files(dir.path(), &store), ["0001_create_todo.sql"]);
    let plan = Migrator::new(&store).plan().await.unwrap();
    assert_eq!(
        plan.destructive_steps(),
        [
            &Step::DropColumn {
                table: "todo".into(),
                column: "note".into()
            },
            &Step::DropColumn {
                table: "todo".into(),
                column: "count".into()
            },
        ]
    );
    let err = Migrator::new(&store)
        .generate(dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::Destructive(ref steps) if steps.len() == 2));
    store.close().await;

    let dropped = start(&db, &V1, |s| {
        s.migrations_dir(dir.path()).allow_destructive(true)
    })
    .await
    .unwrap();
    let written = files(dir.path(), &dropped);
    assert_eq!(written.len(), 2);
    let text = std::fs::read_to_string(file(dir.path(), &dropped, &written[1])).unwrap();
    assert!(
        text.contains("-- DESTRUCTIVE: drop column todo.note"),
        "{text}"
    );
    snapshot("drop", &dropped, &text);
    assert_eq!(
        get(&dropped, "a").await,
        json!({"id": "a", "title": "Buy milk"})
    );
    assert!(Migrator::new(&dropped).plan().await.unwrap().is_empty());
    dropped.close().await;
}

async fn retyped_columns_keep_every_row(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let counted = start(&db, &COUNTED, with_dir(dir.path())).await.unwrap();
    for (id, note, count) in [
        ("a", json!("x"), 7),
        ("b", Value::Null, -1),
        ("c", json!(""), 0),
    ] {
        put(
            &counted,
            json!({"id": id, "title": format!("todo {id}"), "note": note, "count": count}),
        )
        .await;
    }
    counted.close().await;

    let refused = start(&db, &RETYPED, with_dir(dir.path()))
        .await
        .unwrap_err();
    let message = refused.to_string();
    assert!(message.contains("change column todo.note"), "{message}");
    assert!(message.contains("change column todo.count"), "{message}");

    let retyped = start(&db, &RETYPED, |s| {
        s.migrations_dir(dir.path()).allow_destructive(true)
    })
    .await
    .unwrap();
    let written = files(dir.path(), &retyped);
    let text = std::fs::read_to_string(file(dir.path(), &retyped, &written[1])).unwrap();
    snapshot("retype", &retyped, &text);
    let rows = retyped.list("todo").await.unwrap();
    let values: Vec<Value> = rows.into_iter().map(|(_, r)| r.value).collect();
    assert_eq!(
        values,
        [
            json!({"id": "a", "title": "todo a", "note": "x", "count": "7"}),
            json!({"id": "b", "title": "todo b", "note": "", "count": "-1"}),
            json!({"id": "c", "title": "todo c", "note": "", "count": "0"}),
        ]
    );
    // Everything is as a fresh table would be, the index on `title` included.
    assert!(Migrator::new(&retyped).plan().await.unwrap().is_empty());
    retyped.close().await;
}
