//! Polling triggers (a mailbox, a feed): one poller task per trigger whose type has a
//! [`poll_interval`](crate::Action::poll_interval), running while its playbook is current and
//! enabled.
//!
//! Pollers follow the playbook cache: installing a new version restarts them, disabling or
//! deleting the playbook stops them, shutdown stops them all. A poll that fails is logged and
//! kept in the trigger's [`PollStatus`]; the next poll then waits twice as long as the one
//! before, up to [`MAX_BACKOFF`] (or the interval when that is longer). Pollers keep nothing
//! between polls: whatever must survive a restart (what was already seen) goes into the store,
//! typically as the once-key of the runs they start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use muster_model::RunId;
use muster_model::expr::{Scope, credentials_variable};
use muster_store::{Millis, Store, now_millis};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::action::{ActionError, ErrorClass};
use crate::compiled::{CompiledAction, CompiledPlaybook};
use crate::context::Services;
use crate::credentials::{Credentials, Unsealed};
use crate::engine::{Engine, TriggerRequest};
use crate::error::EngineError;
use crate::follow::Reach;

/// The longest wait between two polls after failures (unless the interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// What a polling trigger sees during one poll.
pub struct PollContext<'a> {
    pub playbook: &'a CompiledPlaybook,
    pub action: &'a CompiledAction,
    pub store: &'a dyn Store,
    pub services: &'a Services,
    pub credentials: &'a Credentials,
    engine: &'a Engine,
    status: &'a Mutex<PollStatus>,
}

/// What [`PollContext::start_run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new run, durable when this is returned.
    Run(RunId),
    /// The once-key was used before, by this run: nothing was started.
    Duplicate { run_id: String },
}

impl<'a> PollContext<'a> {
    /// The trigger's options, rendered; since no event exists yet, only constant expressions
    /// and `credentials` references (see [`PollContext::reveal`]) can be evaluated.
    pub fn options(&self) -> Result<Value, ActionError> {
        let scope = Scope::new(None).with("credentials", credentials_variable());
        let mut rendered = Map::new();
        for (name, value) in &self.action.options {
            let value = value.render(&scope).map_err(|e| {
                ActionError::permanent(format!(
                    "option `{name}`: {} (in `{}`)",
                    e.message, e.expression
                ))
            })?;
            rendered.insert(name.clone(), value);
        }
        Ok(Value::Object(rendered))
    }

    /// Starts a run of the playbook's current version from this trigger with `output` as the
    /// trigger event. With a `once_key`, a key already used by this playbook and trigger starts
    /// nothing (durably, across restarts).
    pub async fn start_run(
        &self,
        output: Value,
        once_key: Option<String>,
    ) -> Result<Started, ActionError> {
        let request = TriggerRequest {
            playbook: self.playbook.name().to_string(),
            trigger: Some(self.action.id().to_string()),
            output,
            once_key,
            even_if_disabled: false,
        };
        match self.engine.start_run(request, Reach::Quick).await {
            Ok((run, _)) => {
                if let Ok(mut status) = self.status.lock() {
                    status.runs_started += 1;
                }
                Ok(Started::Run(run))
            }
            Err(EngineError::Duplicate { run_id }) => Ok(Started::Duplicate { run_id }),
            Err(EngineError::Store(err)) => {
                Err(ActionError::transient(format!("starting a run: {err}")))
            }
            Err(err) => Err(ActionError::permanent(format!("starting a run: {err}"))),
        }
    }

    /// Replaces the credential references in rendered option text with their values, after
    /// checking that each credential may be sent to `host`.
    pub async fn reveal(&self, text: &str, host: &str) -> Result<String, ActionError> {
        Ok(self.credentials.reveal(text, host).await?)
    }

    /// Opens credential `name` for a connection to `host`.
    pub async fn credential(&self, name: &str, host: &str) -> Result<Unsealed, ActionError> {
        let unsealed = self.credentials.unseal(name).await?;
        unsealed.check_host(host)?;
        Ok(unsealed)
    }

