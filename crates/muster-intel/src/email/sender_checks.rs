//! Sender identity checks used in phishing triage: do `Reply-To`, `Return-Path` and `Sender`
//! belong to the `From` site, and does the `From` display name pretend to be another address?

use super::headers::address_domain;
use super::report::{Flag, Mailbox};
use super::site::{looks_like_domain, same_site};
use crate::domain::registered_domain;

/// The addresses that identify who sent a message.
pub(crate) struct SenderIdentity<'a> {
    pub from: Option<&'a Mailbox>,
    pub sender: Option<&'a Mailbox>,
    pub reply_to: &'a [Mailbox],
    pub return_path: Option<&'a str>,
}

/// Flags, in a fixed order: `from_missing`, `display_name_spoofing`, `sender_domain_mismatch`,
/// `reply_to_domain_mismatch`, `return_path_domain_mismatch`.
pub(crate) fn sender_flags(identity: &SenderIdentity<'_>) -> Vec<Flag> {
    let mut flags = Vec::new();
    let from_domain = identity.from.and_then(|from| from.domain.as_deref());
    let Some(from_domain) = from_domain else {
        flags.push(Flag::new(
            "from_missing",
            "no From address could be parsed".to_string(),
        ));
        return flags;
    };

    if let Some(name) = identity.from.and_then(|from| from.name.as_deref())
        && let Some(claimed) = foreign_identity_in_name(name, from_domain)
    {
        flags.push(Flag::new(
            "display_name_spoofing",
            format!(
                "From display name \"{name}\" names {claimed}, but the address is at {from_domain}"
            ),
        ));
    }
    if let Some(sender) = identity.sender
        && let (Some(address), Some(domain)) = (&sender.address, &sender.domain)
        && !same_site(domain, from_domain)
    {
        flags.push(Flag::new(
            "sender_domain_mismatch",
            format!("Sender {address} is not at the From domain {from_domain}"),
        ));
    }
    for reply_to in identity.reply_to {
        if let (Some(address), Some(domain)) = (&reply_to.address, &reply_to.domain)
            && !same_site(domain, from_domain)
        {
            flags.push(Flag::new(
                "reply_to_domain_mismatch",
                format!("Reply-To {address} is not at the From domain {from_domain}"),
            ));
            break;
        }
    }
    if let Some(return_path) = identity.return_path
        && let Some(domain) = address_domain(return_path)
        && !same_site(&domain, from_domain)
    {
        flags.push(Flag::new(
            "return_path_domain_mismatch",
            format!("Return-Path {return_path} is not at the From domain {from_domain}"),
        ));
    }
    flags
}

/// An address or domain name written in a display name that belongs to another site than
/// `from_domain` (`"PayPal <service@paypal.com>" <x@evil.example>`).
fn foreign_identity_in_name(name: &str, from_domain: &str) -> Option<String> {
    let tokens = name.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']' | ',' | ';'
            )
    });
    for token in tokens {
        let token = token.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?'));
        if token.is_empty() {
            continue;
        }
        if let Some(domain) = address_domain(token) {
            if looks_like_domain(&domain) && !same_site(&domain, from_domain) {
                return Some(token.to_string());
            }
        } else if looks_like_domain(token) {
            let domain = token.to_ascii_lowercase();
            if !same_site(&domain, from_domain) && registered_domain(&domain).is_some() {
                return Some(token.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_string),
            address: Some(address.to_string()),
            domain: address_domain(address),
        }
    }

    #[test]
    fn matching_identities_raise_nothing_and_need_no_suffix_lookup() {
        let from = mailbox(Some("IT Desk"), "it@corp.example");
        let reply_to = [mailbox(None, "helpdesk@corp.example")];
        let identity = SenderIdentity {
            from: Some(&from),
            sender: None,
            reply_to: &reply_to,
            return_path: Some("bounce@corp.example"),
        };
        assert!(sender_flags(&identity).is_empty());
    }

    #[test]
    fn missing_from_is_flagged() {
        let identity = SenderIdentity {
            from: None,
            sender: None,
            reply_to: &[],
            return_path: None,
        };
        assert_eq!(sender_flags(&identity)[0].code, "from_missing");
    }
}
