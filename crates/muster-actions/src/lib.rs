//! The built-in action types of Muster, one file each, and the registry that lists them.
//!
//! Adding an action: write one file implementing [`muster_engine::Action`], then add one
//! line to [`builtin_actions`]. Adding an integration: write `integrations/<vendor>.yaml` (see
//! `docs/integrations.md`); it is compiled in and registered with the others.

mod control;
pub mod http;
pub mod integrations;
mod intel;
pub mod mail;
mod options;
pub mod triggers;

use muster_engine::{Registry, Services};

/// Every built-in action type and the actions of the built-in integrations.
pub fn registry() -> Registry {
    registry_with(integrations::Library::builtin())
}

/// The built-in action types and the actions of `library` (the built-in integrations plus
/// an operator's, see [`integrations::Library::with_dir`]).
pub fn registry_with(library: &integrations::Library) -> Registry {
    let mut registry = builtin_actions();
    library.register(&mut registry);
    registry
}

/// The built-in action types, without integrations.
pub fn builtin_actions() -> Registry {
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
