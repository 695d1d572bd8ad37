//! `http_request`: calls an HTTP API and emits `{status, headers, body}`.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HttpClient;

/// Options of `http_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HttpRequestOptions {
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default)]
    method: Option<String>,
    /// The URL (http or https).
    url: String,
    /// Query parameters added to the URL.
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
    /// Time allowed for the whole request (default: the client's, 30s).
    #[serde(default)]
    timeout: Option<Value>,
    /// Treat non-2xx responses as errors (default: true).
    #[serde(default)]
    fail_on_status: Option<bool>,
    /// How to read the body: `auto` (JSON when the content type says so), `json` or `text`.
    #[serde(default)]
    response: Option<String>,
    /// Sent as `Idempotency-Key` (default: the task id for methods other than GET, HEAD and
    /// OPTIONS; `""` sends none).
    #[serde(default)]
    idempotency_key: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: "http_request",
    summary: "Call an HTTP API.",
    description: "Emits `{status, headers, body}`; the body is parsed as JSON when the content type \
                  is JSON (or `response: json`). Non-2xx responses are errors unless \
                  `fail_on_status: false`: 429 is `rate_limited` (honouring `Retry-After`), 408 and \
                  5xx are `transient`, other 4xx `permanent`; the response is in the error's \
                  `details`. Connection failures and timeouts are `transient`. Requests other \
                  than GET carry an `Idempotency-Key` (the task id) so that retries can be \
                  de-duplicated by the far end.",
    trigger: false,
    ports: &[],
    options: crate::options::schema::<HttpRequestOptions>(),
    example: "- id: reputation\n  type: http_request\n  options:\n    url: https://api.abuseipdb.com/api/v2/check\n    query: { ipAddress: \"{{ normalize.source_ip }}\" }\n    headers: { Key: \"{{ credentials.abuseipdb }}\" }\n  retry: { attempts: 3 }\n",
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
        if let Some(Value::String(method)) = def.options.get("method")
            && !method.contains("{{")
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
        if let Some(Value::String(url)) = def.options.get("url")
            && !url.contains("{{")
            && !url.contains("{%")
            && let Err(e) = check_url(url)
        {
            problems.push(OptionProblem {
                path: "url".into(),
                message: e,
                hint: None,
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let client = ctx
            .services
            .get::<HttpClient>()
            .ok_or_else(|| ActionError::permanent("no HTTP client is configured"))?;
        let options: HttpRequestOptions =
            crate::options::parse(Value::Object(ctx.options_except(&[])?))?;
        let method = options.method.as_deref().unwrap_or("GET").to_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(ActionError::permanent(format!(
                "`{method}` is not an HTTP method"
            )));
        }
        let url = check_url(&options.url).map_err(ActionError::permanent)?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ActionError::permanent(e.to_string()))?;
        let mut request = client.client.request(method.clone(), url);
        if let Some(query) = &options.query {
            let pairs: Vec<(String, String)> =
                query.iter().map(|(k, v)| (k.clone(), text(v))).collect();
            request = request.query(&pairs);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in options.headers.iter().flatten() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ActionError::permanent(format!("`{name}` is not a valid header name"))
            })?;
            let value = HeaderValue::from_str(&text(value)).map_err(|_| {
                ActionError::permanent(format!("the value of header `{name}` is not valid"))
            })?;
            headers.insert(name, value);
        }
        let idempotency_key = match options.idempotency_key {
            Some(key) => Some(key).filter(|k| !k.is_empty()),
            None if !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") => {
                Some(ctx.task.id.to_string())
            }
            None => None,
        };
        if let Some(key) = idempotency_key
            && !headers.contains_key("idempotency-key")
            && let Ok(value) = HeaderValue::from_str(&key)
        {
            headers.insert("idempotency-key", value);
        }
        request = request.headers(headers);
        if let Some(json) = &options.json {
            request = request.json(json);
        } else if let Some(form) = &options.form {
            let pairs: Vec<(String, String)> =
                form.iter().map(|(k, v)| (k.clone(), text(v))).collect();
            request = request.form(&pairs);
        } else if let Some(body) = options.body {
            request = request.body(body);
        }
        if let Some(timeout) = &options.timeout {
            request = request.timeout(crate::options::duration("timeout", timeout)?);
        }
        let response = request.send().await.map_err(|e| classify_send_error(&e))?;
        let status = response.status();
        let response_headers = header_map(response.headers());
        let retry_after = retry_after(response.headers());
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let bytes = read_capped(response, client.settings.max_response_bytes).await?;
        let body = match options.response.as_deref().unwrap_or("auto") {
            "text" => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            "json" => serde_json::from_slice(&bytes)
                .map_err(|e| ActionError::permanent(format!("the response is not JSON: {e}")))?,
            _ if is_json && !bytes.is_empty() => serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
            _ => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        let output =
            json!({ "status": status.as_u16(), "headers": response_headers, "body": body });
        if status.is_success() || options.fail_on_status == Some(false) {
            return Ok(Outcome::emit(output));
        }
        let reason = status.canonical_reason().unwrap_or("");
        let message = format!("HTTP {} {reason}", status.as_u16())
            .trim_end()
            .to_string();
        let error = match status.as_u16() {
            429 => ActionError::rate_limited(message, retry_after),
            408 | 500..=599 => ActionError::transient(message),
            _ => ActionError::permanent(message),
        };
        Err(error.with_details(output))
    }
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

fn header_map(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    Value::Object(map)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
    Some(Duration::from_secs(secs))
}

fn classify_send_error(error: &reqwest::Error) -> ActionError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "failed"
    };
    let url = error
        .url()
        .map(|u| format!(" ({})", u.as_str()))
        .unwrap_or_default();
    let mut source = String::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(inner) = cause {
        source = inner.to_string();
        cause = inner.source();
    }
    let detail = if source.is_empty() {
        String::new()
    } else {
        format!(": {source}")
    };
    let message = format!("the request {what}{url}{detail}");
    if error.is_redirect() || error.is_builder() {
        ActionError::permanent(message)
    } else {
        ActionError::transient(message)
    }
}

async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ActionError> {
    if let Some(length) = response.content_length()
        && length as usize > cap
    {
        return Err(ActionError::permanent(format!(
            "the response is {length} bytes, more than the limit of {cap} bytes"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ActionError::transient(format!("reading the response failed: {e}")))?
    {
        if body.len() + chunk.len() > cap {
            return Err(ActionError::permanent(format!(
                "the response is larger than the limit of {cap} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
