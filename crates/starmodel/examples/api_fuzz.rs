//! A small JSON API for fuzzing: two record entities with every field type,
//! validation rules and a unique field, served at the address given as the first
//! argument (default `127.0.0.1:5002`).
//!
//! The entities live in memory stores, or, when `API_FUZZ_DATABASE_URL` is set
//! (`sqlite://…`, `postgres://…`, `mysql://…`), in one SQL store on that database,
//! which must exist (a SQLite file is created); the build needs the façade feature
//! of its engine.
//!
//! `scripts/api-fuzz` runs it on every backend and points schemathesis at
//! `/api/openapi.json`; by hand:
//!
//! ```text
//! cargo run -p starmodel --example api_fuzz -- 127.0.0.1:5002
//! API_FUZZ_DATABASE_URL=sqlite:///tmp/fuzz.db \
//!     cargo run -p starmodel --example api_fuzz --features sqlite -- 127.0.0.1:5002
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};
use starmodel::core::Store;
use starmodel::prelude::*;
use uuid::Uuid;

/// Every field type the API maps, with rules.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub struct Gadget {
    /// Left out on create: the server picks a random one.
    #[entity(id)]
    pub id: Uuid,
    /// Shown in lists.
    #[entity(validate(length(min = 1, max = 40)), index)]
    pub name: String,
    /// Whom to ask.
    #[entity(validate(email), unique)]
    pub contact: String,
    /// Items left.
    #[entity(validate(range(min = 0, max = 100)))]
    pub stock: u8,
    /// Bytes sold, ever.
    pub sold: u64,
    /// In euros.
    pub price: f64,
    /// Out of five, when rated.
    #[entity(validate(range(min = 1, max = 5)))]
    pub rating: Option<i32>,
    /// On sale.
    pub active: bool,
    /// When it came out.
    pub released: DateTime<Utc>,
    /// Optional text.
    pub nickname: Option<String>,
    /// One letter.
    pub grade: char,
    /// A replacement part.
    pub replaces: Option<Uuid>,
    /// Anything.
    pub extra: serde_json::Value,
}

#[events]
impl Gadget {}

/// A text id chosen by the client.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub struct Label {
    /// The label itself.
    #[entity(id, validate(length(max = 30)))]
    pub slug: String,
    /// How often it is used.
    pub uses: i64,
    /// Colour, when set.
    pub colour: Option<String>,
}

#[events]
impl Label {
    /// Counts `by` more uses (the fuzzer reaches it as
    /// `POST /api/label/{slug}/used`), saturating: any integer the schema allows
    /// is accepted (an event's own refusals are 422s the fuzzer would flag).
    #[event]
    fn used(&mut self, by: Option<i64>) {
        self.uses = self.uses.saturating_add(by.unwrap_or(1));
    }

    /// A new colour, or none.
    #[event]
    fn paint(&mut self, colour: Option<String>) {
        self.colour = colour;
    }
}

/// The environment variable naming the database; unset: memory stores.
const DATABASE_URL_VAR: &str = "API_FUZZ_DATABASE_URL";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5002".to_owned());
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret("api fuzz secret, at least 32 bytes long");
    let app = match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => app
            .sql_store(sql_store(&url).await?)
            .entity::<Gadget>()
            .entity::<Label>(),
        _ => app
            .entity_with_store::<Gadget>(Arc::new(MemoryStore::new()))
            .entity_with_store::<Label>(Arc::new(MemoryStore::new())),
    };
    app.serve(addr).await?;
    Ok(())
}

/// One SQL store for both entities, on the database at `url`.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn sql_store(url: &str) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
    Ok(Arc::new(starmodel::sql::SqlStore::connect(url).await?))
}

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
async fn sql_store(_: &str) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
    Err(format!("{DATABASE_URL_VAR} is set, but this build has no SQL store (--features sqlite,postgres,mysql)").into())
}
