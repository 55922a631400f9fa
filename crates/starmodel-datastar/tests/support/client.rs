//! A minimal HTTP/1.1 client over a real TCP connection, sending requests the way the
//! Datastar browser client does.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What came back from the server.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// Sends `signals` (JSON text) to `/test`: in the `datastar` query parameter for GET and
/// DELETE, as the body otherwise.
pub(crate) async fn send(addr: SocketAddr, method: Method, signals: &str) -> Reply {
    let in_query = method == Method::GET || method == Method::DELETE;
    let mut request = Request::builder()
        .method(method)
        .header(HOST, addr.to_string())
        .header(ACCEPT, "text/event-stream")
        .header("Datastar-Request", "true");
    let body = if in_query {
        request = request.uri(format!("/test?datastar={}", percent_encode(signals)));
        Bytes::new()
    } else {
        request = request
            .uri("/test")
            .header(CONTENT_TYPE, "application/json");
        Bytes::copy_from_slice(signals.as_bytes())
    };
    let request = request.body(Full::new(body)).expect("valid request");

    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().expect("ascii content-type").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("whole body")
        .to_bytes();
    Reply {
        status,
        content_type,
        body: String::from_utf8(body.to_vec()).expect("utf-8 body"),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
