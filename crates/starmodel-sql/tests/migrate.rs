//! Migrations on SQLite, PostgreSQL and MySQL: one `todo` entity in several
//! versions (hand-built schemas), each started on the database the previous one
//! left, as an application redeployed with a changed struct would be.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use starmodel_core::entity::{Field, FieldType, Rule, Schema};
use starmodel_core::{EntityKey, Mutation, Store};
use starmodel_sql::SqlStore;
use starmodel_sql::migrate::{MigrateError, MigrateOnStart, Migrator, Step};
use support::{Backend, TestDb, fresh};

on_every_backend!(
    added_table_and_fields_are_written_applied_and_defaulted,
    renamed_field_keeps_its_data_and_index,
    renamed_and_retyped_field_keeps_its_data,
    dropped_field_is_refused_without_the_flag_and_done_with_it,
    retyped_columns_keep_every_row,
    edited_migration_file_is_refused,
    without_a_directory_the_plan_is_applied_and_recorded,
    apply_files_mode_runs_files_and_never_plans,
    failed_migration_is_rolled_back_where_ddl_is_transactional,
    a_failing_file_undoes_the_whole_run_on_sqlite_only,
    concurrent_starts_migrate_once,
);

const ID: Field = Field {
    id: true,
    ..Field::new("id", "String", FieldType::Text)
};
const TITLE: Field = Field {
    index: true,
    validate: &[Rule::Length {
        min: Some(1),
        max: Some(200),
    }],
    ..Field::new("title", "String", FieldType::Text)
};
const NOTE: Field = Field {
    nullable: true,
    ..Field::new("note", "Option<String>", FieldType::Text)
};

/// v1: an id and an indexed title.
static V1_FIELDS: [Field; 2] = [ID, TITLE];
static V1: Schema = todo_v(&V1_FIELDS);

/// v2: one new field of every kind; only `note` may be null.
static V2_FIELDS: [Field; 9] = [
    ID,
    TITLE,
    Field {
        index: true,
        ..Field::new("priority", "i64", FieldType::Integer)
    },
    NOTE,
    Field::new("score", "f64", FieldType::Float),
    Field::new("done", "bool", FieldType::Bool),
    Field::new("owner", "uuid::Uuid", FieldType::Uuid),
    Field::new("due", "chrono::DateTime<chrono::Utc>", FieldType::DateTime),
    Field::new("tags", "Vec<String>", FieldType::Json),
];
static V2: Schema = todo_v(&V2_FIELDS);

/// v1 with `title` renamed to `name` (and now unique).
static RENAMED_FIELDS: [Field; 2] = [
    ID,
    Field {
        index: false,
        unique: true,
        renamed_from: Some("title"),
        ..Field::new("name", "String", FieldType::Text)
    },
];
static RENAMED: Schema = todo_v(&RENAMED_FIELDS);

/// v1 plus a nullable note and an integer count.
static COUNTED_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    NOTE,
    Field::new("count", "i64", FieldType::Integer),
];
static COUNTED: Schema = todo_v(&COUNTED_FIELDS);

/// `COUNTED` with the count renamed to `total` and kept as text.
static RENAMED_TOTAL_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    NOTE,
    Field {
        renamed_from: Some("count"),
        ..Field::new("total", "String", FieldType::Text)
    },
];
static RENAMED_TOTAL: Schema = todo_v(&RENAMED_TOTAL_FIELDS);

/// `COUNTED` with the count as text and the note required.
static RETYPED_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    Field::new("note", "String", FieldType::Text),
    Field::new("count", "String", FieldType::Text),
];
static RETYPED: Schema = todo_v(&RETYPED_FIELDS);

const fn todo_v(fields: &'static [Field]) -> Schema {
    Schema {
        name: "todo",
        fields,
        api: false,
        admin: false,
    }
}

/// A store on `db`'s database with `schema` attached, prepared (migrated) the way
/// `setup` configures it.
async fn start(
    db: &TestDb,
    schema: &'static Schema,
    setup: impl FnOnce(SqlStore) -> SqlStore,
) -> Result<SqlStore, starmodel_core::StoreError> {
    let store = setup(SqlStore::connect(&db.url).await.unwrap());
    store.attach(schema).unwrap();
    store.prepare().await?;
    Ok(store)
}

