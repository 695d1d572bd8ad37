//! The execution path of every HTTP call an action makes (`http_request` and every
//! integration action): rendered options become a [`Prepared`] request — credential
//! references revealed, typed auth applied, the destination checked against each
//! credential's allowed domains — and [`exchange`] sends it through the shared
//! [`HttpClient`]: SSRF guard, timeouts and size cap in the client, every redirect hop checked
//! for credentials, a rate limit that parks the task (with the pagination progress made so
//! far) instead of failing it, an expired token refreshed once, pages followed and collected.
//! What the response's status means is the caller's choice.

use bytes::Bytes;
use muster_engine::credentials::Unsealed;
use muster_engine::{ActionContext, ActionError, Outcome, Wait};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::HttpClient;
use super::auth;
use super::credentials::{RequestSecrets, reveal_options};
use super::paginate::{Paginator, Progress, Step};
use super::rate_limit::{Rate, RateDecision, RateKey};
use super::request::HttpRequestOptions;
use super::response::{BodyMode, body_value, header_map};
use super::send::OutboundRequest;

pub(crate) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A request ready to be sent, with how to read its answer.
pub(crate) struct Prepared {
    pub request: OutboundRequest,
    pub mode: BodyMode,
    /// The budget the request counts against, if any.
    pub limit: Option<(RateKey, Rate)>,
    pub paginator: Option<Paginator>,
    /// The credential of the `auth` option, opened.
    auth: Option<Unsealed>,
    /// The credentials the request carries, checked on every hop.
    secrets: RequestSecrets,
}

impl Prepared {
    /// The `auth` credential whose token is renewed on a 401 (so a final 401 came after a
    /// fresh token).
    pub fn refreshable_auth(&self) -> Option<&str> {
        self.auth
            .as_ref()
            .filter(|a| auth::refreshable(a))
            .map(|a| a.name.as_str())
    }

    /// Builds the request that `rendered` (`http_request`'s options, rendered, credential
    /// references still unrevealed) describes; also returns the parsed options.
    pub async fn new(
        ctx: &ActionContext<'_>,
        client: &HttpClient,
        mut rendered: Map<String, Value>,
    ) -> Result<(Self, HttpRequestOptions), ActionError> {
        let auth = match rendered.remove("auth") {
            Some(name) => Some(ctx.credentials.unseal(&auth::auth_name(&name)?).await?),
            None => None,
        };
        let mut rendered = Value::Object(rendered);
        let mut secrets = RequestSecrets::default();
        reveal_options(ctx, client, &mut rendered, &mut secrets).await?;
        let options: HttpRequestOptions = crate::options::parse(rendered)?;
        let mut request = build_request(&options, &ctx.task.id.to_string())?;
        if let Some(auth) = &auth {
            auth::apply(ctx, client, auth, &mut request.headers, false, &mut secrets).await?;
        }
        secrets.check_destination(&request)?;
        let mode = BodyMode::parse(options.response.as_deref())?;
        let limit = match &options.rate_limit {
            Some(text) => Some(rate_limit(
                text,
                options.rate_limit_key.as_deref(),
                auth.as_ref().map(|a| a.name.as_str()),
                &request,
            )?),
            None => None,
        };
        let paginator = match &options.paginate {
            Some(_) if request.method != reqwest::Method::GET => {
                return Err(ActionError::permanent(
                    "option `paginate` works with GET requests only",
                ));
            }
            Some(paginate) => Some(Paginator::new(paginate.clone())?),
            None => None,
        };
        let prepared = Self {
            request,
            mode,
            limit,
            paginator,
            auth,
            secrets,
        };
        Ok((prepared, options))
    }
}

/// What an exchange came to.
#[derive(Debug)]
pub(crate) enum Exchange {
    /// The response (the last page's, when paginating) and the `http_request` output:
    /// `{status, headers, body}`, plus `{items, pages, truncated}` when paginating.
    Response {
        status: StatusCode,
        headers: HeaderMap,
        output: Value,
    },
    /// The rate limit parked the task; it executes again when the budget allows.
    Parked(Outcome),
}

