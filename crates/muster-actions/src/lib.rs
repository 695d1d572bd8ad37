//! The built-in action types of Muster, one file each, and the registry that lists them.
//!
//! Adding an action: write one file implementing [`muster_engine::Action`], then add one
//! line to [`registry`].

mod control;
pub mod http;
mod intel;
pub mod mail;
mod options;
pub mod triggers;

use muster_engine::{Registry, Services};

/// Every built-in action type.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register(triggers::manual::Manual)
        .register(triggers::webhook::Webhook)
        .register(triggers::schedule::Schedule)
        .register(triggers::email_inbox::EmailInbox)
        .register(control::set::Set)
        .register(control::condition::Condition)
        .register(control::explode::Explode)
        .register(control::implode::Implode)
        .register(control::deduplicate::Deduplicate)
        .register(control::delay::Delay)
        .register(control::throttle::Throttle)
        .register(control::run_playbook::RunPlaybook)
        .register(control::exit::Exit)
        .register(http::request::HttpRequest)
        .register(mail::send_email::SendEmail)
        .register(intel::extract_iocs::ExtractIocs)
        .register(intel::parse_email::ParseEmail)
        .register(intel::normalize::Normalize);
    registry
}

/// The services built-in actions need (the outbound HTTP client). Add an operator's default
/// mail server with `services.insert(mail::smtp::SmtpDefaults { .. })`.
pub fn services(http: http::HttpSettings) -> Result<Services, http::HttpError> {
    let mut services = Services::default();
    services.insert(http::HttpClient::new(http)?);
    Ok(services)
}
