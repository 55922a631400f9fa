//! The SQL benchmark's servers: a record entity [`Item`] bumped over HTTP, kept
//! in the store the parent process names, and raw axum answering the same bytes.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use bytes::Bytes;
use serde_json::json;
use starmodel::App;
use starmodel::core::{EntityKey, Record, Store};
use starmodel::prelude::*;
use starmodel::sql::SqlStore;

/// Rows created before a run, ids `0..ROWS`, each at count 0 and version 1.
pub(crate) const ROWS: usize = 1000;

/// A row the benchmark bumps.
#[derive(Entity, Clone, Serialize, Deserialize)]
#[entity(store = "sql", scope = "record")]
pub(crate) struct Item {
    /// Chosen by the seeding, `0..ROWS`.
    #[entity(id)]
    id: i64,
    /// Sum of the bumps.
    count: i64,
}

#[events]
impl Item {
    /// `POST /item/{id}/bump?by=1`: adds `by` (default 1).
    #[event]
    fn bump(&mut self, by: Option<i64>) {
        self.count += by.unwrap_or(1);
    }
}

/// What a table of items adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Totals {
    /// Rows.
    pub(crate) rows: i64,
    /// Sum of `count`: one per committed bump.
    pub(crate) count: i64,
    /// Sum of the versions: one per row (the seeding) plus one per committed bump.
    pub(crate) versions: i64,
}

/// The StarModel application over `store` (`memory`, or a database URL), its
/// tables made and [`ROWS`] items written through the store. It also answers
/// `GET /bench/totals` with the [`Totals`] the store lists (how the parent checks
/// a memory store, which dies with this process).
pub(crate) async fn starmodel_app(store: &str) -> Result<App, Box<dyn std::error::Error>> {
    let store: Arc<dyn Store> = match store {
        "memory" => Arc::new(MemoryStore::new()),
        url => Arc::new(SqlStore::connect(url).await?),
    };
    let listed = store.clone();
    let app = StarModel::new()
        .secret([7u8; 32])
        .sql_store(store.clone())
        .entity::<Item>()
        .route(
            "/bench/totals",
            get(move || {
                let store = listed.clone();
                async move {
                    totals(store.as_ref())
                        .await
                        .map(axum::Json)
                        .map_err(|e| e.to_string())
                }
            }),
        )
        .build()?;
    app.prepare().await?;
    for id in 0..ROWS {
        let key = EntityKey::new(Item::NAME, id.to_string());
        let record = Record {
            version: 1,
            value: json!({ "id": id, "count": 0 }),
        };
        store.import(&key, &record).await?;
    }
    Ok(app)
}

/// The [`Totals`] of every item `store` lists.
async fn totals(store: &dyn Store) -> Result<Totals, starmodel::core::StoreError> {
    let items = store.list(Item::NAME).await?;
    let mut totals = Totals {
        rows: 0,
        count: 0,
        versions: 0,
    };
    for (_, record) in items {
        totals.rows += 1;
        totals.count += record.value["count"].as_i64().unwrap_or(0);
        totals.versions += i64::try_from(record.version).unwrap_or(i64::MAX);
    }
    Ok(totals)
}

/// Answers `POST /item/{id}/bump` as StarModel does for a record entity: a 200
/// empty event stream (record entities are live through views, not signals).
pub(crate) fn raw_router() -> Router {
    Router::new().route(
        "/item/{id}/bump",
        // Reads the id and the body, as StarModel must.
        post(|Path(_id): Path<i64>, _signals: Bytes| async {
            (
                [
                    (CONTENT_TYPE, "text/event-stream"),
                    (CACHE_CONTROL, "no-cache"),
                ],
                "",
            )
        }),
    )
}
