//! Sending one request through the guard: each hop of a redirect chain is checked before it
//! is sent, the chain is bounded by `max_redirects` and by one deadline, and the final body is
//! read up to `max_response_bytes` (counted after decompression).
//!
//! This is the API actions and integrations call: build an [`OutboundRequest`], then
//! [`HttpClient::fetch`] it.

use std::time::Duration;

use bytes::Bytes;
use muster_engine::ActionError;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use url::Url;

use super::{HttpClient, errors, redirect};

/// A request, as plain data so that it can be re-sent (redirects, pages, retries).
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Time allowed for the whole exchange, redirects and body included (default: the
    /// client's `timeout`).
    pub timeout: Option<Duration>,
}

impl OutboundRequest {
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
        }
    }
}

/// A response with its whole body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The URL that answered (after redirects).
    pub url: Url,
    pub body: Bytes,
}

/// A check run on every hop before it is sent, beside the guard's (e.g. that a credential the
/// request carries may go to that host).
pub type HopCheck<'a> = &'a (dyn Fn(&OutboundRequest) -> Result<(), ActionError> + Sync);

impl HttpClient {
    /// Sends `request`, following redirects, and reads the response.
    pub async fn fetch(&self, request: &OutboundRequest) -> Result<Fetched, ActionError> {
        self.fetch_checked(request, &|_| Ok(())).await
    }

    /// Like [`HttpClient::fetch`], with `check_hop` run on every hop before it is sent.
    pub async fn fetch_checked(
        &self,
        request: &OutboundRequest,
        check_hop: HopCheck<'_>,
    ) -> Result<Fetched, ActionError> {
        let timeout = request.timeout.unwrap_or(self.settings.timeout);
        let deadline = Instant::now() + timeout;
        let mut current = request.clone();
        let mut chain: Vec<Url> = Vec::new();
        loop {
            self.guard
                .check_url(&current.url)
                .map_err(|refusal| ActionError::permanent(redirected(&chain, refusal)))?;
            check_hop(&current)?;
            let host = host_of(&current.url);
            let timed_out = || {
                ActionError::transient(format!(
                    "the request to `{host}` timed out after {}",
                    muster_model::HumanDuration(timeout)
                ))
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(timed_out());
            }
            let mut builder = self
                .client
                .request(current.method.clone(), current.url.clone())
                .headers(current.headers.clone())
                .timeout(remaining);
            if let Some(body) = &current.body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(|e| {
                if e.is_timeout() {
                    timed_out()
                } else {
                    errors::send_error(&e, &host)
                }
            })?;
            if let Some(next) = redirect::next_hop(&current, response.status(), response.headers())?
            {
                chain.push(current.url.clone());
                if chain.len() > self.settings.max_redirects {
                    return Err(too_many_redirects(
                        &chain,
                        &next.url,
                        self.settings.max_redirects,
                    ));
                }
                current = next;
                continue;
            }
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_capped(response, self.settings.max_response_bytes, &host)
                .await
                .map_err(|e| match e {
                    ReadError::Action(error) => error,
                    ReadError::TimedOut => timed_out(),
                })?;
            return Ok(Fetched {
                status,
                headers,
                url: current.url,
                body,
            });
        }
    }
}

fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => url.to_string(),
    }
}

fn redirected(chain: &[Url], refusal: super::Refusal) -> String {
    match chain.last() {
        Some(from) => format!("{refusal} (redirected from `{from}`)"),
        None => refusal.to_string(),
    }
}

fn too_many_redirects(chain: &[Url], next: &Url, limit: usize) -> ActionError {
    let hops: Vec<String> = chain
        .iter()
        .chain(std::iter::once(next))
        .map(|u| format!("`{u}`"))
        .collect();
    ActionError::permanent(format!(
        "more than {limit} redirects (`[http] max_redirects`): {}",
        hops.join(" -> ")
    ))
}

enum ReadError {
    Action(ActionError),
    TimedOut,
}

/// Reads the body, refusing a declared length over `cap` before reading anything and
/// stopping as soon as the decoded bytes pass `cap`.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    host: &str,
) -> Result<Bytes, ReadError> {
    let too_large = |what: String| {
        ReadError::Action(ActionError::permanent(format!(
            "the response from `{host}` {what}, more than the limit of {cap} bytes \
             (`[http] max_response_bytes`)"
        )))
    };
    if let Some(length) = response.content_length()
        && length > cap as u64
    {
        return Err(too_large(format!("declares {length} bytes")));
    }
    let mut body = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(ReadError::TimedOut),
            Err(e) => return Err(ReadError::Action(errors::body_error(&e, host))),
        };
        if body.len() + chunk.len() > cap {
            return Err(too_large("is larger".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
