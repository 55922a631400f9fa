//! Every way StarModel refuses a request, as types that know their status.
//!
//! One type per failure ([`CrossSite`], [`MethodNotAllowed`], [`BodyTooLarge`],
//! [`MalformedBody`], [`UnsupportedMediaType`], [`BadParameter`], [`NotFound`],
//! [`NotServed`], [`Unavailable`], [`LiveUnavailable`], [`Internal`]), composed into [`Rejection`], and
//! rendered in one place: [`ErrorResponse`], whose `IntoResponse` answers JSON to
//! API and plain clients and a Datastar patch plus the [`ERROR_HEADER`] to
//! Datastar requests (the request pipeline picks the form for each request).
//!
//! ```
//! use axum::response::IntoResponse;
//! use starmodel_axum::rejection::{BodyTooLarge, Rejection};
//!
//! let response = Rejection::from(BodyTooLarge { limit: 64 }).into_response();
//! assert_eq!(response.status(), 413);
//! ```

mod response;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use starmodel_core::DispatchError;

pub use response::{ERROR_ELEMENT_ID, ERROR_HEADER, ErrorResponse, accepts_html};

/// A write from another site's page: no `Datastar-Request` header and a browser
/// saying the request is cross-site (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cross-site {what} refused: {hint}")]
pub struct CrossSite {
    /// What was refused (`event request`, `API write`).
    pub what: &'static str,
    /// How to send it instead.
    pub hint: &'static str,
}

/// The route exists, but not for this method (405 with `Allow`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} answers {allow}, not {method}")]
pub struct MethodNotAllowed {
    /// What the route is (`event `increment` of `counter``, `this path`).
    pub what: String,
    /// The method the request used.
    pub method: http::Method,
    /// The methods the route answers, as the `Allow` header lists them.
    pub allow: &'static str,
}

/// The body is larger than the application's limit (413).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request body is larger than the {limit}-byte limit")]
pub struct BodyTooLarge {
    /// The limit, in bytes.
    pub limit: usize,
}

/// The body could not be read or is not what the route takes (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedBody(pub String);

/// The body is of a media type the route does not take (415).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: send {expected}", match .sent { Some(m) => format!("content type `{m}` is not supported"), None => "the request has no content type".to_owned() })]
pub struct UnsupportedMediaType {
    /// The media type sent, if any.
    pub sent: Option<String>,
    /// What to send instead.
    pub expected: String,
}

/// A path or query parameter the route cannot use (400), named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BadParameter {
    /// The parameter at fault, when one is.
    pub field: Option<String>,
    /// What is wrong with it.
    pub message: String,
}

impl BadParameter {
    /// Query parameter `param` is wrong: the message reads "query parameter `param` {problem}".
    pub fn query(param: &str, problem: impl std::fmt::Display) -> Self {
        Self {
            field: Some(param.to_owned()),
            message: format!("query parameter `{param}` {problem}"),
        }
    }
}

/// Nothing is there: no route, entity, event or record of that name (404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

impl NotFound {
    /// No route for this method and path.
    pub fn route(method: &http::Method, path: &str) -> Self {
        Self(format!("no route for {method} {path}"))
    }

    /// Entity `entity` has no event `event`.
    pub fn event(entity: &str, event: &str) -> Self {
        Self(format!("entity `{entity}` has no event `{event}`"))
    }

    /// No record `id` of `entity`.
    pub fn record(entity: &str, id: &str) -> Self {
        Self(format!("no `{entity}` with id `{id}`"))
    }
}

/// The request reached code that needs the StarModel application, outside it:
/// an extractor on a route the StarModel router does not serve, an entity or a
/// view that is not registered (500: a mistake in the application).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotServed(pub String);

/// The server cannot answer now: shutting down, a store down (503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Something failed that the client cannot fix: a panic, stored state that does
/// not match its type, an answer that could not be encoded (500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Internal(pub String);

/// The live stream cannot load what the page shows (the store's status: 503
/// when it is down).
#[derive(Debug, thiserror::Error)]
#[error("{what} unavailable: {source}")]
pub struct LiveUnavailable {
    /// What could not be loaded (`live state`, `live view `todos``).
    pub what: String,
    /// Why.
    pub source: DispatchError,
}

