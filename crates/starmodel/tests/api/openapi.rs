//! The OpenAPI document: paths, schemas and error responses.

use super::*;

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
            "/api/book/{id}/rate",
            "/api/book/{id}/reprint",
            "/api/device",
            "/api/device/{id}",
            "/api/openapi.json"
        ]
        .into()
    );
    // An update event is an operation, its parameters the body's properties.
    let rate = &doc["paths"]["/api/book/{id}/rate"]["post"];
    assert_eq!(rate["operationId"], "eventBookRate");
    let props = &rate["requestBody"]["content"]["application/json"]["schema"]["properties"];
    assert!(props["stars"].is_object(), "{rate}");
    assert!(rate["responses"]["204"].is_object() && rate["responses"]["422"].is_object());
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
    // Several fields, comma-separated, each optionally `-`: a pattern over the
    // sortable fields (was an enum of one field each).
    let pattern = named("sort").unwrap()["schema"]["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        pattern.starts_with("^-?(") && pattern.ends_with(")*$"),
        "{pattern}"
    );
    assert!(
        pattern.contains("published") && !pattern.contains("tags"),
        "{pattern}"
    );
}
