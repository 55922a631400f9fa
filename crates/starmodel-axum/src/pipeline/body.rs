//! Reading a request body within the application's limit: the one body reader
//! of every StarModel route.

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::rejection::{BodyTooLarge, MalformedBody, Rejection};

/// Reads the whole body, refusing one larger than `limit` bytes (413) before
/// reading when its `Content-Length` says so, and as soon as it passes the limit
/// otherwise.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Rejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyTooLarge { limit }.into());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyTooLarge { limit }.into())
        }
        Err(e) => Err(MalformedBody(format!("request body could not be read: {e}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_past_the_limit_are_413_declared_or_not() {
        let mut declared = HeaderMap::new();
        declared.insert(header::CONTENT_LENGTH, "100".parse().unwrap());
        let e = read_body(&declared, Body::from("x"), 10).await.unwrap_err();
        assert_eq!(e.status(), 413);
        let e = read_body(&HeaderMap::new(), Body::from("x".repeat(11)), 10)
            .await
            .unwrap_err();
        assert_eq!(e.status(), 413);
        let ok = read_body(&HeaderMap::new(), Body::from("x".repeat(10)), 10).await;
        assert_eq!(ok.unwrap().len(), 10);
    }
}
