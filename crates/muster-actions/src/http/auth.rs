//! Typed authentication (`auth: credentials.NAME` on `http_request`) and the tokens of the
//! token-based credential types: OAuth 2.0 client credentials and HTTP login tokens, fetched
//! through the guarded client and cached until they expire; JWTs signed per request.
//!
//! Every token is handed to the redactor as soon as it is known, so it is hidden like the
//! credential it came from.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use muster_engine::credentials::Unsealed;
use muster_engine::{ActionContext, ActionError, Secret};
use muster_model::expr::references;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::HttpClient;
use super::credentials::RequestSecrets;
use super::exchange::build_request;
use super::send::OutboundRequest;

/// Tokens are renewed this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
const DEFAULT_JWT_TTL: Duration = Duration::from_secs(300);

/// Cached tokens by credential (and a fingerprint of its value, so a rotation starts over).
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<(String, u64), (String, Instant)>>,
}

impl TokenCache {
    fn get(&self, key: &(String, u64)) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(token, _)| token.clone())
    }

    fn put(&self, key: (String, u64), token: String, ttl: Duration) {
        let until = Instant::now() + ttl.saturating_sub(EXPIRY_MARGIN);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(key, (token, until));
    }
}

/// The credential an `auth` option names: `credentials.NAME`, or `{{ credentials.NAME }}`.
pub(crate) fn auth_name(value: &Value) -> Result<String, ActionError> {
    let text = value.as_str().unwrap_or_default();
    if let Some(name) = text.strip_prefix("credentials.")
        && muster_model::expr::valid_name(name)
    {
        return Ok(name.to_string());
    }
    match references(text).as_slice() {
        [reference] if reference.field.is_none() => Ok(reference.name.clone()),
        _ => Err(ActionError::permanent(
            "option `auth` must name a credential, as `credentials.NAME`",
        )),
    }
}

/// Whether a 401 answer may be cured by fetching a new token.
pub(crate) fn refreshable(unsealed: &Unsealed) -> bool {
    matches!(
        unsealed.secret,
        Secret::OAuth2ClientCredentials { .. } | Secret::HttpToken { .. }
    )
}

/// Adds the credential's authentication to `headers`.
pub(crate) async fn apply(
    ctx: &ActionContext<'_>,
    client: &HttpClient,
    unsealed: &Unsealed,
    headers: &mut HeaderMap,
    refresh: bool,
    secrets: &mut RequestSecrets,
) -> Result<(), ActionError> {
    let (name, value) = match &unsealed.secret {
        Secret::Text { value } => ("authorization".to_string(), format!("Bearer {value}")),
        Secret::Basic { username, password } => (
            "authorization".to_string(),
            format!(
                "Basic {}",
                STANDARD.encode(format!("{username}:{password}"))
            ),
        ),
        Secret::Header { name, value } => (name.clone(), value.clone()),
        Secret::OAuth2ClientCredentials { .. } => {
            let token = token(ctx, client, unsealed, refresh).await?;
            ("authorization".to_string(), format!("Bearer {token}"))
        }
        Secret::HttpToken { header, prefix, .. } | Secret::Jwt { header, prefix, .. } => {
            let token = token(ctx, client, unsealed, refresh).await?;
            (
                header.clone().unwrap_or_else(|| "authorization".into()),
                format!("{}{token}", prefix.as_deref().unwrap_or("Bearer ")),
            )
        }
    };
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        ActionError::permanent(format!(
            "credential `{}`: `{name}` is not a valid header name",
            unsealed.name
        ))
    })?;
    let mut header_value = HeaderValue::from_str(&value).map_err(|_| {
        ActionError::permanent(format!(
            "credential `{}`: its value is not a valid header value",
            unsealed.name
        ))
    })?;
    header_value.set_sensitive(true);
    headers.insert(header, header_value);
    secrets.add(unsealed, value);
    Ok(())
}

