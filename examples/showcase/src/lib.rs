//! The StarModel showcase: each page shows one part of the framework.
//!
//! Run it with `cargo run --release -p showcase` and open <http://127.0.0.1:5001>.
//! It listens on `STARMODEL_ADDR` and keeps its memory store's snapshot and its
//! session secret under `STARMODEL_DATA_DIR` (default `.starmodel/`), so a restart
//! loses nothing.

pub mod pages;

use std::path::Path;
use std::time::Duration;

use starmodel::prelude::*;

/// The application: every showcase entity and page, with the memory store's
/// snapshot and the session secret kept in `data_dir`.
pub fn app(data_dir: &Path) -> Result<StarModel, starmodel::core::StoreError> {
    let memory = MemoryStore::builder()
        .snapshot(data_dir.join("snapshot.json"))
        .snapshot_interval(Duration::from_secs(2))
        .ttl(Duration::from_secs(30 * 24 * 3600))
        .capacity(1_000_000)
        .build()?;
    Ok(StarModel::new()
        .memory_store(memory)
        .secret_file(data_dir.join("secret"))
        .entity::<pages::counter::Counter>()
        .entity::<pages::counter::GlobalCounter>()
        .route("/", get(pages::index))
        .route("/counter", get(pages::counter::page)))
}
