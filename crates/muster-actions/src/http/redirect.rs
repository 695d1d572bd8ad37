//! Following a redirect: where the next hop goes and what it may carry.
//!
//! Redirects are followed by hand (not by reqwest's policy) so that every hop goes through the
//! guard and so that a hop to another origin carries none of the request's credentials: only
//! headers known to hold none are kept (`Authorization`, `Cookie`, API-key headers and any
//! other are dropped). Methods change as browsers do: 303 turns everything but HEAD into GET,
//! 301 and 302 turn POST into GET, 307 and 308 keep the method and the body.

use muster_engine::ActionError;
use reqwest::header::{self, HeaderMap, HeaderName};
use reqwest::{Method, StatusCode};
use url::Url;

use super::send::OutboundRequest;

/// Headers a cross-origin hop keeps; they describe the request, not who sends it.
const CROSS_ORIGIN_HEADERS: &[HeaderName] = &[
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::CONTENT_LANGUAGE,
    header::CONTENT_TYPE,
    header::USER_AGENT,
];

/// Also kept: the key that lets the far end de-duplicate retries; it is the task id.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Headers that describe a body, dropped when the body is.
const BODY_HEADERS: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
];

/// Whether two URLs have the same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The request for the next hop when `status` is a redirect with a `Location`, else `None`.
pub fn next_hop(
    current: &OutboundRequest,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Option<OutboundRequest>, ActionError> {
    let keeps_method = match status.as_u16() {
        301 | 302 => current.method != Method::POST,
        303 => current.method == Method::HEAD,
        307 | 308 => true,
        _ => return Ok(None),
    };
    let Some(location) = headers.get(header::LOCATION) else {
        return Ok(None);
    };
    let invalid = || {
        ActionError::permanent(format!(
            "`{}` answered {} with an invalid Location `{}`",
            current.url,
            status.as_u16(),
            String::from_utf8_lossy(location.as_bytes())
        ))
    };
    let location = location.to_str().map_err(|_| invalid())?;
    let url = current.url.join(location).map_err(|_| invalid())?;
    let mut next = current.clone();
    if !keeps_method {
        next.method = Method::GET;
        next.body = None;
        for name in BODY_HEADERS {
            next.headers.remove(name);
        }
    }
    if !same_origin(&current.url, &url) {
        next.headers = cross_origin_headers(&next.headers);
    }
    next.url = url;
    Ok(Some(next))
}

fn cross_origin_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        if CROSS_ORIGIN_HEADERS.contains(name) || name.as_str() == IDEMPOTENCY_KEY {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, url: &str) -> OutboundRequest {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        headers.insert(header::COOKIE, "session=secret".parse().unwrap());
        headers.insert("x-apikey", "secret".parse().unwrap());
        headers.insert(header::ACCEPT, "application/json".parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        headers.insert(IDEMPOTENCY_KEY, "task-1".parse().unwrap());
        OutboundRequest {
            method,
            url: Url::parse(url).unwrap(),
            headers,
            body: Some("{}".into()),
            timeout: None,
        }
    }

    fn location(to: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, to.parse().unwrap());
        headers
    }

    fn hop(current: &OutboundRequest, status: u16, to: &str) -> OutboundRequest {
        next_hop(
            current,
            StatusCode::from_u16(status).unwrap(),
            &location(to),
        )
        .unwrap()
        .expect("a redirect")
    }

    #[test]
    fn same_origin_hops_keep_everything() {
        let current = request(Method::GET, "https://api.example.com/v1/a");
        let next = hop(&current, 302, "/v1/b?x=1");
        assert_eq!(next.url.as_str(), "https://api.example.com/v1/b?x=1");
        assert_eq!(next.headers, current.headers);
    }

    #[test]
    fn cross_origin_hops_drop_credentials() {
        let current = request(Method::GET, "https://api.example.com/v1/a");
        for to in [
            "https://other.example.com/",
            "http://api.example.com/v1/a",
            "https://api.example.com:8443/v1/a",
        ] {
            let next = hop(&current, 307, to);
            assert!(next.headers.get(header::AUTHORIZATION).is_none(), "{to}");
            assert!(next.headers.get(header::COOKIE).is_none(), "{to}");
            assert!(next.headers.get("x-apikey").is_none(), "{to}");
            assert!(next.headers.get(header::ACCEPT).is_some(), "{to}");
            assert!(next.headers.get(IDEMPOTENCY_KEY).is_some(), "{to}");
        }
    }

    #[test]
    fn methods_change_as_browsers_do() {
        let post = request(Method::POST, "https://api.example.com/a");
        for (status, method, body) in [
            (301, Method::GET, false),
            (302, Method::GET, false),
            (303, Method::GET, false),
            (307, Method::POST, true),
            (308, Method::POST, true),
        ] {
            let next = hop(&post, status, "/b");
            assert_eq!(next.method, method, "{status}");
            assert_eq!(next.body.is_some(), body, "{status}");
            assert_eq!(
                next.headers.contains_key(header::CONTENT_TYPE),
                body,
                "{status}"
            );
        }
        let put = request(Method::PUT, "https://api.example.com/a");
        assert_eq!(hop(&put, 302, "/b").method, Method::PUT);
        assert_eq!(hop(&put, 303, "/b").method, Method::GET);
        let head = request(Method::HEAD, "https://api.example.com/a");
        assert_eq!(hop(&head, 303, "/b").method, Method::HEAD);
    }

    #[test]
    fn other_statuses_and_missing_locations_are_not_followed() {
        let current = request(Method::GET, "https://api.example.com/a");
        assert!(
            next_hop(&current, StatusCode::OK, &location("/b"))
                .unwrap()
                .is_none()
        );
        assert!(
            next_hop(&current, StatusCode::FOUND, &HeaderMap::new())
                .unwrap()
                .is_none()
        );
        assert!(
            next_hop(&current, StatusCode::FOUND, &location("http://[::1"))
                .unwrap_err()
                .message
                .contains("invalid Location")
        );
    }
}