fn with_dir(dir: &Path) -> impl FnOnce(SqlStore) -> SqlStore {
    let dir = dir.to_owned();
    move |s| s.migrations_dir(dir)
}

/// A migrations directory holding `files` (name, text) written by hand for
/// `store`'s dialect.
fn by_hand(store: &SqlStore, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(store.dialect().name());
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
    dir
}

/// The migration files of `dialect` under `dir`, by name.
fn files(dir: &Path, store: &SqlStore) -> Vec<String> {
    let folder = dir.join(store.dialect().name());
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn file(dir: &Path, store: &SqlStore, name: &str) -> PathBuf {
    dir.join(store.dialect().name()).join(name)
}

async fn put(store: &SqlStore, value: Value) {
    let key = EntityKey::new("todo", value["id"].as_str().unwrap());
    store
        .update(&key, &mut |_| Mutation::Put(value.clone()))
        .await
        .unwrap();
}

async fn get(store: &SqlStore, id: &str) -> Value {
    store
        .load(&EntityKey::new("todo", id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("row {id} is gone"))
        .value
}

async fn applied(store: &SqlStore) -> Vec<String> {
    Migrator::new(store)
        .applied()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

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

async fn edited_migration_file_is_refused(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let v1 = start(&db, &V1, with_dir(dir.path())).await.unwrap();
    let path = file(dir.path(), &v1, "0001_create_todo.sql");
    let mut text = std::fs::read_to_string(&path).unwrap();
    // Line endings alone do not count as an edit.
    std::fs::write(&path, text.replace('\n', "\r\n")).unwrap();
    assert!(
        Migrator::new(&v1)
            .apply(dir.path())
            .await
            .unwrap()
            .is_empty()
    );
    text.push_str("-- an afterthought\n");
    std::fs::write(&path, &text).unwrap();
    let err = Migrator::new(&v1).apply(dir.path()).await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::Changed { name, .. } if name == "0001_create_todo.sql"),
        "{err:?}"
    );
    v1.close().await;
    let refused = start(&db, &V1, with_dir(dir.path())).await.unwrap_err();
    assert!(
        refused.to_string().contains("changed after it was applied"),
        "{refused}"
    );
}

async fn without_a_directory_the_plan_is_applied_and_recorded(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let v1 = start(&db, &V1, |s| s).await.unwrap();
    assert_eq!(applied(&v1).await, ["0001_create_todo.sql"]);
    put(&v1, json!({"id": "a", "title": "Buy milk"})).await;
    v1.close().await;
    let v2 = start(&db, &V2, |s| s).await.unwrap();
    let names = applied(&v2).await;
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(get(&v2, "a").await["priority"], json!(0));
    // Preparing again (the same store, or a new one) changes nothing.
    v2.prepare().await.unwrap();
    v2.close().await;
    let again = start(&db, &V2, |s| s).await.unwrap();
    assert_eq!(applied(&again).await, names);
    assert_eq!(Migrator::new(&again).apply_plan().await.unwrap(), None);
    again.close().await;
}

async fn apply_files_mode_runs_files_and_never_plans(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let only_files = |s: SqlStore| {
        s.migrations_dir(dir.path())
            .migrate_on_start(MigrateOnStart::ApplyFiles)
    };
    let store = start(&db, &V1, only_files).await.unwrap();
    let plan = Migrator::new(&store).plan().await.unwrap();
    assert_eq!(
        plan.steps().collect::<Vec<_>>(),
        [&Step::CreateTable {
            table: "todo".into()
        }]
    );
    // Off leaves the database alone altogether.
    let off = start(&db, &V1, |s| s.migrate_on_start(MigrateOnStart::Off))
        .await
        .unwrap();
    assert!(!Migrator::new(&off).plan().await.unwrap().is_empty());
    off.close().await;

    let path = Migrator::new(&store)
        .generate(dir.path())
        .await
        .unwrap()
        .unwrap();
    assert!(path.ends_with("0001_create_todo.sql"), "{}", path.display());
    // A second file cannot be generated while the first waits to be applied.
    let pending = Migrator::new(&store)
        .generate(dir.path())
        .await
        .unwrap_err();
    assert!(matches!(pending, MigrateError::Pending(ref names) if names.len() == 1));
    store.prepare().await.unwrap();
    assert_eq!(applied(&store).await, ["0001_create_todo.sql"]);
    assert!(Migrator::new(&store).plan().await.unwrap().is_empty());
    store.close().await;
}

async fn failed_migration_is_rolled_back_where_ddl_is_transactional(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store = SqlStore::connect(&db.url).await.unwrap();
    let dir = by_hand(
        &store,
        &[(
            "0001_by_hand.sql",
            "-- a table, then a typo\nCREATE TABLE kept_or_not (x BIGINT);\nCREATE TABLE broken (;\n",
        )],
    );
    let failed_at = |err: MigrateError| match err {
        MigrateError::Failed { name, number, .. } => {
            assert_eq!(name, "0001_by_hand.sql");
            number
        }
        other => panic!("expected a failed statement, got {other:?}"),
    };
    let migrator = Migrator::new(&store);
    assert_eq!(failed_at(migrator.apply(dir.path()).await.unwrap_err()), 2);
    assert!(migrator.applied().await.unwrap().is_empty());
    // Run again: where the first statement was rolled back it runs again and the
    // second fails; MySQL committed the first, which now fails as the table exists.
    let expected = if backend == Backend::MySql { 1 } else { 2 };
    assert_eq!(
        failed_at(migrator.apply(dir.path()).await.unwrap_err()),
        expected
    );
    store.close().await;
}

async fn a_failing_file_undoes_the_whole_run_on_sqlite_only(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store = SqlStore::connect(&db.url).await.unwrap();
    let dir = by_hand(
        &store,
        &[
            ("0001_fine.sql", "CREATE TABLE fine (x BIGINT);\n"),
            ("0002_broken.sql", "CREATE TABLE broken (;\n"),
        ],
    );
    let migrator = Migrator::new(&store);
    let err = migrator.apply(dir.path()).await.unwrap_err();
    assert!(
        matches!(err, MigrateError::Failed { ref name, .. } if name == "0002_broken.sql"),
        "{err:?}"
    );
    // SQLite's run is one transaction: the first file is undone with the second.
    // PostgreSQL and MySQL commit each file.
    let expected: &[&str] = if backend == Backend::Sqlite {
        &[]
    } else {
        &["0001_fine.sql"]
    };
    assert_eq!(applied(&store).await, expected);
    store.close().await;
}

async fn concurrent_starts_migrate_once(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    // Four processes' stores starting at once, each on its own worker thread: one
    // plans and applies, the others wait and find nothing left to do.
    let url = db.url.clone();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let store = SqlStore::connect(&url).await.unwrap();
                store.attach(&V2).unwrap();
                store.prepare().await.map(|()| store)
            })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.unwrap().unwrap());
    }
    let (a, b) = (&stores[0], &stores[3]);
    assert_eq!(applied(a).await, ["0001_create_todo.sql"]);
    put(a, json!({
        "id": "a", "title": "t", "priority": 1, "note": null, "score": 0.5, "done": false,
        "owner": "67e55044-10b1-426f-9247-bb680e5fe0c8", "due": "2024-05-01T10:00:00Z", "tags": [],
    }))
    .await;
    assert_eq!(get(b, "a").await["priority"], json!(1));
    for store in stores {
        store.close().await;
    }
}

