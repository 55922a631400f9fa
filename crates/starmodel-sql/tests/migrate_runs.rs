//! Migration runs on SQLite, PostgreSQL and MySQL: edited and hand-written files,
//! the start-up modes, failures and their rollback, and concurrent starts.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use starmodel_core::Store;
use starmodel_sql::SqlStore;
use starmodel_sql::migrate::{MigrateError, MigrateOnStart, Migrator, Step};
use support::migrate::*;
use support::{Backend, fresh};

on_every_backend!(
    edited_migration_file_is_refused,
    without_a_directory_the_plan_is_applied_and_recorded,
    apply_files_mode_runs_files_and_never_plans,
    failed_migration_is_rolled_back_where_ddl_is_transactional,
    a_failing_file_undoes_the_whole_run_on_sqlite_only,
    concurrent_starts_migrate_once,
);

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
