//! Every error the API answers: its status, its JSON body, the parameter or field it names.

use super::*;

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