/// A current token for a token-based credential (fetched, cached or signed).
pub(crate) async fn token(
    ctx: &ActionContext<'_>,
    client: &HttpClient,
    unsealed: &Unsealed,
    refresh: bool,
) -> Result<String, ActionError> {
    let key = (unsealed.name.clone(), fingerprint(&unsealed.secret));
    if !refresh && let Some(token) = client.tokens.get(&key) {
        return Ok(token);
    }
    let (token, ttl) = match &unsealed.secret {
        Secret::OAuth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            audience,
        } => {
            let mut form = json!({
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            });
            if let Some(scope) = scope {
                form["scope"] = json!(scope);
            }
            if let Some(audience) = audience {
                form["audience"] = json!(audience);
            }
            let request = login_request(
                unsealed,
                json!({"url": token_url, "method": "POST", "form": form,
                       "headers": {"accept": "application/json"}}),
            )?;
            let answer = login(client, unsealed, &request).await?;
            let token = answer
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| token_error(unsealed, "the answer has no `access_token`"))?
                .to_string();
            let ttl = answer
                .get("expires_in")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_TOKEN_TTL, Duration::from_secs);
            (token, ttl)
        }
        Secret::HttpToken {
            url,
            method,
            headers,
            json,
            form,
            token_path,
            ttl,
            ..
        } => {
            let mut options = json!({"url": url, "method": method, "headers": headers});
            if let Some(json) = json {
                options["json"] = json.clone();
            } else if let Some(form) = form {
                options["form"] = Value::Object(form.clone());
            }
            let request = login_request(unsealed, options)?;
            let (body, response_headers) = login_raw(client, unsealed, &request).await?;
            let token = match token_path.strip_prefix("headers.") {
                Some(header) => response_headers
                    .get(header)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                None => serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|body| {
                        let path = token_path.strip_prefix("body").unwrap_or_default();
                        let found = path
                            .split('.')
                            .filter(|s| !s.is_empty())
                            .try_fold(&body, |node, key| node.get(key))?;
                        found.as_str().map(str::to_string)
                    }),
            }
            .ok_or_else(|| {
                token_error(
                    unsealed,
                    &format!("the answer has no token at `{token_path}`"),
                )
            })?;
            let ttl = match ttl {
                Some(text) => crate::options::duration("ttl", &json!(text))?,
                None => DEFAULT_TOKEN_TTL,
            };
            (token, ttl)
        }
        Secret::Jwt {
            algorithm,
            key,
            claims,
            ttl,
            ..
        } => {
            let ttl = match ttl {
                Some(text) => crate::options::duration("ttl", &json!(text))?,
                None => DEFAULT_JWT_TTL,
            };
            let token = sign_jwt(algorithm, key, claims, ttl, &ctx.task.id.to_string())
                .map_err(|e| token_error(unsealed, &e))?;
            // Signed per request: not cached.
            ctx.credentials
                .redactor()
                .learn(&unsealed.name, [token.clone()]);
            return Ok(token);
        }
        other => {
            return Err(ActionError::permanent(format!(
                "credential `{}` ({}) has no token",
                unsealed.name,
                other.kind()
            )));
        }
    };
    ctx.credentials
        .redactor()
        .learn(&unsealed.name, [token.clone()]);
    client.tokens.put(key, token.clone(), ttl);
    Ok(token)
}

