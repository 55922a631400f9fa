//! The JSON API over real HTTP: CRUD, paging, sorting and filters, every error
//! status with its JSON body, the OpenAPI document, and the same answers at the
//! edges on every store. One test binary; a module per concern.

#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod crud;
mod edges;
mod errors;
mod openapi;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde_json::{Value, json};
use starmodel::prelude::*;
use support::{Reply, Server, http, serve};
use uuid::Uuid;

/// A record with a client-chosen text id, rules on several fields and every
/// scalar type.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record", api)]
pub struct Book {
    /// Chosen by the client.
    #[entity(id)]
    pub id: String,
    /// Short.
    #[entity(validate(length(min = 1, max = 40)), index)]
    pub title: String,
    /// One to five.
    #[entity(validate(range(min = 1, max = 5)))]
    pub stars: u8,
    /// Whom to write to.
    #[entity(validate(email))]
    pub author_email: Option<String>,
    /// In euros.
    pub price: f64,
    /// When it came out.
    pub published: DateTime<Utc>,
    /// Can be bought.
    pub in_print: bool,
    /// Anything.
    pub tags: serde_json::Value,
}

#[events]
impl Book {
    #[event]
    fn reprint(&mut self) {
        self.in_print = true;
    }

    #[event]
    fn rate(&mut self, stars: u8) {
        self.stars = stars;
    }
}

/// A record whose UUID id the server picks.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record", api)]
pub struct Device {
    /// Generated when left out.
    #[entity(id)]
    pub id: Uuid,
    /// Printed on the box.
    #[entity(unique)]
    pub serial: i64,
    /// Its owner, if any.
    pub owner: Option<Uuid>,
}

#[events]
impl Device {}

/// A record entity without `api`: not served under `/api`.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record")]
pub struct Hidden {
    /// Key.
    #[entity(id)]
    pub id: String,
}

#[events]
impl Hidden {}

async fn server() -> Server {
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret([9u8; 32])
        .body_limit(512)
        .entity_with_store::<Book>(Arc::new(MemoryStore::new()))
        .entity_with_store::<Device>(Arc::new(MemoryStore::new()))
        .entity_with_store::<Hidden>(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    serve(app).await
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn send_json(s: &Server, method: &str, path: &str, body: &Value) -> Reply {
    http(s.addr, method, path, &[JSON], body.to_string().as_bytes()).await
}

async fn get(s: &Server, path: &str) -> Reply {
    http(s.addr, "GET", path, &[], b"").await
}

fn book(id: &str, title: &str, stars: u8) -> Value {
    json!({
        "id": id,
        "title": title,
        "stars": stars,
        "author_email": null,
        "price": 9.5,
        "published": "2024-05-01T12:00:00Z",
        "in_print": false,
        "tags": ["novel"],
    })
}

/// The status, and the error object of a JSON error body.
fn error(r: &Reply) -> (StatusCode, Value) {
    assert_eq!(r.headers["content-type"], "application/json", "{}", r.body);
    let json = r.json();
    assert_eq!(json["error"]["status"], r.status.as_u16(), "{}", r.body);
    assert!(json["error"]["message"].is_string(), "{}", r.body);
    (r.status, json["error"].clone())
}

fn field_names(error: &Value) -> BTreeSet<String> {
    error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}
