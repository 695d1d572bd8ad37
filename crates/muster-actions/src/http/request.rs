//! `http_request`: calls an HTTP API and emits `{status, headers, body}` (with `paginate`,
//! also `{items, pages, truncated}`).
//!
//! The request goes through the shared [`HttpClient`] (SSRF guard, timeouts, size cap). A
//! `rate_limit` over its budget parks the task until the budget allows the request; the
//! pagination progress made so far is parked with it.

use std::sync::LazyLock;

use async_trait::async_trait;
use bytes::Bytes;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome, Wait};
use muster_model::{ActionDef, OptionProblem};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth;
use super::credentials::{RequestSecrets, reveal_options};
use super::paginate::{PaginateOptions, Paginator, Progress, Step};
use super::rate_limit::{Rate, RateDecision, RateKey};
use super::response::{BodyMode, body_value, header_map};
use super::send::OutboundRequest;
use super::{HttpClient, errors};

/// Options of `http_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HttpRequestOptions {
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default)]
    method: Option<String>,
    /// The URL (http or https).
    url: String,
    /// Query parameters added to the URL; a list value repeats the parameter.
    #[serde(default)]
    query: Option<Map<String, Value>>,
    /// Request headers.
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    /// A JSON body.
    #[serde(default)]
    json: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    form: Option<Map<String, Value>>,
    /// A raw text body.
    #[serde(default)]
    body: Option<String>,
    /// Time allowed for the whole request, redirects and body included (default: the
    /// client's, 30s).
    #[serde(default)]
    timeout: Option<Value>,
    /// Treat non-2xx responses as errors (default: true).
    #[serde(default)]
    fail_on_status: Option<bool>,
    /// How to read the body: `auto` (JSON when the content type says so), `json` (an error
    /// when it is not JSON) or `text`.
    #[serde(default)]
    response: Option<String>,
    /// Sent as `Idempotency-Key` (default: the task id for methods other than GET, HEAD and
    /// OPTIONS; `""` sends none).
    #[serde(default)]
    idempotency_key: Option<String>,
    /// At most this many requests per period, as `N/period` (`10/1s`, `4/1m`, `500/1d`); a
    /// request over the limit waits (durably) instead of failing.
    #[serde(default)]
    rate_limit: Option<String>,
    /// The budget `rate_limit` counts against (default: the credential of `auth`, else the
    /// URL's host). Requests with the same key and rate share one budget, e.g. every request
    /// made with one API key.
    #[serde(default)]
    rate_limit_key: Option<String>,
    /// Fetch further pages (GET only) and collect their items.
    #[serde(default)]
    paginate: Option<PaginateOptions>,
    /// Authenticate with a credential, as `credentials.NAME`: `text` is sent as
    /// `Authorization: Bearer …`, `basic` as basic auth, `header` as its header, and the token
    /// types (`oauth2_client_credentials`, `http_token`, `jwt`) as a current token.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "taken out of the rendered options before they are parsed: it names a \
                  credential and must not be revealed like the other options"
    )]
    auth: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: "http_request",
    summary: "Call an HTTP API.",
    description: "Emits `{status, headers, body}`; the body is parsed as JSON when the content type \
                  is JSON (or `response: json`, which fails when the body is not JSON). \
                  Non-2xx responses are errors unless `fail_on_status: false`: 429 is \
                  `rate_limited` (honouring `Retry-After`, in seconds or as a date), 408 and \
                  5xx are `transient` (`rate_limited` when they send `Retry-After`), other 4xx \
                  `permanent`; the response is in the error's `details`. Connection failures, \
                  DNS failures and timeouts are `transient`; TLS failures, responses over the \
                  size limit and refused addresses are `permanent`.\n\n\
                  Requests may only reach public addresses: loopback, private, link-local, \
                  CGNAT, multicast, documentation and other special ranges and cloud-metadata \
                  endpoints are refused (before sending, for every redirect, and for every \
                  address a name resolves to) unless an operator allows them in `[http] allow`. \
                  Redirects are followed up to `[http] max_redirects`; a redirect to another \
                  origin drops `Authorization`, `Cookie` and every other header that may carry \
                  a credential.\n\n\
                  Credentials: `{{ credentials.NAME }}` anywhere in the options, or \
                  `auth: credentials.NAME` for typed authentication (basic, header, OAuth2 \
                  client credentials, login tokens, JWT), is sent only to the credential's \
                  allowed domains (checked for every redirect too) and shows as \
                  `[redacted:NAME]` in everything recorded (see docs/credentials.md).\n\n\
                  `rate_limit: 10/1s` limits requests per host (per credential with `auth`, or \
                  per `rate_limit_key`); a \
                  request over the limit parks its task until the limit allows it (the run \
                  shows `waiting`). Budgets are kept per process.\n\n\
                  `paginate` follows further pages and adds `items` (every page's items, up \
                  to `max_items`), `pages` and `truncated` (whether a cap stopped it) to the \
                  output; `status`, `headers` and `body` are the last page's. \
                  `type: link_header` follows `Link: <…>; rel=\"next\"`; `type: cursor` copies \
                  the body field `cursor` into the query parameter `param`; `type: page` counts \
                  the query parameter `param` up from `start` until a page is empty.\n\n\
                  Requests other than GET carry an `Idempotency-Key` (the task id) so that \
                  retries can be de-duplicated by the far end.",
    trigger: false,
    ports: &[],
    options: crate::options::schema::<HttpRequestOptions>(),
    example: "- id: reputation\n  type: http_request\n  options:\n    url: https://api.abuseipdb.com/api/v2/check\n    query: { ipAddress: \"{{ normalize.source_ip }}\" }\n    headers: { Key: \"{{ credentials.abuseipdb }}\" }\n    rate_limit: 1/1s\n  retry: { attempts: 3 }\n- id: open_alerts\n  type: http_request\n  options:\n    url: https://siem.example.com/api/alerts\n    query: { status: open, limit: 100 }\n    paginate: { type: cursor, items: data, cursor: meta.next, max_items: 500 }\n",
    side_effects: true,
    inline: false,
});

