//! Create, read, replace, patch, delete; paging, sorting and filters; writes shared with events.

use super::*;

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

/// Books `b0`..`b6`: stars 3, 5, 1, 4, 2, 5, 3; in print when the index is even;
/// published 2020..2026; only `b3` has an author email.
async fn seven_books(s: &Server) {
    for (i, stars) in [3u8, 5, 1, 4, 2, 5, 3].into_iter().enumerate() {
        let mut b = book(&format!("b{i}"), &format!("title {i}"), stars);
        b["in_print"] = json!(i % 2 == 0);
        b["published"] = json!(format!("202{i}-01-01T00:00:00Z"));
        if i == 3 {
            b["author_email"] = json!("a@b.example");
        }
        let r = send_json(s, "POST", "/api/book", &b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

#[tokio::test]
async fn lists_page_with_a_cursor_sort_and_filters() {
    let s = server().await;
    seven_books(&s).await;
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
async fn app_find_reads_an_id_as_the_routes_do() {
    use starmodel::core::{EntityKey, Record, Store};
    let store = Arc::new(MemoryStore::new());
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret([9u8; 32])
        .entity_with_store::<Device>(store.clone())
        .build()
        .unwrap();
    let id = Uuid::new_v4();
    let value = json!({"id": id, "serial": 7, "owner": null});
    let key = EntityKey::new("device", id.to_string());
    store
        .import(&key, &Record { version: 1, value })
        .await
        .unwrap();

    let upper = id.to_string().to_uppercase();
    let found = Device::find(&app, &upper).await.unwrap().unwrap();
    assert_eq!(found.serial, 7);
    assert_eq!(Device::find(&app, "not-a-uuid").await.unwrap(), None);
    assert_eq!(Device::all(&app).await.unwrap(), vec![found]);
}

#[tokio::test]
async fn lists_sort_by_several_fields_in_turn() {
    let s = server().await;
    seven_books(&s).await;
    let ids = |r: Reply| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Out of print first, then by stars; ties by id.
    assert_eq!(
        ids(get(&s, "/api/book?sort=in_print,stars").await),
        ["b3", "b1", "b5", "b2", "b4", "b0", "b6"]
    );
    assert_eq!(
        ids(get(&s, "/api/book?sort=-in_print,-stars&limit=3").await),
        ["b0", "b6", "b4"]
    );
    for bad in ["sort=stars,", "sort=stars,nosuch", "sort=stars,tags"] {
        let r = get(&s, &format!("/api/book?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn events_run_through_the_api_with_their_own_checks() {
    let s = server().await;
    let r = send_json(&s, "POST", "/api/book", &book("b1", "Dune", 3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // No parameters: no body needed.
    let r = http(s.addr, "POST", "/api/book/b1/reprint", &[], b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["in_print"], true);

    let r = send_json(&s, "POST", "/api/book/b1/rate", &json!({"stars": 4})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["stars"], 4);
    assert_eq!(get(&s, "/api/book/b1").await.json()["stars"], 4);

    // The entity's rules hold on this path too, and nothing changes.
    let (status, e) =
        error(&send_json(&s, "POST", "/api/book/b1/rate", &json!({"stars": 9})).await);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, e) =
        error(&send_json(&s, "POST", "/api/book/b1/rate", &json!({"stars": "x"})).await);
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("stars")),
        "{e}"
    );
    let (status, _) = error(&send_json(&s, "POST", "/api/book/b1/rate", &json!({})).await);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get(&s, "/api/book/b1").await.json()["stars"], 4);

    let (status, _) =
        error(&send_json(&s, "POST", "/api/book/nope/rate", &json!({"stars": 2})).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = get(&s, "/api/book/b1/rate").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["allow"], "POST");
    let r = http(
        s.addr,
        "POST",
        "/api/book/b1/rate",
        &[("content-type", "text/plain")],
        b"stars=2",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// Writes only through its events: no raw create, replace, patch or delete.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(scope = "record", api = "events")]
pub(crate) struct Account {
    /// Chosen on opening.
    #[entity(id)]
    pub id: String,
    /// Never below zero.
    pub balance: i64,
}

#[events]
impl Account {
    #[event]
    fn open(id: String) -> Self {
        Account { id, balance: 0 }
    }

    #[event]
    fn withdraw(&mut self, amount: i64) -> Result<(), String> {
        if amount <= 0 || amount > self.balance {
            return Err(format!("cannot withdraw {amount} from {}", self.balance));
        }
        self.balance -= amount;
        Ok(())
    }

    #[event]
    fn deposit(&mut self, amount: i64) -> Result<(), String> {
        if amount <= 0 {
            return Err("a deposit is positive".into());
        }
        self.balance += amount;
        Ok(())
    }
}

#[tokio::test]
async fn an_events_only_entity_cannot_be_written_around_its_events() {
    let app = StarModel::new()
        .mount(starmodel::api::JsonApi)
        .secret([9u8; 32])
        .entity_with_store::<Account>(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let input = starmodel::core::EventInput::new("account").with_signals(json!({"id": "a1"}));
    app.dispatch("account", "open", "", &input).await.unwrap();
    let s = serve(app).await;

    let account = json!({"id": "a1", "balance": 1000});
    for (method, path) in [
        ("POST", "/api/account"),
        ("PUT", "/api/account/a1"),
        ("PATCH", "/api/account/a1"),
        ("DELETE", "/api/account/a1"),
    ] {
        let r = send_json(&s, method, path, &account).await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.headers["allow"], "GET, HEAD", "{method} {path}");
    }
    let r = send_json(
        &s,
        "POST",
        "/api/account/a1/deposit",
        &json!({"amount": 30}),
    )
    .await;
    assert_eq!(r.json()["balance"], 30, "{}", r.body);
    let r = send_json(
        &s,
        "POST",
        "/api/account/a1/withdraw",
        &json!({"amount": 50}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(get(&s, "/api/account/a1").await.json()["balance"], 30);
    assert_eq!(get(&s, "/api/account").await.json()["items"][0]["id"], "a1");

    let doc = get(&s, "/api/openapi.json").await.json();
    let paths = &doc["paths"];
    assert!(paths["/api/account"]["get"].is_object() && paths["/api/account"]["post"].is_null());
    let one = &paths["/api/account/{id}"];
    assert!(one["get"].is_object() && one["put"].is_null() && one["delete"].is_null());
    assert!(paths["/api/account/{id}/deposit"]["post"].is_object());
}
