//! The same-site write policy: StarModel's writes come from this site's pages or
//! from clients that are not browsers.

use http::{HeaderMap, header};

/// Whether a request comes from this site: a Datastar request header (which a
/// cross-site form cannot send without a CORS preflight), a same-origin fetch as
/// the browser reports it, or no browser header at all (curl, a test, a server).
pub fn same_site(headers: &HeaderMap) -> bool {
    if starmodel_datastar::is_datastar_request(headers) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return site == "same-origin";
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (None, _) => true,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(same_site(&headers(&[("datastar-request", "true")])));
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(same_site(&headers(&[
            ("origin", "http://a:1"),
            ("host", "a:1")
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "http://evil"),
            ("host", "a:1")
        ])));
        assert!(same_site(&headers(&[])));
    }
}