/// Any refusal of a StarModel route. Each variant knows its status
/// ([`status`](Self::status)); all render through [`ErrorResponse`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// 403.
    #[error(transparent)]
    CrossSite(#[from] CrossSite),
    /// 405.
    #[error(transparent)]
    MethodNotAllowed(#[from] MethodNotAllowed),
    /// 413.
    #[error(transparent)]
    BodyTooLarge(#[from] BodyTooLarge),
    /// 400.
    #[error(transparent)]
    MalformedBody(#[from] MalformedBody),
    /// 415.
    #[error(transparent)]
    UnsupportedMediaType(#[from] UnsupportedMediaType),
    /// 400.
    #[error(transparent)]
    BadParameter(#[from] BadParameter),
    /// 404.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// 500.
    #[error(transparent)]
    NotServed(#[from] NotServed),
    /// 503.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// 500.
    #[error(transparent)]
    Internal(#[from] Internal),
    /// The status of its cause.
    #[error(transparent)]
    LiveUnavailable(#[from] LiveUnavailable),
    /// The dispatcher's verdict: 404, 422, 500 or 503 as [`DispatchError::status`] says.
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
}

impl Rejection {
    /// The status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::CrossSite(e) => e.status(),
            Rejection::MethodNotAllowed(e) => e.status(),
            Rejection::BodyTooLarge(e) => e.status(),
            Rejection::MalformedBody(e) => e.status(),
            Rejection::UnsupportedMediaType(e) => e.status(),
            Rejection::BadParameter(e) => e.status(),
            Rejection::NotFound(e) => e.status(),
            Rejection::NotServed(e) => e.status(),
            Rejection::Unavailable(e) => e.status(),
            Rejection::Internal(e) => e.status(),
            Rejection::LiveUnavailable(e) => e.status(),
            Rejection::Dispatch(e) => e.status(),
        }
    }

    /// The rendered form, to adjust (for Datastar requests the pipeline does it).
    pub fn to_error_response(&self) -> ErrorResponse {
        match self {
            Rejection::Dispatch(e) => ErrorResponse::from_dispatch(e),
            Rejection::BadParameter(BadParameter {
                field: Some(field), ..
            }) => ErrorResponse::new(self.status(), self.to_string()).field(field.clone()),
            _ => ErrorResponse::new(self.status(), self.to_string()),
        }
    }
}

impl From<Rejection> for ErrorResponse {
    fn from(r: Rejection) -> Self {
        r.to_error_response()
    }
}

impl From<DispatchError> for ErrorResponse {
    fn from(e: DispatchError) -> Self {
        ErrorResponse::from_dispatch(&e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = self.to_error_response().into_response();
        if let Rejection::MethodNotAllowed(m) = &self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(m.allow));
        }
        response
    }
}

macro_rules! rejection_types {
    ($($ty:ty => $status:ident),* $(,)?) => {$(
        impl $ty {
            /// The status this rejection answers with.
            pub fn status(&self) -> StatusCode {
                StatusCode::$status
            }
        }

        impl IntoResponse for $ty {
            fn into_response(self) -> Response {
                Rejection::from(self).into_response()
            }
        }
    )*};
}

rejection_types!(
    CrossSite => FORBIDDEN,
    MethodNotAllowed => METHOD_NOT_ALLOWED,
    BodyTooLarge => PAYLOAD_TOO_LARGE,
    MalformedBody => BAD_REQUEST,
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE,
    BadParameter => BAD_REQUEST,
    NotFound => NOT_FOUND,
    NotServed => INTERNAL_SERVER_ERROR,
    Unavailable => SERVICE_UNAVAILABLE,
    Internal => INTERNAL_SERVER_ERROR,
);

impl LiveUnavailable {
    /// The status of its cause (503 when a store is down).
    pub fn status(&self) -> StatusCode {
        self.source.status()
    }
}

impl IntoResponse for LiveUnavailable {
    fn into_response(self) -> Response {
        Rejection::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(r: impl Into<Rejection>) -> (u16, String) {
        let r = r.into();
        let text = r.to_string();
        let response = r.into_response();
        (response.status().as_u16(), text)
    }

    #[test]
    fn every_rejection_knows_its_status_and_names_the_problem() {
        let cases: Vec<(Rejection, u16, &str)> = vec![
            (
                CrossSite {
                    what: "event request",
                    hint: "send `Datastar-Request: true`",
                }
                .into(),
                403,
                "cross-site event request refused: send `Datastar-Request: true`",
            ),
            (
                MethodNotAllowed {
                    what: "event `go` of `car`".into(),
                    method: http::Method::GET,
                    allow: "POST",
                }
                .into(),
                405,
                "event `go` of `car` answers POST, not GET",
            ),
            (
                BodyTooLarge { limit: 10 }.into(),
                413,
                "request body is larger than the 10-byte limit",
            ),
            (
                MalformedBody("request body must be a JSON object".into()).into(),
                400,
                "request body must be a JSON object",
            ),
            (
                UnsupportedMediaType {
                    sent: None,
                    expected: "application/json".into(),
                }
                .into(),
                415,
                "the request has no content type: send application/json",
            ),
            (
                BadParameter::query("limit", "must be an integer").into(),
                400,
                "query parameter `limit` must be an integer",
            ),
            (
                NotFound::event("car", "fly").into(),
                404,
                "entity `car` has no event `fly`",
            ),
            (NotServed("no session".into()).into(), 500, "no session"),
            (
                Unavailable("the server is shutting down".into()).into(),
                503,
                "the server is shutting down",
            ),
            (
                Internal("the request failed".into()).into(),
                500,
                "the request failed",
            ),
            (
                LiveUnavailable {
                    what: "live state".into(),
                    source: starmodel_core::StoreError::Unavailable("down".into()).into(),
                }
                .into(),
                503,
                "live state unavailable: store unavailable: down",
            ),
            (
                DispatchError::UnknownEntity("car".into()).into(),
                404,
                "unknown entity `car`",
            ),
        ];
        for (rejection, status, message) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
            assert_eq!(status_of(rejection), (status, message.to_owned()));
        }
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let r = MethodNotAllowed {
            what: "this path".into(),
            method: http::Method::DELETE,
            allow: "GET, HEAD",
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    }

    #[test]
    fn a_bad_parameter_names_its_field() {
        let e = Rejection::from(BadParameter::query("sort", "cannot sort by `tags`"))
            .to_error_response();
        assert_eq!(e.field_name(), Some("sort"));
        assert_eq!(e.message(), "query parameter `sort` cannot sort by `tags`");
    }
}