/// Reading the plan or the history does not wait for another process's write
/// lock on SQLite (nor take it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_of_the_history_do_not_wait_for_writers() {
    use sqlx::Connection as _;

    let Some(db) = fresh(Backend::Sqlite).await else {
        return;
    };
    let store = start(&db, &V1, |s| s).await.unwrap();
    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    // A bound for a hang only: a write-locking read would wait for the 300 s.
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        (applied(&store).await, Migrator::new(&store).plan().await)
    })
    .await
    .expect("the reads answer while another connection holds the write lock");
    assert_eq!(read.0, ["0001_create_todo.sql"]);
    assert!(read.1.unwrap().is_empty());
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    store.close().await;
}

/// Another process holding SQLite's write lock longer than a connection's busy
/// timeout (5 s) makes a start-up run wait, not fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_run_waits_for_a_write_lock_held_past_the_busy_timeout() {
    use sqlx::Connection as _;

    let Some(db) = fresh(Backend::Sqlite).await else {
        return;
    };
    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let hold = async {
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
    };
    let ((), started) = tokio::join!(hold, start(&db, &V1, |s| s));
    let store = started.expect("waits, then migrates");
    assert_eq!(applied(&store).await, ["0001_create_todo.sql"]);
    other.close().await.unwrap();
    store.close().await;
}
