//! The StarModel showcase: each page shows one part of the framework.
//!
//! Run it with `cargo run --release -p showcase` and open <http://127.0.0.1:5001>.
//! It listens on `STARMODEL_ADDR` and keeps everything under `STARMODEL_DATA_DIR`
//! (default `.starmodel/`): the memory store's snapshot, the session secret and
//! the SQLite database `showcase.db` (or the database `DATABASE_URL` names), so a
//! restart loses nothing.

pub mod pages;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use starmodel::prelude::*;
use starmodel::sql::SqlStore;

/// The application: every showcase entity and page, with the memory store's
/// snapshot, the session secret and the SQLite database kept in `data_dir`
/// (`DATABASE_URL`, when set, names another database).
pub async fn app(data_dir: &Path) -> Result<StarModel, starmodel::core::StoreError> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", data_dir.join("showcase.db").display()));
    app_on(data_dir, &url).await
}

/// The application with its records in the database `url` (SQLite, PostgreSQL or
/// MySQL), the rest in `data_dir`.
pub async fn app_on(data_dir: &Path, url: &str) -> Result<StarModel, starmodel::core::StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| starmodel::core::StoreError::Io {
        path: data_dir.display().to_string(),
        source,
    })?;
    // Schema changes become reviewed SQL files beside the code (applied on start).
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let sql = SqlStore::connect(url).await?.migrations_dir(migrations);
    let memory = MemoryStore::builder()
        .snapshot(data_dir.join("snapshot.json"))
        .snapshot_interval(Duration::from_secs(2))
        .ttl(Duration::from_secs(30 * 24 * 3600))
        .capacity(1_000_000)
        .build()?;
    Ok(StarModel::new()
        // The showcase's own stylesheet (StarModel's shell carries only its own),
        // served from `static/` at a content-hashed URL.
        .static_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("static"))
        .layout(Layout::new().stylesheet_asset("style.css"))
        .mount(starmodel::api::JsonApi)
        .memory_store(memory)
        .secret_file(data_dir.join("secret"))
        .entity::<pages::counter::Counter>()
        .entity::<pages::counter::GlobalCounter>()
        .sql_store(Arc::new(sql))
        .entity::<pages::todos::Todo>()
        .live_view("todos", pages::todos::list)
        .route("/", get(pages::index))
        .route("/counter", get(pages::counter::page))
        .route("/todos", get(pages::todos::page)))
}
