//! The JSON API over real HTTP: CRUD, paging, sorting and filters, every error
//! status with its JSON body, and the OpenAPI document.

#![allow(clippy::unwrap_used)]

mod support;

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

#[tokio::test]
async fn a_record_is_created_read_replaced_patched_and_deleted() {
    let s = server().await;
    let created = send_json(&s, "POST", "/api/book", &book("b 1/x", "Dune", 5)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers["location"], "/api/book/b%201%2Fx");
    assert_eq!(created.json(), book("b 1/x", "Dune", 5));

    let read = get(&s, "/api/book/b%201%2Fx").await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json(), book("b 1/x", "Dune", 5));

    // PUT: every field; the id comes from the path.
    let mut replacement = book("ignored", "Dune Messiah", 4);
    replacement.as_object_mut().unwrap().remove("id");
    replacement["author_email"] = json!("frank@herbert.example");
    let put = send_json(&s, "PUT", "/api/book/b%201%2Fx", &replacement).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.json()["title"], "Dune Messiah");
    assert_eq!(put.json()["id"], "b 1/x");

    // PATCH: a merge patch; `null` removes an optional field.
    let patch = json!({ "stars": 3, "author_email": null, "tags": { "genre": "sf" } });
    let patched = http(
        s.addr,
        "PATCH",
        "/api/book/b%201%2Fx",
        &[("content-type", "application/merge-patch+json")],
        patch.to_string().as_bytes(),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let v = patched.json();
    assert_eq!(
        (&v["stars"], &v["author_email"], &v["title"], &v["tags"]),
        (
            &json!(3),
            &Value::Null,
            &json!("Dune Messiah"),
            &json!({"genre": "sf"})
        )
    );
    assert_eq!(get(&s, "/api/book/b%201%2Fx").await.json(), v);

    let deleted = http(s.addr, "DELETE", "/api/book/b%201%2Fx", &[], b"").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, "");
    assert_eq!(
        error(&get(&s, "/api/book/b%201%2Fx").await).0,
        StatusCode::NOT_FOUND
    );
    let again = http(s.addr, "DELETE", "/api/book/b%201%2Fx", &[], b"").await;
    assert_eq!(error(&again).0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_uuid_id_left_out_is_generated() {
    let s = server().await;
    let r = send_json(&s, "POST", "/api/device", &json!({ "serial": 7 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id: Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id.get_version_num(), 4);
    assert_eq!(r.json()["owner"], Value::Null);
    assert_eq!(r.headers["location"], format!("/api/device/{id}"));
    assert_eq!(get(&s, &format!("/api/device/{id}")).await.json(), r.json());
    // A given one is kept, in its canonical form.
    let given = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
    let r = send_json(
        &s,
        "POST",
        "/api/device",
        &json!({ "id": given, "serial": 8 }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["id"], given.to_lowercase());
    // A malformed one is named.
    let r = send_json(
        &s,
        "POST",
        "/api/device",
        &json!({ "id": "nope", "serial": 9 }),
    )
    .await;
    let (status, e) = error(&r);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["fields"][0]["field"], "id");
}

#[tokio::test]
async fn a_taken_unique_value_is_a_409_on_the_memory_store_too() {
    let s = server().await;
    let first = send_json(&s, "POST", "/api/device", &json!({ "serial": 7 })).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = send_json(&s, "POST", "/api/device", &json!({ "serial": 8 })).await;
    let path = format!("/api/device/{}", second.json()["id"].as_str().unwrap());
    for (method, path, body) in [
        ("POST", "/api/device", json!({ "serial": 7 })),
        ("PATCH", path.as_str(), json!({ "serial": 7 })),
    ] {
        let (status, e) = error(&send_json(&s, method, path, &body).await);
        assert_eq!(status, StatusCode::CONFLICT, "{method} {e}");
        assert_eq!(e["message"], "serial is taken");
    }
    assert_eq!(get(&s, &path).await.json()["serial"], 8);
    let list = get(&s, "/api/device").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn lists_page_with_a_cursor_sort_and_filters() {
    let s = server().await;
    for (i, stars) in [3u8, 5, 1, 4, 2, 5, 3].into_iter().enumerate() {
        let mut b = book(&format!("b{i}"), &format!("title {i}"), stars);
        b["in_print"] = json!(i % 2 == 0);
        b["published"] = json!(format!("202{i}-01-01T00:00:00Z"));
        if i == 3 {
            b["author_email"] = json!("a@b.example");
        }
        let r = send_json(&s, "POST", "/api/book", &b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let ids = |r: &Reply| -> Vec<String> {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Pages of three by id, following `next` until it is null.
    let mut seen = Vec::new();
    let mut target = "/api/book?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let r = get(&s, &target).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        pages += 1;
        seen.extend(ids(&r));
        match r.json()["next"].as_str() {
            Some(cursor) => target = format!("/api/book?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["b0", "b1", "b2", "b3", "b4", "b5", "b6"]);
    assert_eq!(ids(&get(&s, "/api/book?offset=5").await), ["b5", "b6"]);
    assert_eq!(get(&s, "/api/book").await.json()["next"], Value::Null);

    // Sorting: largest first, ties by id.
    let r = get(&s, "/api/book?sort=-stars&limit=4").await;
    assert_eq!(ids(&r), ["b1", "b5", "b3", "b0"]);
    assert!(r.json()["next"].is_string());
    assert_eq!(
        ids(&get(&s, "/api/book?sort=title&limit=2").await),
        ["b0", "b1"]
    );

    // Filters, typed by the schema.
    assert_eq!(ids(&get(&s, "/api/book?stars=5").await), ["b1", "b5"]);
    assert_eq!(
        ids(&get(&s, "/api/book?stars%5Bge%5D=4&in_print=false").await),
        ["b1", "b3", "b5"]
    );
    assert_eq!(
        ids(&get(&s, "/api/book?stars[lt]=3&stars[ne]=1").await),
        ["b4"]
    );
    assert_eq!(
        ids(&get(&s, "/api/book?author_email[ne]=null").await),
        ["b3"]
    );
    assert_eq!(ids(&get(&s, "/api/book?author_email=null").await).len(), 6);
    assert_eq!(
        ids(&get(
            &s,
            "/api/book?published[gt]=2024-06-01T00:00:00Z&sort=-published"
        )
        .await),
        ["b6", "b5"]
    );
    assert_eq!(ids(&get(&s, "/api/book?title=title%202").await), ["b2"]);
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_the_parameter() {
    let s = server().await;
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("stars=abc", "stars"),
        ("stars=256", "stars"),
        ("stars%5Bgt%5D=1.5", "stars[gt]"),
        ("stars[like]=1", "stars[like]"),
        ("in_print=yes", "in_print"),
        ("published=yesterday", "published"),
        ("nosuch=1", "nosuch"),
        ("sort=nosuch", "sort"),
        ("sort=tags", "sort"),
        ("tags=x", "tags"),
        ("limit=1&limit=2", "limit"),
        ("cursor=", "cursor"),
        ("cursor=o", "cursor"),
        ("cursor=o%2B5", "cursor"),
        ("cursor=next", "cursor"),
    ] {
        let r = get(&s, &format!("/api/book?{query}")).await;
        let (status, e) = error(&r);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(e["field"], param, "{query}: {}", r.body);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{param}`")),
            "{query}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn every_error_answers_its_status_with_a_json_body() {
    let s = server().await;
    let post = |body: &'static [u8], headers: &'static [(&'static str, &'static str)]| {
        let addr = s.addr;
        async move { http(addr, "POST", "/api/book", headers, body).await }
    };

    // 400: malformed JSON, or JSON that is not an object.
    let (status, e) = error(&post(b"{\"id\": ", &[JSON]).await);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["message"].as_str().unwrap().contains("not valid JSON"),
        "{e}"
    );
    let (status, e) = error(&post(b"[1, 2]", &[JSON]).await);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["message"].as_str().unwrap().contains("JSON object"),
        "{e}"
    );

    // 404: unknown id; an entity without `api` has no API.
    assert_eq!(
        error(&get(&s, "/api/book/nope").await).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        error(&get(&s, "/api/hidden").await).0,
        StatusCode::NOT_FOUND
    );
    let put = send_json(&s, "PUT", "/api/book/nope", &book("nope", "t", 1)).await;
    assert_eq!(error(&put).0, StatusCode::NOT_FOUND);

    // 405 with the methods allowed.
    for (method, path, allow) in [
        ("DELETE", "/api/book", "GET, HEAD, POST"),
        ("POST", "/api/book/x", "GET, HEAD, PUT, PATCH, DELETE"),
        ("OPTIONS", "/api/book/x", "GET, HEAD, PUT, PATCH, DELETE"),
        ("POST", "/api/openapi.json", "GET, HEAD"),
    ] {
        let r = http(s.addr, method, path, &[], b"").await;
        assert_eq!(
            error(&r).0,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(r.headers["allow"], allow);
    }

    // 409: the id exists.
    let first = send_json(&s, "POST", "/api/book", &book("dup", "One", 1)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = send_json(&s, "POST", "/api/book", &book("dup", "Two", 2)).await;
    let (status, e) = error(&second);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(e["message"].as_str().unwrap().contains("`dup`"), "{e}");
    assert_eq!(get(&s, "/api/book/dup").await.json()["title"], "One");

    // 413: over the application's body limit (512 bytes here), declared or not.
    let mut big = book("big", "Big", 1);
    big["tags"] = json!("x".repeat(600));
    let (status, _) = error(&send_json(&s, "POST", "/api/book", &big).await);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // 415: not sent as JSON.
    let body = book("t", "T", 1).to_string().into_bytes();
    for headers in [&[("content-type", "text/plain")][..], &[][..]] {
        let r = http(s.addr, "POST", "/api/book", headers, &body).await;
        assert_eq!(error(&r).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    // A merge patch is not a whole record.
    let r = http(
        s.addr,
        "PUT",
        "/api/book/dup",
        &[("content-type", "application/merge-patch+json")],
        &body,
    )
    .await;
    assert_eq!(error(&r).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // 422: every field at fault, each with its own message.
    let bad = json!({
        "id": "bad",
        "title": "",
        "stars": 9,
        "author_email": "not an address",
        "price": "free",
        "published": "last tuesday",
        "tags": null,
        "colour": "red",
    });
    let r = send_json(&s, "POST", "/api/book", &bad).await;
    let (status, e) = error(&r);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        field_names(&e),
        [
            "author_email",
            "colour",
            "in_print",
            "price",
            "published",
            "stars",
            "title"
        ]
        .map(String::from)
        .into(),
        "{}",
        r.body
    );
    let message = |field: &str| {
        e["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(message("title"), "must not be empty");
    assert_eq!(message("stars"), "must be at most 5");
    assert_eq!(message("author_email"), "must be an e-mail address");
    assert_eq!(message("in_print"), "is required");
    assert_eq!(message("price"), "must be a number");
    assert!(message("colour").contains("not a field"));
    assert_eq!(
        error(&get(&s, "/api/book/bad").await).0,
        StatusCode::NOT_FOUND
    );

    // 422: a PUT naming another id, a PATCH removing a required field.
    let r = send_json(&s, "PUT", "/api/book/dup", &book("other", "T", 1)).await;
    let (status, e) = error(&r);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["fields"][0]["field"], "id");
    let r = send_json(&s, "PATCH", "/api/book/dup", &json!({ "title": null })).await;
    let (status, e) = error(&r);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["fields"][0]["field"], "title");
    let r = send_json(&s, "PATCH", "/api/book/dup", &json!({ "stars": 0 })).await;
    let (status, e) = error(&r);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["fields"][0]["message"], "must be at least 1");
    assert_eq!(get(&s, "/api/book/dup").await.json()["stars"], 1);
}

#[tokio::test]
async fn api_writes_and_events_see_the_same_records() {
    let s = server().await;
    let r = send_json(&s, "POST", "/api/book", &book("ev", "Evented", 2)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let event = http(
        s.addr,
        "POST",
        "/book/ev/reprint",
        &[("datastar-request", "true")],
        b"",
    )
    .await;
    assert_eq!(event.status, StatusCode::OK, "{}", event.body);
    assert_eq!(get(&s, "/api/book/ev").await.json()["in_print"], true);
    let head = http(s.addr, "HEAD", "/api/book/ev", &[], b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.body, "");
}

#[tokio::test]
async fn the_openapi_document_describes_paths_schemas_and_errors() {
    let s = server().await;
    let r = get(&s, "/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/json");
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/book",
            "/api/book/{id}",
            "/api/device",
            "/api/device/{id}",
            "/api/openapi.json"
        ]
        .into()
    );
    let book_path = &doc["paths"]["/api/book/{id}"];
    for method in ["get", "put", "patch", "delete"] {
        assert!(book_path[method]["operationId"].is_string(), "{method}");
    }
    assert_eq!(
        doc["paths"]["/api/book"]["post"]["responses"]["422"]["$ref"],
        "#/components/responses/UnprocessableEntity"
    );
    assert!(
        doc["paths"]["/api/book"]["post"]["responses"]["201"]["headers"]["Location"].is_object()
    );
    assert!(
        book_path["patch"]["requestBody"]["content"]["application/merge-patch+json"].is_object()
    );
    assert_eq!(
        book_path["delete"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["204", "403", "404", "503"]
    );

    let schemas = &doc["components"]["schemas"];
    let b = &schemas["Book"];
    assert_eq!(
        b["required"],
        json!([
            "id",
            "title",
            "stars",
            "price",
            "published",
            "in_print",
            "tags"
        ])
    );
    let p = &b["properties"];
    assert_eq!(
        p["stars"],
        json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 5})
    );
    assert_eq!(
        p["title"],
        json!({"type": "string", "minLength": 1, "maxLength": 40})
    );
    assert_eq!(
        p["author_email"],
        json!({"type": "string", "format": "email", "nullable": true})
    );
    assert_eq!(p["price"], json!({"type": "number", "format": "double"}));
    assert_eq!(
        p["published"],
        json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(p["in_print"], json!({"type": "boolean"}));
    assert!(p["tags"].get("type").is_none(), "any JSON value");
    assert_eq!(schemas["BookCreate"]["additionalProperties"], false);
    assert!(schemas["BookReplace"]["properties"].get("id").is_none());
    assert!(schemas["BookPatch"].get("required").is_none());

    let d = &schemas["Device"]["properties"];
    assert_eq!(d["id"], json!({"type": "string", "format": "uuid"}));
    assert_eq!(
        d["serial"],
        json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX})
    );
    assert_eq!(d["owner"]["nullable"], true);
    assert_eq!(schemas["DeviceCreate"]["required"], json!(["serial"]));

    let error = &schemas["Error"]["properties"]["error"];
    assert_eq!(error["required"], json!(["status", "message"]));
    assert_eq!(
        error["properties"]["fields"]["items"]["$ref"],
        "#/components/schemas/FieldError"
    );
    assert_eq!(
        doc["components"]["parameters"]["Cursor"]["schema"]["pattern"],
        "^o[0-9]{1,18}$"
    );
    let limit = &doc["components"]["parameters"]["Limit"]["schema"];
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(1000))
    );
    let params = doc["paths"]["/api/book"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let named = |n: &str| params.iter().find(|p| p["name"] == n).cloned();
    assert_eq!(named("stars[gt]").unwrap()["schema"]["maximum"], 255);
    assert!(named("tags").is_none(), "JSON fields are not filters");
    assert!(
        named("sort").unwrap()["schema"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("-published"))
    );
}

/// A record with a UUID id, a `u64`, a timestamp and a `serde_json::Value`: the
/// fields whose edges `scripts/api-fuzz` found answered differently, or with a
/// 5xx, on SQL stores.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub struct Meter {
    /// Generated.
    #[entity(id)]
    pub id: Uuid,
    /// Kept in a signed 64-bit column by SQL stores.
    pub reading: u64,
    /// Read at.
    pub at: DateTime<Utc>,
    /// Anything, `null` included.
    pub extra: serde_json::Value,
}

#[events]
impl Meter {}

/// The same answers whatever the store: 404 for a path id no record can have,
/// 422 naming the field for integers and timestamps a store cannot hold, JSON
/// `null` kept in a non-`Option` JSON field.
async fn edges_answer_alike(store: Arc<dyn starmodel::core::Store>) {
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret([9u8; 32])
        .sql_store(store)
        .entity::<Meter>()
        .build()
        .unwrap();
    let s = serve(app).await;
    let meter = |reading: Value, at: &str| json!({"reading": reading, "at": at, "extra": null});

    let r = send_json(
        &s,
        "POST",
        "/api/meter",
        &meter(json!(i64::MAX), "2024-05-01T12:00:00Z"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    assert_eq!(created["extra"], Value::Null);
    let id = created["id"].as_str().unwrap();
    assert_eq!(get(&s, &format!("/api/meter/{id}")).await.json(), created);
    // The id in another spelling names the same record on every store.
    let upper = id.to_uppercase().replace('-', "");
    assert_eq!(
        get(&s, &format!("/api/meter/{upper}")).await.json(),
        created
    );
    let r = send_json(&s, "PATCH", &format!("/api/meter/{upper}"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A browser's cross-site write is refused, like a cross-site event.
    let path = format!("/api/meter/{id}");
    let r = http(
        s.addr,
        "DELETE",
        &path,
        &[("sec-fetch-site", "cross-site")],
        b"",
    )
    .await;
    assert_eq!(error(&r).0, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(get(&s, &path).await.status, StatusCode::OK, "still there");

    for (method, body) in [
        ("GET", None),
        ("DELETE", None),
        ("PATCH", Some(json!({}))),
        ("PUT", Some(meter(json!(1), "2024-05-01T12:00:00Z"))),
    ] {
        let r = match &body {
            Some(b) => send_json(&s, method, "/api/meter/not-a-uuid", b).await,
            None => http(s.addr, method, "/api/meter/not-a-uuid", &[], b"").await,
        };
        assert_eq!(error(&r).0, StatusCode::NOT_FOUND, "{method}: {}", r.body);
    }

    for (body, field) in [
        (
            meter(json!(i64::MAX as u64 + 1), "2024-05-01T12:00:00Z"),
            "reading",
        ),
        (meter(json!(1), "9999-12-31T23:00:00-01:00"), "at"),
        (meter(json!(1), "0000-01-01T00:00:00+00:01"), "at"),
    ] {
        let r = send_json(&s, "POST", "/api/meter", &body).await;
        let (status, e) = error(&r);
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(field_names(&e), [field.to_owned()].into(), "{}", r.body);
    }
    let r = send_json(
        &s,
        "PATCH",
        &format!("/api/meter/{id}"),
        &json!({"reading": u64::MAX}),
    )
    .await;
    assert_eq!(error(&r).0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    let items = get(&s, "/api/meter").await.json()["items"].clone();
    assert_eq!(items, json!([created]), "nothing refused was written");
    let doc = get(&s, "/api/openapi.json").await.json();
    let reading = &doc["components"]["schemas"]["Meter"]["properties"]["reading"];
    assert_eq!(reading["maximum"], i64::MAX, "{reading}");
}

/// A record with a text id and optional text: what PostgreSQL (U+0000), MariaDB
/// (`TEXT` is 65,535 bytes; `utf8mb4_bin` padded trailing spaces) hold.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub struct Tag {
    /// Chosen by the client.
    #[entity(id)]
    pub name: String,
    /// Unbounded.
    pub note: Option<String>,
}

#[events]
impl Tag {}

/// Where [`text_edges`] runs (SQL variants only with the backend features).
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(dead_code)]
enum Engine {
    Memory,
    Sqlite,
    Postgres,
    MySql,
}

/// Text at a backend's edges: kept, or refused with a 4xx naming the field, never
/// a 5xx.
async fn text_edges(store: Arc<dyn starmodel::core::Store>, engine: Engine) {
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret([9u8; 32])
        .sql_store(store)
        .entity::<Tag>()
        .build()
        .unwrap();
    let s = serve(app).await;
    let post = |name: &str, note: Value| {
        let body = json!({"name": name, "note": note});
        let s = &s;
        async move { send_json(s, "POST", "/api/tag", &body).await }
    };
    let created = |r: &Reply| assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let refused = |r: &Reply, status: StatusCode, field: &str| {
        let (got, e) = error(r);
        assert_eq!((got, &e["field"]), (status, &json!(field)), "{}", r.body);
    };

    created(&post("pad", Value::Null).await);
    created(&post("pad ", json!("trailing")).await);
    assert_eq!(get(&s, "/api/tag/pad%20").await.json()["note"], "trailing");
    assert_eq!(get(&s, "/api/tag/pad").await.json()["note"], Value::Null);

    let r = post("nul", json!("a\0b")).await;
    let r2 = get(&s, "/api/tag?note=a%00b").await;
    if engine == Engine::Postgres {
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "note");
        refused(&r2, StatusCode::BAD_REQUEST, "note");
        refused(
            &post("a\0", Value::Null).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        );
    } else {
        created(&r);
        assert_eq!(r2.json()["items"][0]["name"], "nul", "{}", r2.body);
        created(&post("a\0", Value::Null).await);
    }
    let r = get(&s, "/api/tag/a%00").await;
    if engine == Engine::Postgres {
        assert_eq!(error(&r).0, StatusCode::NOT_FOUND, "{}", r.body);
    } else {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    let r = post("long", json!("x".repeat(70_000))).await;
    if engine == Engine::MySql {
        refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "note");
    } else {
        created(&r);
    }
}

#[tokio::test]
async fn edges_answer_alike_on_a_memory_store() {
    edges_answer_alike(Arc::new(MemoryStore::new())).await;
    text_edges(Arc::new(MemoryStore::new()), Engine::Memory).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn edges_answer_alike_on_a_sqlite_store() {
    use starmodel::sql::{SqlStore, testing::TempDatabase};
    let db = TempDatabase::sqlite().unwrap();
    edges_answer_alike(Arc::new(SqlStore::connect(db.url()).await.unwrap())).await;
    let db = TempDatabase::sqlite().unwrap();
    text_edges(
        Arc::new(SqlStore::connect(db.url()).await.unwrap()),
        Engine::Sqlite,
    )
    .await;
}

/// Both edge tests, each on a database of its own on the server `var` names
/// (skipped with a notice when unset, except under `CI=true`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn on_server(var: &str, engine: Engine) {
    use starmodel::sql::{SqlStore, testing::TempDatabase};
    let Some(db) = TempDatabase::from_env(var).await else {
        return;
    };
    edges_answer_alike(Arc::new(SqlStore::connect(db.url()).await.unwrap())).await;
    let db = TempDatabase::from_env(var).await.unwrap();
    text_edges(Arc::new(SqlStore::connect(db.url()).await.unwrap()), engine).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn edges_answer_alike_on_a_postgres_store() {
    on_server("DATABASE_URL_POSTGRES", Engine::Postgres).await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn edges_answer_alike_on_a_mysql_store() {
    on_server("DATABASE_URL_MYSQL", Engine::MySql).await;
}
