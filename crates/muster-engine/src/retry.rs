//! When to try a failed task again.

use std::time::Duration;

use muster_model::RetryPolicy;

use crate::action::{ActionError, ErrorClass};

/// The delay before attempt `next_attempt` (2 for the first retry), or `None` when the
/// policy is exhausted or the error is permanent.
pub fn retry_delay(
    policy: &RetryPolicy,
    error: &ActionError,
    next_attempt: u32,
) -> Option<Duration> {
    if !error.is_retryable() || next_attempt > policy.attempts {
        return None;
    }
    let retries_so_far = next_attempt.saturating_sub(2);
    let base = policy.backoff.as_duration().as_secs_f64()
        * policy.factor.max(1.0).powi(retries_so_far as i32);
    let capped = base.min(policy.max_backoff.as_duration().as_secs_f64());
    let jittered = if policy.jitter {
        capped * rand::random_range(0.5..1.5)
    } else {
        capped
    };
    let mut delay = Duration::from_secs_f64(jittered.max(0.0));
    if let ErrorClass::RateLimited {
        retry_after: Some(after),
    } = error.class
    {
        delay = delay.max(after);
    }
    Some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_model::HumanDuration;

    fn policy(jitter: bool) -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            backoff: HumanDuration::from_secs(1),
            max_backoff: HumanDuration::from_secs(3),
            factor: 2.0,
            jitter,
        }
    }

    #[test]
    fn backs_off_exponentially_up_to_the_cap() {
        let error = ActionError::transient("timeout");
        let delays: Vec<_> = (2..=5)
            .map(|n| retry_delay(&policy(false), &error, n))
            .collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(3)),
                None
            ]
        );
    }

    #[test]
    fn permanent_errors_are_not_retried_and_retry_after_is_honoured() {
        assert_eq!(
            retry_delay(&policy(false), &ActionError::permanent("403"), 2),
            None
        );
        let limited = ActionError::rate_limited("429", Some(Duration::from_secs(30)));
        assert_eq!(
            retry_delay(&policy(true), &limited, 2),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn jitter_stays_within_half_to_one_and_a_half() {
        let error = ActionError::transient("x");
        for _ in 0..100 {
            let d = retry_delay(&policy(true), &error, 2).unwrap();
            assert!(
                d >= Duration::from_millis(500) && d <= Duration::from_millis(1500),
                "{d:?}"
            );
        }
    }
}
