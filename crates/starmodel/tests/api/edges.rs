//! Edges the fuzz run found: the same answers on the memory store and every SQL store.

use super::*;

/// A record with a UUID id, a `u64`, a timestamp and a `serde_json::Value`: the
/// fields whose edges `scripts/api-fuzz` found answered differently, or with a
/// 5xx, on SQL stores.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record", api)]
pub(crate) struct Meter {
    /// Generated.
    #[entity(id)]
    pub(crate) id: Uuid,
    /// Kept in a signed 64-bit column by SQL stores.
    pub(crate) reading: u64,
    /// Read at.
    pub(crate) at: DateTime<Utc>,
    /// Anything, `null` included.
    pub(crate) extra: serde_json::Value,
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
pub(crate) struct Tag {
    /// Chosen by the client.
    #[entity(id)]
    pub(crate) name: String,
    /// Unbounded.
    pub(crate) note: Option<String>,
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
