//! How a refusal is rendered: the right status, a message naming the problem, and
//! for Datastar requests a patch the page can show.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use starmodel_core::DispatchError;
use starmodel_core::entity::FieldError;
use starmodel_core::event::percent_encode_into;
use starmodel_datastar::{DatastarEvent, ElementPatchMode, PatchElements, PatchSignals};

/// The id of the page element that shows event errors (the page shell has one).
pub const ERROR_ELEMENT_ID: &str = "starmodel-error";

/// The response header carrying the error message, percent-encoded.
///
/// Datastar v1.0.4 ignores the body of any non-200 response, so the page shell's
/// glue reads this header to show the message.
pub const ERROR_HEADER: &str = "starmodel-error";

/// A failed StarModel request, rendered as JSON for API clients and as Datastar
/// patches (plus [`ERROR_HEADER`]) for Datastar requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    status: StatusCode,
    message: String,
    field: Option<String>,
    fields: Vec<FieldError>,
    datastar: bool,
}

impl ErrorResponse {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            fields: Vec::new(),
            datastar: false,
        }
    }

    /// Names the request field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Lists every field at fault with its own message (`"fields"` in the JSON
    /// body); the first also becomes the [`field`](Self::field) when none is set.
    ///
    /// ```
    /// use http::StatusCode;
    /// use starmodel_axum::ErrorResponse;
    /// use starmodel_core::entity::FieldError;
    ///
    /// let e = ErrorResponse::new(StatusCode::UNPROCESSABLE_ENTITY, "title must not be empty")
    ///     .fields(vec![FieldError { field: "title".into(), message: "must not be empty".into() }]);
    /// assert_eq!(e.field_errors()[0].field, "title");
    /// ```
    pub fn fields(mut self, fields: impl IntoIterator<Item = FieldError>) -> Self {
        self.fields.extend(fields);
        if self.field.is_none() {
            self.field = self.fields.first().map(|f| f.field.clone());
        }
        self
    }

    /// Answers in Datastar form.
    pub fn datastar(mut self, datastar: bool) -> Self {
        self.datastar = datastar;
        self
    }

    /// The request field at fault, if one is named.
    pub fn field_name(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Whether it answers in Datastar form.
    pub fn is_datastar(&self) -> bool {
        self.datastar
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Every field at fault with its message (empty when the error is not about
    /// fields).
    pub fn field_errors(&self) -> &[FieldError] {
        &self.fields
    }

    /// The rendered form of a dispatcher error: its status, message and fields.
    pub fn from_dispatch(e: &DispatchError) -> Self {
        let mut r = Self::new(e.status(), e.to_string());
        if let Some(field) = e.field() {
            r = r.field(field);
        }
        r.fields(e.field_errors())
    }

    fn json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "status": self.status.as_u16(),
            "message": self.message,
            "field": self.field,
        });
        if !self.fields.is_empty() {
            error["fields"] = serde_json::json!(self.fields);
        }
        serde_json::json!({ "error": error })
    }
}

/// What the error header keeps unencoded beyond URL-safe bytes, so it stays readable.
const HEADER_KEEPS: &[u8] = b" `()'!*,:;@/";

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(s, HEADER_KEEPS, &mut out);
    out
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let mut response = if self.datastar {
            let html = maud::html! {
                div id=(ERROR_ELEMENT_ID) role="alert" data-status=(self.status.as_u16()) {
                    (self.message)
                }
            };
            let mut body = Vec::with_capacity(256);
            let elements = PatchElements::new(html.into_string())
                .selector(format!("#{ERROR_ELEMENT_ID}"))
                .mode(ElementPatchMode::Outer);
            let signals =
                PatchSignals::from_value(&serde_json::json!({ "starmodel": self.json() }));
            // Both events are built from escaped text and fixed selectors: encoding
            // cannot fail, and an empty body would still carry the status and header.
            let _ = elements.write_to(&mut body);
            let _ = signals.write_to(&mut body);
            let mut r = Response::new(Body::from(body));
            r.headers_mut().extend(starmodel_datastar::sse_headers());
            if let Ok(v) = HeaderValue::from_str(&percent_encode(&self.message)) {
                r.headers_mut().insert(ERROR_HEADER, v);
            }
            r
        } else {
            let mut r = Response::new(Body::from(self.json().to_string()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            // The request pipeline renders it again in Datastar form when the
            // request is a Datastar request.
            r.extensions_mut().insert(self.clone());
            r
        };
        *response.status_mut() = self.status;
        response
    }
}

/// `404 Not Found: no todo 3`: reads and dispatches outside a request (a test,
/// a task, a command) can pass the error on with `?`.
impl ErrorResponse {
    /// The refusal as a small HTML page, for a browser that navigated here (the
    /// same status; the message; a link home). No script, no Datastar.
    pub fn into_html_response(self) -> Response {
        let title = format!(
            "{} {}",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or("Error")
        );
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    link rel="icon" href="data:,";
                    style { (maud::PreEscaped(ERROR_PAGE_STYLE)) }
                }
                body {
                    main {
                        h1 { (title) }
                        p #(ERROR_ELEMENT_ID) role="alert" data-status=(self.status.as_u16()) {
                            (self.message)
                        }
                        p { a href="/" { "Back to the start page" } }
                    }
                }
            }
        };
        let mut r = Response::new(Body::from(page.into_string()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        *r.status_mut() = self.status;
        r
    }
}

const ERROR_PAGE_STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2433;\
background:#f6f7fb}main{max-width:40rem;margin:4rem auto;padding:0 1.25rem}a{color:#4353ff}";

/// Whether the client asked for an HTML page (a browser navigating), not JSON or
/// an event stream.
pub fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

impl std::fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ErrorResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_response_is_an_error_with_its_status_and_message() {
        let e = ErrorResponse::new(StatusCode::NOT_FOUND, "no todo 3");
        assert_eq!(e.to_string(), "404 Not Found: no todo 3");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(boxed.to_string(), "404 Not Found: no todo 3");
    }

    #[test]
    fn field_messages_are_listed_in_the_json_body() {
        let plain = ErrorResponse::new(StatusCode::NOT_FOUND, "no such thing").json();
        assert_eq!(plain["error"]["field"], serde_json::Value::Null);
        assert!(plain["error"].get("fields").is_none());
        let e = ErrorResponse::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid").fields([
            FieldError {
                field: "title".into(),
                message: "must not be empty".into(),
            },
            FieldError {
                field: "email".into(),
                message: "must be an e-mail address".into(),
            },
        ]);
        let json = e.json();
        assert_eq!(json["error"]["field"], "title");
        assert_eq!(json["error"]["fields"][1]["field"], "email");
        assert_eq!(json["error"]["fields"][0]["message"], "must not be empty");
    }

    #[test]
    fn header_text_is_percent_encoded() {
        assert_eq!(percent_encode("missing `a` é\n"), "missing `a` %C3%A9%0A");
    }
}
