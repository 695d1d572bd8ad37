//! `http_request`: calls an HTTP API and emits `{status, headers, body}` (with `paginate`,
//! also `{items, pages, truncated}`).
//!
//! The rendered options are executed by [`super::exchange`], the path integrations share:
//! credentials revealed and checked per hop, the shared [`HttpClient`] (SSRF guard, timeouts,
//! size cap), rate limits that park the task, pagination.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth;
use super::exchange::{Exchange, METHODS, Prepared, check_url, exchange};
use super::paginate::{PaginateOptions, Paginator};
use super::rate_limit::Rate;
use super::{HttpClient, errors};

/// Options of `http_request`, rendered and with their credential references revealed.
/// Integrations give the same options, built from their request templates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpRequestOptions {
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// The URL (http or https).
    pub(crate) url: String,
    /// Query parameters added to the URL; a list value repeats the parameter.
    #[serde(default)]
    pub(crate) query: Option<Map<String, Value>>,
    /// Request headers.
    #[serde(default)]
    pub(crate) headers: Option<Map<String, Value>>,
    /// A JSON body.
    #[serde(default)]
    pub(crate) json: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub(crate) form: Option<Map<String, Value>>,
    /// A raw text body.
    #[serde(default)]
    pub(crate) body: Option<String>,
    /// Time allowed for the whole request, redirects and body included (default: the
    /// client's, 30s).
    #[serde(default)]
    pub(crate) timeout: Option<Value>,
    /// Treat non-2xx responses as errors (default: true).
    #[serde(default)]
    pub(crate) fail_on_status: Option<bool>,
    /// How to read the body: `auto` (JSON when the content type says so), `json` (an error
    /// when it is not JSON) or `text`.
    #[serde(default)]
    pub(crate) response: Option<String>,
    /// Sent as `Idempotency-Key` (default: the task id for methods other than GET, HEAD and
    /// OPTIONS; `""` sends none).
    #[serde(default)]
    pub(crate) idempotency_key: Option<String>,
    /// At most this many requests per period, as `N/period` (`10/1s`, `4/1m`, `500/1d`); a
    /// request over the limit waits (durably) instead of failing.
    #[serde(default)]
    pub(crate) rate_limit: Option<String>,
    /// The budget `rate_limit` counts against (default: the credential of `auth`, else the
    /// URL's host). Requests with the same key and rate share one budget, e.g. every request
    /// made with one API key.
    #[serde(default)]
    pub(crate) rate_limit_key: Option<String>,
    /// Fetch further pages (GET only) and collect their items.
    #[serde(default)]
    pub(crate) paginate: Option<PaginateOptions>,
    /// Authenticate with a credential, as `credentials.NAME`: `text` is sent as
    /// `Authorization: Bearer …`, `basic` as basic auth, `header` as its header, and the token
    /// types (`oauth2_client_credentials`, `http_token`, `jwt`) as a current token.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "taken out of the rendered options before they are parsed: it names a \
                  credential and must not be revealed like the other options"
    )]
    pub(crate) auth: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("http_request"),
    summary: Cow::Borrowed("Call an HTTP API."),
    description: Cow::Borrowed(
        "Emits `{status, headers, body}`; the body is parsed as JSON when the content type \
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
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<HttpRequestOptions>(),
    example: Cow::Borrowed(
        "- id: reputation\n  type: http_request\n  options:\n    url: https://api.abuseipdb.com/api/v2/check\n    query: { ipAddress: \"{{ normalize.source_ip }}\" }\n    headers: { Key: \"{{ credentials.abuseipdb }}\" }\n    rate_limit: 1/1s\n  retry: { attempts: 3 }\n- id: open_alerts\n  type: http_request\n  options:\n    url: https://siem.example.com/api/alerts\n    query: { status: open, limit: 100 }\n    paginate: { type: cursor, items: data, cursor: meta.next, max_items: 500 }\n",
    ),
    side_effects: true,
    inline: false,
});

pub struct HttpRequest;

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
        let rendered = ctx.options_except(&[])?;
        let (mut prepared, options) = Prepared::new(ctx, client, rendered).await?;
        match exchange(ctx, client, &mut prepared).await? {
            Exchange::Parked(outcome) => Ok(outcome),
            Exchange::Response {
                status,
                headers,
                output,
            } => {
                if status.is_success() || options.fail_on_status == Some(false) {
                    return Ok(Outcome::emit(output));
                }
                let mut error = errors::status_error(status, &headers).with_details(output);
                if status == reqwest::StatusCode::UNAUTHORIZED
                    && let Some(credential) = prepared.refreshable_auth()
                {
                    error.message = format!(
                        "{} (also with a new token from credential `{credential}`)",
                        error.message
                    );
                }
                Err(error)
            }
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
