//! The `todo` entity in several versions (hand-built schemas) and the helpers the
//! migration tests share: start a store on a schema, write files by hand, read
//! what was written and applied.

use std::path::{Path, PathBuf};

use serde_json::Value;
use starmodel_core::entity::{Field, FieldType, Rule, Schema};
use starmodel_core::{EntityKey, Mutation, Store};
use starmodel_sql::SqlStore;
use starmodel_sql::migrate::Migrator;

use super::TestDb;

pub const ID: Field = Field::new("id", "String", FieldType::Text).id();
pub const TITLE: Field = Field::new("title", "String", FieldType::Text)
    .index()
    .validate(&[Rule::Length {
        min: Some(1),
        max: Some(200),
    }]);
pub const NOTE: Field = Field::new("note", "Option<String>", FieldType::Text).nullable();

/// v1: an id and an indexed title.
pub static V1_FIELDS: [Field; 2] = [ID, TITLE];
pub static V1: Schema = todo_v(&V1_FIELDS);

/// v2: one new field of every kind; only `note` may be null.
pub static V2_FIELDS: [Field; 9] = [
    ID,
    TITLE,
    Field::new("priority", "i64", FieldType::Integer).index(),
    NOTE,
    Field::new("score", "f64", FieldType::Float),
    Field::new("done", "bool", FieldType::Bool),
    Field::new("owner", "uuid::Uuid", FieldType::Uuid),
    Field::new("due", "chrono::DateTime<chrono::Utc>", FieldType::DateTime),
    Field::new("tags", "Vec<String>", FieldType::Json),
];
pub static V2: Schema = todo_v(&V2_FIELDS);

/// v1 with `title` renamed to `name` (and now unique).
pub static RENAMED_FIELDS: [Field; 2] = [
    ID,
    Field {
        index: false,
        unique: true,
        renamed_from: Some("title"),
        ..Field::new("name", "String", FieldType::Text)
    },
];
pub static RENAMED: Schema = todo_v(&RENAMED_FIELDS);

/// v1 plus a nullable note and an integer count.
pub static COUNTED_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    NOTE,
    Field::new("count", "i64", FieldType::Integer),
];
pub static COUNTED: Schema = todo_v(&COUNTED_FIELDS);

/// `COUNTED` with the count renamed to `total` and kept as text.
pub static RENAMED_TOTAL_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    NOTE,
    Field {
        renamed_from: Some("count"),
        ..Field::new("total", "String", FieldType::Text)
    },
];
pub static RENAMED_TOTAL: Schema = todo_v(&RENAMED_TOTAL_FIELDS);

/// `COUNTED` with the count as text and the note required.
pub static RETYPED_FIELDS: [Field; 4] = [
    ID,
    TITLE,
    Field::new("note", "String", FieldType::Text),
    Field::new("count", "String", FieldType::Text),
];
pub static RETYPED: Schema = todo_v(&RETYPED_FIELDS);

pub const fn todo_v(fields: &'static [Field]) -> Schema {
    Schema::new("todo", fields)
}

/// A store on `db`'s database with `schema` attached, prepared (migrated) the way
/// `setup` configures it.
pub async fn start(
    db: &TestDb,
    schema: &'static Schema,
    setup: impl FnOnce(SqlStore) -> SqlStore,
) -> Result<SqlStore, starmodel_core::StoreError> {
    let store = setup(SqlStore::connect(&db.url).await.unwrap());
    store.attach(schema).unwrap();
    store.prepare().await?;
    Ok(store)
}

pub fn with_dir(dir: &Path) -> impl FnOnce(SqlStore) -> SqlStore {
    let dir = dir.to_owned();
    move |s| s.migrations_dir(dir)
}

/// A migrations directory holding `files` (name, text) written by hand for
/// `store`'s dialect.
pub fn by_hand(store: &SqlStore, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(store.dialect().name());
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
    dir
}

/// The migration files of `dialect` under `dir`, by name.
pub fn files(dir: &Path, store: &SqlStore) -> Vec<String> {
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

pub fn file(dir: &Path, store: &SqlStore, name: &str) -> PathBuf {
    dir.join(store.dialect().name()).join(name)
}

pub async fn put(store: &SqlStore, value: Value) {
    let key = EntityKey::new("todo", value["id"].as_str().unwrap());
    store
        .update(&key, &mut |_| Mutation::Put(value.clone()))
        .await
        .unwrap();
}

pub async fn get(store: &SqlStore, id: &str) -> Value {
    store
        .load(&EntityKey::new("todo", id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("row {id} is gone"))
        .value
}

pub async fn applied(store: &SqlStore) -> Vec<String> {
    Migrator::new(store)
        .applied()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}