fn fingerprint(secret: &Secret) -> u64 {
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(secret)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

fn parse_url(unsealed: &Unsealed, text: &str) -> Result<url::Url, ActionError> {
    let url = url::Url::parse(text)
        .map_err(|e| token_error(unsealed, &format!("its token URL is not valid: {e}")))?;
    unsealed.check_host(url.host_str().unwrap_or_default())?;
    Ok(url)
}

fn token_error(unsealed: &Unsealed, message: &str) -> ActionError {
    ActionError::permanent(format!(
        "credential `{}`: getting a token failed: {message}",
        unsealed.name
    ))
}

/// A token request described as `http_request` options, built by its request builder (with
/// no idempotency key: a login is not a write to de-duplicate), to a URL the credential allows.
fn login_request(unsealed: &Unsealed, mut options: Value) -> Result<OutboundRequest, ActionError> {
    let url = options["url"].as_str().unwrap_or_default().to_string();
    parse_url(unsealed, &url)?;
    options["idempotency_key"] = json!("");
    crate::options::parse(options)
        .and_then(|options| build_request(&options, ""))
        .map_err(|e| token_error(unsealed, &format!("its token request: {}", e.message)))
}

/// Sends a login request whose body carries the credential's secret, only to its domains.
async fn login_raw(
    client: &HttpClient,
    unsealed: &Unsealed,
    request: &OutboundRequest,
) -> Result<(bytes::Bytes, HeaderMap), ActionError> {
    let check = |hop: &OutboundRequest| {
        unsealed
            .check_host(hop.url.host_str().unwrap_or_default())
            .map_err(ActionError::from)
    };
    let fetched = client
        .fetch_checked(request, &check)
        .await
        .map_err(|mut e| {
            e.message = format!(
                "credential `{}`: getting a token: {}",
                unsealed.name, e.message
            );
            e
        })?;
    if !fetched.status.is_success() {
        let detail = serde_json::from_slice::<Value>(&fetched.body)
            .ok()
            .and_then(|b| {
                let error = b.get("error").and_then(Value::as_str)?.to_string();
                Some(match b.get("error_description").and_then(Value::as_str) {
                    Some(description) => format!("{error}: {description}"),
                    None => error,
                })
            })
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let error = token_error(
            unsealed,
            &format!("the token endpoint answered {}{detail}", fetched.status),
        );
        return Err(if fetched.status.is_server_error() {
            ActionError::transient(error.message)
        } else {
            error
        });
    }
    Ok((fetched.body, fetched.headers))
}

async fn login(
    client: &HttpClient,
    unsealed: &Unsealed,
    request: &OutboundRequest,
) -> Result<Value, ActionError> {
    let (body, _) = login_raw(client, unsealed, request).await?;
    serde_json::from_slice(&body)
        .map_err(|_| token_error(unsealed, "the token endpoint did not answer with JSON"))
}

/// A compact JWS (`header.claims.signature`) with `iat`, `exp` and `jti` added to `claims`.
fn sign_jwt(
    algorithm: &str,
    key: &str,
    claims: &Map<String, Value>,
    ttl: Duration,
    jti: &str,
) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut claims = claims.clone();
    claims.entry("iat").or_insert(json!(now));
    claims.insert("exp".into(), json!(now + ttl.as_secs()));
    claims
        .entry("jti")
        .or_insert_with(|| json!(format!("{jti}-{}", now)));
    let header = json!({"alg": algorithm, "typ": "JWT"});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
    );
    let signature = hmac_sign(algorithm, key, &signing_input)?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn hmac_sign(algorithm: &str, key: &str, input: &str) -> Result<Vec<u8>, String> {
    fn sign<M: Mac + KeyInit>(key: &str, input: &str) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        "HS256" => Ok(sign::<Hmac<sha2::Sha256>>(key, input)),
        "HS384" => Ok(sign::<Hmac<sha2::Sha384>>(key, input)),
        "HS512" => Ok(sign::<Hmac<sha2::Sha512>>(key, input)),
        other => Err(format!("unsupported JWT algorithm `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_are_signed_with_the_key() {
        let token = sign_jwt(
            "HS256",
            "k3y-for-signing",
            &Map::from_iter([("sub".to_string(), json!("muster"))]),
            Duration::from_secs(60),
            "task",
        )
        .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["sub"], "muster");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        let expected = hmac_sign(
            "HS256",
            "k3y-for-signing",
            &format!("{}.{}", parts[0], parts[1]),
        )
        .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), expected);
    }

    #[test]
    fn auth_names_a_credential() {
        assert_eq!(auth_name(&json!("credentials.jira")).unwrap(), "jira");
        assert!(auth_name(&json!("jira")).is_err());
        assert!(auth_name(&json!(3)).is_err());
    }
}
