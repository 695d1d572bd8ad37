//! The DNS resolver of the outbound client: resolves a name once, refuses the whole name if
//! any of its addresses is refused by the [`Guard`], and hands the client only the addresses
//! it checked. The connection can then only go to a checked address, so a name that answers
//! with a public address when checked and a private one when connecting (DNS rebinding) gets
//! nowhere.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::guard::{Guard, Refusal};

/// A name that could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve the host name `{host}`: {reason}")]
pub struct DnsFailure {
    pub host: String,
    pub reason: String,
}

/// The guard's refusal, as the resolver reports it to the client.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct GuardRefusal(#[from] pub Refusal);

/// Resolves with the system resolver, then lets the guard check every address.
pub struct GuardedResolver {
    guard: Arc<Guard>,
    timeout: Duration,
}

impl GuardedResolver {
    pub fn new(guard: Arc<Guard>, timeout: Duration) -> Self {
        Self { guard, timeout }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let timeout = self.timeout;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve_checked(&guard, &host, timeout).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses of `host`, all of them accepted by the guard.
pub async fn resolve_checked(
    guard: &Guard,
    host: &str,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    guard.check_name(host).map_err(GuardRefusal)?;
    let failure = |reason: String| DnsFailure {
        host: host.to_string(),
        reason,
    };
    let lookup = tokio::net::lookup_host((host, 0));
    let found: Vec<SocketAddr> = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(error)) => return Err(failure(error.to_string()).into()),
        Err(_) => {
            return Err(failure(format!("no answer within {}", humanise(timeout))).into());
        }
    };
    if found.is_empty() {
        return Err(failure("no addresses".into()).into());
    }
    let mut checked = Vec::with_capacity(found.len());
    for addr in found {
        guard
            .check_address(Some(host), addr.ip())
            .map_err(GuardRefusal)?;
        if !checked.contains(&addr) {
            checked.push(addr);
        }
    }
    Ok(checked)
}

fn humanise(duration: Duration) -> String {
    muster_model::HumanDuration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::guard::AllowList;

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_unless_allowed() {
        let strict = Guard::default();
        let error = resolve_checked(&strict, "localhost", Duration::from_secs(5))
            .await
            .unwrap_err();
        let refusal = error.downcast_ref::<GuardRefusal>().expect("a refusal");
        assert!(refusal.to_string().contains("loopback"), "{refusal}");
        let allowed = Guard::new(AllowList::loopback());
        let addrs = resolve_checked(&allowed, "localhost", Duration::from_secs(5))
            .await
            .unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn names_that_do_not_exist_are_dns_failures() {
        let error = resolve_checked(
            &Guard::default(),
            "no-such-host.invalid",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        let failure = error.downcast_ref::<DnsFailure>().expect("a DNS failure");
        assert!(failure.to_string().contains("no-such-host.invalid"));
    }
}
