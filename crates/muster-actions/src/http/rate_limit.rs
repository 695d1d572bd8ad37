//! Outbound rate limits, per host or per credential: a request over its limit does not fail,
//! its task waits durably (`Wait::Until`) until the limit lets it through.
//!
//! [`RateLimits`] lives in the shared [`super::HttpClient`], so every action and integration in
//! the process draws from the same budgets. A budget is identified by a key (see
//! [`RateKey`]) and a [`Rate`]: requests that name the same key with the same rate share one
//! budget. The budgets are GCRA limiters (`governor`) held in memory: with several worker
//! processes each process has its own budget, so the far end sees up to N times the rate.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use muster_model::HumanDuration;

/// `count` requests per `period`, e.g. `10/1s` or `500/1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

/// A rate that is not `N/period`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a rate: write `N/period`, like `10/1s`, `4/1m` or `500/1d`")]
pub struct RateError {
    pub text: String,
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || RateError {
            text: text.to_string(),
        };
        let (count, period) = text.split_once('/').ok_or_else(error)?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| error())?;
        let period = period.trim();
        // `10/s` means `10/1s`.
        let period: HumanDuration = if period.starts_with(|c: char| c.is_ascii_digit()) {
            period.parse().map_err(|_| error())?
        } else {
            format!("1{period}").parse().map_err(|_| error())?
        };
        let period = period.as_duration();
        if period.is_zero() {
            return Err(error());
        }
        Ok(Rate { count, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, HumanDuration(self.period))
    }
}

impl Rate {
    /// Up to `count` requests at once, then one every `period / count`.
    fn quota(&self) -> Quota {
        let spacing = (self.period / self.count.get()).max(Duration::from_nanos(1));
        Quota::with_period(spacing)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.count)
    }
}

/// What a budget is for. Keys are plain strings so that integrations can add kinds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(String);

impl RateKey {
    /// Requests to one host.
    pub fn host(host: &str) -> Self {
        Self(format!(
            "host {}",
            host.trim_end_matches('.').to_ascii_lowercase()
        ))
    }

    /// Requests made with one credential.
    pub fn credential(name: &str) -> Self {
        Self(format!("credential {name}"))
    }

    /// A budget named by a playbook (`rate_limit_key`).
    pub fn named(name: &str) -> Self {
        Self(name.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The answer of [`RateLimits::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead; the request has been counted.
    Ready,
    /// Over the limit; try again at this time (nothing was counted).
    WaitUntil(SystemTime),
}

type Limiter = RateLimiter<RateKey, DefaultKeyedStateStore<RateKey>, DefaultClock>;

/// Every outbound budget of the process.
#[derive(Default)]
pub struct RateLimits {
    limiters: Mutex<HashMap<Rate, Arc<Limiter>>>,
    checks: AtomicU64,
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

/// How often idle budgets are forgotten (every this many checks).
const PRUNE_EVERY: u64 = 1024;

impl RateLimits {
    /// Counts one request against the budget of `key` at `rate`, or says when it may go.
    pub fn check(&self, key: &RateKey, rate: Rate) -> RateDecision {
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            limiters
                .entry(rate)
                .or_insert_with(|| Arc::new(RateLimiter::keyed(rate.quota())))
                .clone()
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        match limiter.check_key(key) {
            Ok(()) => RateDecision::Ready,
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                RateDecision::WaitUntil(SystemTime::now() + wait)
            }
        }
    }

    /// Forgets budgets that are full again (they behave exactly like new ones).
    fn prune(&self) {
        let limiters: Vec<Arc<Limiter>> = {
            let limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            limiters.values().cloned().collect()
        };
        for limiter in limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Rate {
        text.parse().unwrap()
    }

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(rate("10/1s").to_string(), "10/1s");
        assert_eq!(rate("10/s"), rate("10/1s"));
        assert_eq!(rate(" 4 / 1m ").period, Duration::from_secs(60));
        for bad in [
            "",
            "10",
            "0/1s",
            "x/1s",
            "10/",
            "10/0s",
            "10/fortnight",
            "-1/1s",
        ] {
            let error = bad.parse::<Rate>().unwrap_err();
            assert!(error.to_string().contains("10/1s"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_budget_lets_its_burst_through_then_says_when_to_come_back() {
        let limits = RateLimits::default();
        let key = RateKey::host("api.example.com");
        let hourly = rate("2/1h");
        let before = SystemTime::now();
        assert_eq!(limits.check(&key, hourly), RateDecision::Ready);
        assert_eq!(limits.check(&key, hourly), RateDecision::Ready);
        let RateDecision::WaitUntil(at) = limits.check(&key, hourly) else {
            panic!("the third request in an hour is over a 2/1h limit");
        };
        let wait = at.duration_since(before).unwrap();
        assert!(wait > Duration::from_secs(25 * 60), "{wait:?}");
        assert!(wait <= Duration::from_secs(31 * 60), "{wait:?}");
        // Other keys and other rates have their own budgets.
        assert_eq!(
            limits.check(&RateKey::host("other.example.com"), hourly),
            RateDecision::Ready
        );
        assert_eq!(
            limits.check(&RateKey::credential("virustotal"), hourly),
            RateDecision::Ready
        );
        assert_eq!(limits.check(&key, rate("10/1h")), RateDecision::Ready);
    }

    #[test]
    fn host_keys_ignore_case_and_the_final_dot() {
        assert_eq!(
            RateKey::host("API.Example.com."),
            RateKey::host("api.example.com")
        );
    }
}