    /// A state scope private to this playbook's trigger (`playbook/action`).
    pub fn state_scope(&self) -> String {
        format!("{}/{}", self.playbook.name(), self.action.id())
    }
}

/// How a polling trigger is doing, for the API and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollStatus {
    /// Polls finished (successfully or not) since the poller started.
    pub polls: u64,
    /// Runs the poller started.
    pub runs_started: u64,
    /// Failed polls in a row (0 after a success).
    pub failures: u32,
    pub last_poll_at: Option<Millis>,
    pub last_success_at: Option<Millis>,
    /// The message of the last failure, cleared by a success.
    pub last_error: Option<String>,
    pub next_poll_at: Option<Millis>,
}

struct Poller {
    version: i64,
    handle: JoinHandle<()>,
    status: Arc<Mutex<PollStatus>>,
    wake: Arc<Notify>,
}

/// The pollers of this process, keyed by playbook and trigger.
#[derive(Default)]
pub(crate) struct Pollers {
    running: Mutex<HashMap<(String, String), Poller>>,
    /// Set once the engine's loops run; before that, syncing starts nothing.
    started: AtomicBool,
}

impl Pollers {
    /// Starts pollers from now on, and for every current playbook.
    pub fn start(&self, engine: &Engine) {
        self.started.store(true, Ordering::SeqCst);
        for current in engine.inner.playbooks.all_current() {
            self.sync(engine, current.compiled.name());
        }
    }

