//! A small client for the REST API, used by the management commands.

use anyhow::{Context, Result, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::ServerArgs;
use crate::config::CLIENT_TIMEOUT;

pub struct ApiClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// An API answer that is not a success.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = self
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        write!(f, "the server answered {}: {message}", self.status)
    }
}

impl std::error::Error for ApiError {}

impl ApiClient {
    pub fn new(args: &ServerArgs) -> Result<Self> {
        let token = match &args.token {
            Some(token) => token.clone(),
            None => {
                let path = args.data_dir.join("api-token");
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!(
                            "no API token: pass --token, set MUSTER_API_TOKEN, or point --data-dir at the server's data directory ({} is not readable)",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .no_proxy()
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            base: args.server.trim_end_matches('/').to_string(),
            token,
            http,
        })
    }

    /// Sends a request; `Ok(Err(..))` is an API error answer, `Err` a transport failure.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
        query: &[(&str, String)],
    ) -> Result<Result<(StatusCode, String), ApiError>> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some((content_type, body)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "cannot reach the server at {} (is `muster serve` running?)",
                self.base
            )
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("reading the server's answer")?;
        if status.is_success() {
            Ok(Ok((status, text)))
        } else {
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            Ok(Err(ApiError { status, body }))
        }
    }

    /// Sends `body` (or nothing) and reads a JSON answer; an API error answer is an error.
    pub async fn call_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value)> {
        let body = body.map(|b| ("application/json", b.to_string()));
        let (status, text) = self
            .send(method, path, body, &[])
            .await?
            .map_err(|e| anyhow!(e))?;
        if text.is_empty() {
            return Ok((status, Value::Null));
        }
        let doc = serde_json::from_str(&text).context("the server's answer is not JSON")?;
        Ok((status, doc))
    }

    /// GET a JSON document.
    pub async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let (_, text) = self
            .send(Method::GET, path, None, query)
            .await?
            .map_err(|e| anyhow!(e))?;
        serde_json::from_str(&text).context("the server's answer is not JSON")
    }
}