/// Sends `prepared` (every page of it), resuming pagination parked in the task's state.
pub(crate) async fn exchange(
    ctx: &ActionContext<'_>,
    client: &HttpClient,
    prepared: &mut Prepared,
) -> Result<Exchange, ActionError> {
    let mut progress = resumed_progress(ctx.task.state.as_ref());
    let mut refreshed = false;
    loop {
        if let Some((key, rate)) = &prepared.limit
            && let RateDecision::WaitUntil(at) = client.rate_limits().check(key, *rate)
        {
            return Ok(Exchange::Parked(park(at, key, *rate, &progress)));
        }
        let page_request = match &prepared.paginator {
            Some(paginator) => paginator.request_for(&prepared.request, &progress)?,
            None => prepared.request.clone(),
        };
        let secrets = &prepared.secrets;
        let fetched = client
            .fetch_checked(&page_request, &|hop| secrets.check_hop(hop))
            .await?;
        if fetched.status == StatusCode::UNAUTHORIZED
            && let Some(auth) = prepared.auth.as_ref().filter(|a| auth::refreshable(a))
            && !refreshed
        {
            // An expired or revoked token: fetch a new one and try once more.
            refreshed = true;
            let headers = &mut prepared.request.headers;
            auth::apply(ctx, client, auth, headers, true, &mut prepared.secrets).await?;
            continue;
        }
        let page_mode = match prepared.mode {
            _ if prepared.paginator.is_some() && fetched.status.is_success() => BodyMode::Json,
            // An error page is read as whatever it is: the status is the news, not that an
            // HTML error page is not JSON.
            BodyMode::Json if !fetched.status.is_success() => BodyMode::Auto,
            mode => mode,
        };
        let body = body_value(&fetched, page_mode, ctx.credentials.redactor())?;
        let mut output = json!({
            "status": fetched.status.as_u16(),
            "headers": header_map(&fetched.headers),
            "body": body,
        });
        let step = match &prepared.paginator {
            Some(paginator) if fetched.status.is_success() => {
                paginator.absorb(&mut progress, &fetched.url, &fetched.headers, &body)?
            }
            _ => Step::Done,
        };
        if step == Step::Next {
            continue;
        }
        if prepared.paginator.is_some() {
            output["items"] = Value::Array(std::mem::take(&mut progress.items));
            output["pages"] = json!(progress.pages);
            output["truncated"] = json!(progress.truncated);
        }
        return Ok(Exchange::Response {
            status: fetched.status,
            headers: fetched.headers,
            output,
        });
    }
}

/// The request the options describe.
pub(crate) fn build_request(
    options: &HttpRequestOptions,
    task_id: &str,
) -> Result<OutboundRequest, ActionError> {
    let method = options.method.as_deref().unwrap_or("GET").to_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ActionError::permanent(format!(
            "`{method}` is not an HTTP method"
        )));
    }
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|e| ActionError::permanent(e.to_string()))?;
    let mut url = check_url(&options.url).map_err(ActionError::permanent)?;
    if let Some(query) = options.query.as_ref().filter(|q| !q.is_empty()) {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            match value {
                Value::Array(values) => {
                    for value in values {
                        pairs.append_pair(name, &text(value));
                    }
                }
                value => {
                    pairs.append_pair(name, &text(value));
                }
            }
        }
    }
    let mut headers = HeaderMap::new();
    for (name, value) in options.headers.iter().flatten() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ActionError::permanent(format!("`{name}` is not a valid header name")))?;
        let value = HeaderValue::from_str(&text(value)).map_err(|_| {
            ActionError::permanent(format!("the value of header `{name}` is not valid"))
        })?;
        headers.insert(name, value);
    }
    let idempotency_key = match &options.idempotency_key {
        Some(key) => Some(key.clone()).filter(|k| !k.is_empty()),
        None if !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") => Some(task_id.to_string()),
        None => None,
    };
    if let Some(key) = idempotency_key
        && !headers.contains_key("idempotency-key")
    {
        let value = HeaderValue::from_str(&key).map_err(|_| {
            ActionError::permanent("option `idempotency_key` is not a valid header value")
        })?;
        headers.insert("idempotency-key", value);
    }
    let (body, content_type) = if let Some(json) = &options.json {
        let bytes = serde_json::to_vec(json)
            .map_err(|e| ActionError::permanent(format!("option `json`: {e}")))?;
        (Some(Bytes::from(bytes)), Some("application/json"))
    } else if let Some(form) = &options.form {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (k, text(v))))
            .finish();
        (
            Some(Bytes::from(encoded)),
            Some("application/x-www-form-urlencoded"),
        )
    } else {
        (options.body.clone().map(Bytes::from), None)
    };
    if let Some(content_type) = content_type
        && !headers.contains_key(CONTENT_TYPE)
    {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    let timeout = match &options.timeout {
        Some(timeout) => Some(crate::options::duration("timeout", timeout)?),
        None => None,
    };
    Ok(OutboundRequest {
        method,
        url,
        headers,
        body,
        timeout,
    })
}

/// The budget a request counts against: the one named, else the credential of `auth` (the
/// far end counts per key), else the host.
fn rate_limit(
    text: &str,
    key: Option<&str>,
    credential: Option<&str>,
    request: &OutboundRequest,
) -> Result<(RateKey, Rate), ActionError> {
    let rate = text
        .parse::<Rate>()
        .map_err(|e| ActionError::permanent(format!("option `rate_limit`: {e}")))?;
    let key = match (key.filter(|k| !k.is_empty()), credential) {
        (Some(key), _) => RateKey::named(key),
        (None, Some(credential)) => RateKey::credential(credential),
        (None, None) => RateKey::host(request.url.host_str().unwrap_or_default()),
    };
    Ok((key, rate))
}

/// The pagination progress parked with the task, if any.
fn resumed_progress(state: Option<&Value>) -> Progress {
    state
        .and_then(|s| s.get("paginate"))
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default()
}

fn park(at: std::time::SystemTime, key: &RateKey, rate: Rate, progress: &Progress) -> Outcome {
    let millis = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let when = chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| millis.to_string());
    let mut state = json!({ "rate_limited": { "key": key.as_str(), "rate": rate.to_string(), "until": millis } });
    if progress.pages > 0 {
        state["paginate"] = json!(progress);
    }
    Outcome::wait(Wait::Until {
        at: millis,
        state,
        reason: format!("rate limited by {key} ({rate}), waiting until {when}"),
    })
}

pub(crate) fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}`: only http and https URLs are allowed"));
    }
    Ok(url)
}

pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
