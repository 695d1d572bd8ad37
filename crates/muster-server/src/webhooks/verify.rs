//! Authenticating webhook senders: a shared secret and/or an HMAC-SHA256 signature of the
//! body, both compared in constant time.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use muster_actions::triggers::webhook::{SignatureOptions, WebhookOptions};
use sha2::Sha256;

use crate::auth::{bearer_token, secrets_match};
use crate::error::ApiError;

/// The header a sender may put the shared secret in (besides `Authorization: Bearer`).
pub const SECRET_HEADER: &str = "x-muster-secret";

/// Checks the shared secret when the trigger sets one.
pub fn check_secret(options: &WebhookOptions, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(secret) = &options.secret else {
        return Ok(());
    };
    let from_header = headers
        .get(SECRET_HEADER)
        .map(|v| secrets_match(v.as_bytes(), secret.as_bytes()));
    let from_bearer = bearer_token(headers).map(|t| secrets_match(t.as_bytes(), secret.as_bytes()));
    match (from_header, from_bearer) {
        (Some(true), _) | (_, Some(true)) => Ok(()),
        (None, None) => Err(ApiError::unauthorized(
            "this webhook requires its secret in the `X-Muster-Secret` header or as a bearer token",
        )),
        _ => Err(ApiError::unauthorized("the webhook secret does not match")),
    }
}

/// Checks the HMAC-SHA256 signature of `body` when the trigger asks for one.
pub fn check_signature(
    options: &WebhookOptions,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(signature) = &options.signature else {
        return Ok(());
    };
    let given = headers
        .get(signature.header.as_str())
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "this webhook requires an HMAC-SHA256 signature in the `{}` header",
                signature.header
            ))
        })?;
    if verify(signature, given.trim(), body) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(format!(
            "the signature in the `{}` header does not match the body",
            signature.header
        )))
    }
}

fn verify(options: &SignatureOptions, header: &str, body: &[u8]) -> bool {
    let Some(hex_digest) = header.strip_prefix(options.prefix.as_str()) else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(options.secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&digest).is_ok()
}

/// The hex HMAC-SHA256 of `body` under `key` (what a sender puts after the prefix).
#[cfg(test)]
pub fn sign(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn options(json: serde_json::Value) -> WebhookOptions {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn secrets_are_read_from_either_header() {
        let opts = options(serde_json::json!({"path": "a", "secret": "s3cret"}));
        let mut headers = HeaderMap::new();
        assert_eq!(check_secret(&opts, &headers).unwrap_err().status, 401);
        headers.insert(SECRET_HEADER, HeaderValue::from_static("wrong"));
        assert_eq!(check_secret(&opts, &headers).unwrap_err().status, 401);
        headers.insert(SECRET_HEADER, HeaderValue::from_static("s3cret"));
        assert!(check_secret(&opts, &headers).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        assert!(check_secret(&opts, &headers).is_ok());
    }

    #[test]
    fn signatures_cover_the_body_after_the_prefix() {
        let opts = options(serde_json::json!({
            "path": "a",
            "signature": {"header": "X-Hub-Signature-256", "secret": "key", "prefix": "sha256="}
        }));
        let body = br#"{"a":1}"#;
        let mut headers = HeaderMap::new();
        assert_eq!(
            check_signature(&opts, &headers, body).unwrap_err().status,
            401
        );
        let good = format!("sha256={}", sign("key", body));
        headers.insert("x-hub-signature-256", HeaderValue::from_str(&good).unwrap());
        assert!(check_signature(&opts, &headers, body).is_ok());
        assert!(check_signature(&opts, &headers, br#"{"a":2}"#).is_err());
        let unprefixed = sign("key", body);
        headers.insert(
            "x-hub-signature-256",
            HeaderValue::from_str(&unprefixed).unwrap(),
        );
        assert!(check_signature(&opts, &headers, body).is_err());
        headers.insert("x-hub-signature-256", HeaderValue::from_static("sha256=zz"));
        assert!(check_signature(&opts, &headers, body).is_err());
    }
}