    /// Makes the pollers of `playbook` match its current version and enabled flag.
    pub fn sync(&self, engine: &Engine, playbook: &str) {
        if !self.started.load(Ordering::SeqCst) {
            return;
        }
        let current = engine
            .inner
            .playbooks
            .current(playbook)
            .filter(|c| c.enabled);
        let wanted: Vec<(String, Duration)> = current
            .as_ref()
            .map(|c| {
                c.compiled
                    .triggers()
                    .filter_map(|t| {
                        let interval = t.implementation.poll_interval(&t.def)?;
                        Some((t.id().to_string(), interval))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let version = current.as_ref().map_or(0, |c| c.compiled.version);
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        running.retain(|(name, action), poller| {
            let keep = name != playbook
                || (poller.version == version && wanted.iter().any(|(id, _)| id == action));
            if !keep {
                poller.handle.abort();
            }
            keep
        });
        let Some(current) = current else {
            return;
        };
        for (action, interval) in wanted {
            let key = (playbook.to_string(), action.clone());
            if running.contains_key(&key) {
                continue;
            }
            let status = Arc::new(Mutex::new(PollStatus::default()));
            let wake = Arc::new(Notify::new());
            let handle = tokio::spawn(poll_loop(
                engine.clone(),
                current.compiled.clone(),
                action,
                interval,
                status.clone(),
                wake.clone(),
            ));
            running.insert(
                key,
                Poller {
                    version,
                    handle,
                    status,
                    wake,
                },
            );
        }
    }

    /// Stops every poller (shutdown); the returned handles end once they stopped.
    pub fn stop_all(&self) -> Vec<JoinHandle<()>> {
        self.started.store(false, Ordering::SeqCst);
        let Ok(mut running) = self.running.lock() else {
            return Vec::new();
        };
        running
            .drain()
            .map(|(_, poller)| {
                poller.handle.abort();
                poller.handle
            })
            .collect()
    }

    pub fn status(&self, playbook: &str, action: &str) -> Option<PollStatus> {
        let running = self.running.lock().ok()?;
        let poller = running.get(&(playbook.to_string(), action.to_string()))?;
        poller.status.lock().ok().map(|s| s.clone())
    }

    /// Makes the poller poll now instead of at its next time; false when none runs.
    pub fn poll_now(&self, playbook: &str, action: &str) -> bool {
        let Ok(running) = self.running.lock() else {
            return false;
        };
        match running.get(&(playbook.to_string(), action.to_string())) {
            Some(poller) => {
                poller.wake.notify_one();
                true
            }
            None => false,
        }
    }
}

async fn poll_loop(
    engine: Engine,
    compiled: Arc<CompiledPlaybook>,
    action: String,
    interval: Duration,
    status: Arc<Mutex<PollStatus>>,
    wake: Arc<Notify>,
) {
    let Some(trigger) = compiled.action(&action) else {
        return;
    };
    let mut shutdown = engine.inner.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let ctx = PollContext {
            playbook: &compiled,
            action: trigger,
            store: &*engine.inner.store,
            services: &engine.inner.services,
            credentials: &engine.inner.credentials,
            engine: &engine,
            status: &status,
        };
        let result = tokio::select! {
            result = trigger.implementation.poll(&ctx) => result,
            _ = shutdown.changed() => return,
        };
        let redactor = engine.inner.credentials.redactor();
        let result = result.map_err(|mut err| {
            err.message = redactor.redact(&err.message);
            err
        });
        let wait = record(&status, &result, interval);
        let labels = [
            ("playbook", compiled.name().to_string()),
            (
                "result",
                if result.is_ok() { "ok" } else { "error" }.to_string(),
            ),
        ];
        metrics::counter!("muster_trigger_polls_total", &labels).increment(1);
        if let Err(err) = &result {
            tracing::warn!(
                playbook = %compiled.name(),
                trigger = %action,
                error = %err,
                class = err.class.as_str(),
                retry_in_secs = wait.as_secs(),
                "polling a trigger failed"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Records a finished poll and returns how long to wait for the next one.
fn record(
    status: &Mutex<PollStatus>,
    result: &Result<(), ActionError>,
    interval: Duration,
) -> Duration {
    let now = now_millis();
    let Ok(mut status) = status.lock() else {
        return interval;
    };
    status.polls += 1;
    status.last_poll_at = Some(now);
    let wait = match result {
        Ok(()) => {
            status.failures = 0;
            status.last_success_at = Some(now);
            status.last_error = None;
            interval
        }
        Err(err) => {
            status.failures = status.failures.saturating_add(1);
            status.last_error = Some(err.message.clone());
            backoff(interval, status.failures, &err.class)
        }
    };
    status.next_poll_at = Some(now + wait.as_millis() as i64);
    wait
}

/// The wait after `failures` failed polls in a row: the interval, doubled per further
/// failure, capped at [`MAX_BACKOFF`] (or the interval); at least what the far end asked for.
fn backoff(interval: Duration, failures: u32, class: &ErrorClass) -> Duration {
    let doubled = interval.saturating_mul(1 << failures.saturating_sub(1).min(16));
    let wait = doubled.min(MAX_BACKOFF.max(interval));
    match class {
        ErrorClass::RateLimited {
            retry_after: Some(after),
        } => wait.max(*after),
        _ => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_up_to_a_cap() {
        let minute = Duration::from_secs(60);
        let t = ErrorClass::Transient;
        assert_eq!(backoff(minute, 1, &t), minute);
        assert_eq!(backoff(minute, 2, &t), 2 * minute);
        assert_eq!(backoff(minute, 3, &t), 4 * minute);
        assert_eq!(backoff(minute, 10, &t), MAX_BACKOFF);
        assert_eq!(backoff(minute, u32::MAX, &t), MAX_BACKOFF);
        let hour = Duration::from_secs(3600);
        assert_eq!(backoff(hour, 5, &t), hour, "a long interval is its own cap");
        let asked = ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(backoff(minute, 1, &asked), Duration::from_secs(600));
    }

    #[test]
    fn a_success_clears_the_failures() {
        let status = Mutex::new(PollStatus::default());
        let second = Duration::from_secs(1);
        let failed = Err(ActionError::transient("connection refused"));
        assert_eq!(record(&status, &failed, second), second);
        assert_eq!(record(&status, &failed, second), 2 * second);
        let seen = status.lock().unwrap().clone();
        assert_eq!((seen.polls, seen.failures), (2, 2));
        assert_eq!(seen.last_error.as_deref(), Some("connection refused"));
        assert_eq!(record(&status, &Ok(()), second), second);
        let seen = status.lock().unwrap().clone();
        assert_eq!((seen.polls, seen.failures, seen.last_error), (3, 0, None));
        assert!(seen.last_success_at.is_some());
    }
}
