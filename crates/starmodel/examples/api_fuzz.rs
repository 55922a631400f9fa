//! A small JSON API for fuzzing: two record entities with every field type,
//! validation rules and a unique field, in memory stores, served at the address
//! given as the first argument (default `127.0.0.1:5002`).
//!
//! `scripts/api-fuzz` runs it and points schemathesis at
//! `/api/openapi.json`; by hand:
//!
//! ```text
//! cargo run -p starmodel --example api_fuzz -- 127.0.0.1:5002
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};
use starmodel::prelude::*;
use uuid::Uuid;

/// Every field type the API maps, with rules.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record", api)]
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
#[entity(scope = "record", api)]
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
impl Label {}

#[tokio::main]
async fn main() -> Result<(), starmodel::ServeError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5002".to_owned());
    StarModel::new()
        .secret("api fuzz secret, at least 32 bytes long")
        .entity_with_store::<Gadget>(Arc::new(MemoryStore::new()))
        .entity_with_store::<Label>(Arc::new(MemoryStore::new()))
        .serve(addr)
        .await
}