pub struct HttpRequest;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[async_trait]
impl Action for HttpRequest {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    /// GET, HEAD and OPTIONS are safe methods: they may run before their task is durable.
    /// Any other method, or one chosen by an expression, may change something.
    fn side_effects(&self, def: &ActionDef) -> bool {
        match def.options.get("method") {
            None => false,
            Some(Value::String(method)) => {
                !matches!(method.to_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
            }
            Some(_) => true,
        }
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        let literal = |name: &str| match def.options.get(name) {
            Some(Value::String(text)) if !text.contains("{{") && !text.contains("{%") => {
                Some(text.as_str())
            }
            _ => None,
        };
        if let Some(method) = literal("method")
            && !METHODS.contains(&method.to_uppercase().as_str())
        {
            problems.push(OptionProblem {
                path: "method".into(),
                message: format!("`{method}` is not an HTTP method"),
                hint: Some(format!("use one of {}", METHODS.join(", "))),
            });
        }
        let bodies = ["json", "form", "body"]
            .iter()
            .filter(|k| def.options.contains_key(**k))
            .count();
        if bodies > 1 {
            problems.push(OptionProblem {
                path: String::new(),
                message: "set at most one of `json`, `form` and `body`".into(),
                hint: None,
            });
        }
        if let Some(url) = literal("url")
            && let Err(e) = check_url(url)
        {
            problems.push(OptionProblem {
                path: "url".into(),
                message: e,
                hint: None,
            });
        }
        if let Some(rate) = literal("rate_limit")
            && let Err(e) = rate.parse::<Rate>()
        {
            problems.push(OptionProblem {
                path: "rate_limit".into(),
                message: e.to_string(),
                hint: None,
            });
        }
        if let Some(auth) = def.options.get("auth")
            && !has_expression(auth)
            && let Err(e) = auth::auth_name(auth)
        {
            problems.push(OptionProblem {
                path: "auth".into(),
                message: e.message,
                hint: Some("for example `auth: credentials.jira`".into()),
            });
        }
        if let Some(paginate) = def.options.get("paginate")
            && let Some(message) = paginate_problem(paginate)
        {
            problems.push(OptionProblem {
                path: "paginate".into(),
                message,
                hint: None,
            });
        }
        if def.options.contains_key("paginate")
            && let Some(method) = def.options.get("method")
            && !matches!(method, Value::String(m) if m.eq_ignore_ascii_case("GET"))
        {
            problems.push(OptionProblem {
                path: "paginate".into(),
                message: "`paginate` works with GET requests only".into(),
                hint: Some("remove `method` or set it to GET".into()),
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let client = ctx
            .services
            .get::<HttpClient>()
            .ok_or_else(|| ActionError::permanent("no HTTP client is configured"))?;
        let mut rendered = ctx.options_except(&[])?;
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
        let mut refreshed = false;
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
        let paginator = match options.paginate {
            Some(_) if request.method != reqwest::Method::GET => {
                return Err(ActionError::permanent(
                    "option `paginate` works with GET requests only",
                ));
            }
            Some(paginate) => Some(Paginator::new(paginate)?),
            None => None,
        };
        let mut progress = resumed_progress(ctx.task.state.as_ref());
        loop {
            if let Some((key, rate)) = &limit
                && let RateDecision::WaitUntil(at) = client.rate_limits().check(key, *rate)
            {
                return Ok(park(at, key, *rate, &progress));
            }
            let page_request = match &paginator {
                Some(paginator) => paginator.request_for(&request, &progress)?,
                None => request.clone(),
            };
            let fetched = client
                .fetch_checked(&page_request, &|hop| secrets.check_hop(hop))
                .await?;
            if fetched.status == reqwest::StatusCode::UNAUTHORIZED
                && let Some(auth) = auth.as_ref().filter(|a| auth::refreshable(a))
                && !refreshed
            {
                // An expired or revoked token: fetch a new one and try once more.
                refreshed = true;
                auth::apply(ctx, client, auth, &mut request.headers, true, &mut secrets).await?;
                continue;
            }
            let page_mode = if paginator.is_some() && fetched.status.is_success() {
                BodyMode::Json
            } else {
                mode
            };
            let body = body_value(&fetched, page_mode)?;
            let mut output = json!({
                "status": fetched.status.as_u16(),
                "headers": header_map(&fetched.headers),
                "body": body,
            });
            let succeeded = fetched.status.is_success();
            let step = match &paginator {
                Some(paginator) if succeeded => {
                    paginator.absorb(&mut progress, &fetched.url, &fetched.headers, &body)?
                }
                _ => Step::Done,
            };
            if step == Step::Next {
                continue;
            }
            if paginator.is_some() {
                output["items"] = Value::Array(std::mem::take(&mut progress.items));
                output["pages"] = json!(progress.pages);
                output["truncated"] = json!(progress.truncated);
            }
            if succeeded || options.fail_on_status == Some(false) {
                return Ok(Outcome::emit(output));
            }
            return Err(errors::status_error(fetched.status, &fetched.headers).with_details(output));
        }
    }
}

/// What is wrong with a `paginate` option, as far as can be told before its expressions are
/// rendered.
fn paginate_problem(paginate: &Value) -> Option<String> {
    match serde_json::from_value::<PaginateOptions>(paginate.clone()) {
        Ok(options) => Paginator::new(options).err().map(|e| e.message),
        Err(_) if has_expression(paginate) => None,
        Err(e) => Some(e.to_string()),
    }
}

fn has_expression(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains("{{") || text.contains("{%"),
        Value::Array(items) => items.iter().any(has_expression),
        Value::Object(map) => map.values().any(has_expression),
        _ => false,
    }
}

/// The request the options describe.
fn build_request(
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

fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}`: only http and https URLs are allowed"));
    }
    Ok(url)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
