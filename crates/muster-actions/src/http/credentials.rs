//! Credential references in outbound requests: rendered options carry markers
//! (`{{ credentials.NAME }}`); here they become values, just before the request is built, and
//! every hop is checked so that a value only travels to its credential's allowed domains.

use std::collections::HashMap;

use muster_engine::credentials::{Unsealed, domain_allowed};
use muster_engine::{ActionContext, ActionError, CredentialError};
use muster_model::expr::{CredentialRef, has_references, references, replace_references};
use serde_json::Value;

use super::send::OutboundRequest;
use super::{HttpClient, auth};

/// A credential whose values a request carries.
#[derive(Debug, Clone)]
pub(crate) struct Carried {
    pub name: String,
    pub allowed_domains: Vec<String>,
    /// The values put into the request (static fields, tokens).
    pub values: Vec<String>,
}

/// What credentials a request carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestSecrets {
    pub carried: Vec<Carried>,
}

impl RequestSecrets {
    pub fn add(&mut self, unsealed: &Unsealed, value: String) {
        match self.carried.iter_mut().find(|c| c.name == unsealed.name) {
            Some(carried) => {
                if !carried.values.contains(&value) {
                    carried.values.push(value);
                }
            }
            None => self.carried.push(Carried {
                name: unsealed.name.clone(),
                allowed_domains: unsealed.allowed_domains.clone(),
                values: vec![value],
            }),
        }
    }

    /// Fails unless every carried credential may go to the request's host. Checked once
    /// before the first hop, whether or not the value is visible in the request.
    pub fn check_destination(&self, request: &OutboundRequest) -> Result<(), ActionError> {
        let host = request.url.host_str().unwrap_or_default();
        for carried in &self.carried {
            if !domain_allowed(host, &carried.allowed_domains) {
                return Err(not_allowed(carried, host));
            }
        }
        Ok(())
    }

    /// Fails when a hop (a redirect) would carry a credential's value to a host outside its
    /// allowed domains.
    pub fn check_hop(&self, request: &OutboundRequest) -> Result<(), ActionError> {
        let host = request.url.host_str().unwrap_or_default();
        for carried in &self.carried {
            if !domain_allowed(host, &carried.allowed_domains)
                && carried.values.iter().any(|v| carries(request, v))
            {
                return Err(not_allowed(carried, host));
            }
        }
        Ok(())
    }
}

fn not_allowed(carried: &Carried, host: &str) -> ActionError {
    CredentialError::NotAllowed {
        credential: carried.name.clone(),
        host: host.to_string(),
        allowed: carried.allowed_domains.join(", "),
    }
    .into()
}

/// Whether `value` appears in the request's URL, headers or body, as is or encoded for a
/// URL or JSON.
fn carries(request: &OutboundRequest, value: &str) -> bool {
    let url_encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json_encoded = serde_json::to_string(value).unwrap_or_default();
    let json_encoded = json_encoded.trim_matches('"');
    let forms = [value, url_encoded.as_str(), json_encoded];
    let url = request.url.as_str();
    forms.iter().any(|form| {
        url.contains(form)
            || request
                .headers
                .values()
                .any(|h| contains_bytes(h.as_bytes(), form.as_bytes()))
            || request
                .body
                .as_ref()
                .is_some_and(|b| contains_bytes(b, form.as_bytes()))
    })
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Replaces the credential references in every string of `options` with their values.
/// `{{ credentials.NAME }}` of a token type (OAuth2, HTTP token, JWT) becomes a current token.
pub(crate) async fn reveal_options(
    ctx: &ActionContext<'_>,
    client: &HttpClient,
    options: &mut Value,
    secrets: &mut RequestSecrets,
) -> Result<(), ActionError> {
    let mut found = Vec::new();
    collect_references(options, &mut found);
    if found.is_empty() {
        return Ok(());
    }
    let mut opened: HashMap<String, Unsealed> = HashMap::new();
    let mut values: HashMap<CredentialRef, String> = HashMap::new();
    for reference in found {
        if values.contains_key(&reference) {
            continue;
        }
        if !opened.contains_key(&reference.name) {
            let unsealed = ctx.credentials.unseal(&reference.name).await?;
            opened.insert(reference.name.clone(), unsealed);
        }
        let unsealed = &opened[&reference.name];
        let value = match (&reference.field, unsealed.secret.main_value()) {
            (None, None) => auth::token(ctx, client, unsealed, false).await?,
            (field, _) => unsealed.value_of(field.as_deref())?.to_string(),
        };
        secrets.add(unsealed, value.clone());
        values.insert(reference, value);
    }
    replace_in(options, &values);
    Ok(())
}

fn collect_references(value: &Value, found: &mut Vec<CredentialRef>) {
    match value {
        Value::String(text) if has_references(text) => found.extend(references(text)),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
        Value::Object(map) => map.values().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

fn replace_in(value: &mut Value, values: &HashMap<CredentialRef, String>) {
    match value {
        Value::String(text) if has_references(text) => {
            if let Ok(revealed) =
                replace_references::<()>(text, |r| values.get(r).cloned().ok_or(()))
            {
                *text = revealed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_in(v, values)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_in(v, values)),
        _ => {}
    }
}
