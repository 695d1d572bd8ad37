//! How outbound failures become action errors: which are worth retrying (`transient`), which
//! ask us to come back later (`rate_limited`, honouring `Retry-After`) and which will never
//! work (`permanent`), each with a message that says what happened and where.

use std::error::Error as StdError;
use std::time::Duration;

use muster_engine::ActionError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::resolver::{DnsFailure, GuardRefusal};

/// The longest `Retry-After` honoured; a far end cannot park a task for longer.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The error for a response with a non-2xx status. 429 is `rate_limited`, and so is any 5xx
/// that says when to come back (`Retry-After`); other 5xx and 408 are `transient`, other 4xx
/// (and unexpected 1xx/3xx) `permanent`.
pub fn status_error(status: StatusCode, headers: &HeaderMap) -> ActionError {
    let reason = status.canonical_reason().unwrap_or("");
    let message = format!("HTTP {} {reason}", status.as_u16())
        .trim_end()
        .to_string();
    let retry_after = retry_after(headers);
    match status.as_u16() {
        429 => ActionError::rate_limited(message, retry_after),
        500..=599 if retry_after.is_some() => ActionError::rate_limited(message, retry_after),
        408 | 500..=599 => ActionError::transient(message),
        _ => ActionError::permanent(message),
    }
}

/// Reads `Retry-After` as seconds or as an HTTP date (IMF-fixdate, RFC 850 or asctime), capped
/// at [`MAX_RETRY_AFTER`]. A date in the past means "now".
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, chrono::Utc::now()).map(|d| d.min(MAX_RETRY_AFTER))
}

fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT")
                .map(|t| t.and_utc())
        })
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y")
                .map(|t| t.and_utc())
        })
        .ok()?;
    let millis = (when - now).num_milliseconds().max(0) as u64;
    Some(Duration::from_millis(millis.div_ceil(1000) * 1000))
}

/// Classifies a failure to get a response: the guard's refusals are `permanent`, and so are
/// TLS failures (a certificate does not fix itself) and malformed requests; DNS failures,
/// connection failures and timeouts are `transient`.
pub fn send_error(error: &reqwest::Error, host: &str) -> ActionError {
    if let Some(refusal) = find::<GuardRefusal>(error) {
        return ActionError::permanent(refusal.to_string());
    }
    if let Some(failure) = find::<DnsFailure>(error) {
        return ActionError::transient(failure.to_string());
    }
    if let Some(tls) = find::<rustls::Error>(error) {
        return ActionError::permanent(format!("the TLS connection to `{host}` failed: {tls}"));
    }
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let message = format!("the request to `{host}` {what}{}", innermost(error));
    if error.is_builder() {
        // A request that cannot be built (an invalid header, say) never will be.
        return ActionError::permanent(message);
    }
    ActionError::transient(message)
}

/// Classifies a failure while reading the body: a body that cannot be decompressed is
/// `permanent`, a broken connection or a timeout `transient`.
pub fn body_error(error: &reqwest::Error, host: &str) -> ActionError {
    if error.is_decode() {
        return ActionError::permanent(format!(
            "the response from `{host}` could not be decoded{}",
            innermost(error)
        ));
    }
    let what = if error.is_timeout() {
        "timed out"
    } else {
        "failed"
    };
    ActionError::transient(format!(
        "reading the response from `{host}` {what}{}",
        innermost(error)
    ))
}

/// The deepest cause's text as `: cause`, or nothing.
fn innermost(error: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut cause: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(inner) = cause {
        text = inner.to_string();
        cause = next(inner);
    }
    if text.is_empty() {
        text
    } else {
        format!(": {text}")
    }
}

/// The first error of type `T` in the chain, looking inside `std::io::Error` wrappers too
/// (whose `source` skips the error they wrap).
fn find<T: StdError + 'static>(error: &reqwest::Error) -> Option<&T> {
    let mut cause: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(inner) = cause {
        if let Some(found) = inner.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = inner.downcast_ref::<std::io::Error>()
            && let Some(wrapped) = io.get_ref()
            && let Some(found) = wrapped.downcast_ref::<T>()
        {
            return Some(found);
        }
        cause = next(inner);
    }
    None
}

fn next<'e>(error: &'e (dyn StdError + 'static)) -> Option<&'e (dyn StdError + 'static)> {
    if let Some(io) = error.downcast_ref::<std::io::Error>()
        && let Some(wrapped) = io.get_ref()
    {
        return Some(wrapped);
    }
    error.source()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use muster_engine::ErrorClass;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(value) = retry_after {
            map.insert("retry-after", value.parse().unwrap());
        }
        map
    }

    #[test]
    fn statuses_are_classified() {
        let class = |code: u16, after: Option<&str>| {
            status_error(StatusCode::from_u16(code).unwrap(), &headers(after)).class
        };
        assert_eq!(
            class(429, Some("7")),
            ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            class(429, None),
            ErrorClass::RateLimited { retry_after: None }
        );
        assert_eq!(class(500, None), ErrorClass::Transient);
        assert_eq!(class(502, None), ErrorClass::Transient);
        assert_eq!(class(408, None), ErrorClass::Transient);
        assert_eq!(
            class(503, Some("120")),
            ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(120))
            }
        );
        for code in [400, 401, 403, 404, 409, 422] {
            assert_eq!(class(code, None), ErrorClass::Permanent, "{code}");
        }
        let error = status_error(StatusCode::NOT_FOUND, &headers(None));
        assert_eq!(error.message, "HTTP 404 Not Found");
    }

    #[test]
    fn retry_after_reads_seconds_and_every_http_date_form() {
        let now = chrono::Utc
            .with_ymd_and_hms(2015, 10, 21, 7, 28, 0)
            .unwrap();
        let secs = |v: &str| parse_retry_after(v, now).map(|d| d.as_secs());
        assert_eq!(secs("120"), Some(120));
        assert_eq!(secs(" 0 "), Some(0));
        assert_eq!(secs("Wed, 21 Oct 2015 07:30:00 GMT"), Some(120));
        assert_eq!(secs("Wednesday, 21-Oct-15 07:30:00 GMT"), Some(120));
        assert_eq!(secs("Wed Oct 21 07:30:00 2015"), Some(120));
        assert_eq!(secs("Wed, 21 Oct 2015 07:00:00 GMT"), Some(0));
        assert_eq!(secs("soon"), None);
        assert_eq!(secs("-5"), None);
    }

    #[test]
    fn huge_retry_after_values_are_capped() {
        let after = retry_after(&headers(Some("99999999"))).unwrap();
        assert_eq!(after, MAX_RETRY_AFTER);
    }
}
