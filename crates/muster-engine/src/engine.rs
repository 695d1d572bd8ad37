//! The engine: installs playbooks, starts runs, and executes tasks with this process's
//! workers. Build one with [`Engine::new`], then call [`Engine::start`] to run the background
//! loops (claiming, lease heartbeats, schedules, retention).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use muster_model::expr::Expressions;
use muster_model::load::Diagnostic;
use muster_model::{ContextNode, EventId, RunId, TaskId};
use muster_store::{
    Effects, NewEvent, NewRun, NewTask, NewTaskState, PlaybookRecord, StartRun, Store, StoreError,
    now_millis,
};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::compiled::{CompiledAction, CompiledPlaybook};
use crate::context::Services;
use crate::credentials::{Credentials, MasterKey};
use crate::error::EngineError;
use crate::execute::{Gate, HeldTasks, Job};
use crate::follow::{Emitted, Reach, follow};
use crate::playbooks::{Current, HookRoute, PlaybookCache};
use crate::polling::{PollStatus, Pollers};
use crate::registry::Registry;
use crate::watch::{RunResult, Watch, Watchers};

/// Settings of the engine. Every field has a default that works for one process.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This worker's name in leases; unique per process.
    pub worker_id: String,
    /// Tasks executing at the same time in this process.
    pub max_in_flight: usize,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// How often to look for due tasks when nothing announces them.
    pub poll_interval: Duration,
    /// How often finished runs past their retention are pruned.
    pub retention_interval: Duration,
    /// The key credentials are sealed with; without one, credentials cannot be written or
    /// used.
    pub master_key: Option<MasterKey>,
    /// Whether [`Engine::start`] starts the pollers of polling triggers (a one-shot local run
    /// does not want to read a real mailbox).
    pub run_pollers: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            worker_id: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::now_v7().simple().to_string()[24..]
            ),
            max_in_flight: 512,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            retention_interval: Duration::from_secs(3600),
            master_key: None,
            run_pollers: true,
        }
    }
}

/// How a new run begins.
#[derive(Debug, Clone, Default)]
pub struct TriggerRequest {
    pub playbook: String,
    /// The trigger action; `None` picks the default trigger.
    pub trigger: Option<String>,
    /// The trigger event's output.
    pub output: Value,
    /// Start only if this key was never used for this playbook and trigger.
    pub once_key: Option<String>,
    /// Start even when the playbook is disabled (one-shot local runs).
    pub even_if_disabled: bool,
}

/// How a run starts: its trigger event and where it comes from.
pub(crate) struct RunStart<'a> {
    pub trigger: &'a str,
    pub output: Value,
    /// For child runs: the parent run and the task waiting for this one.
    pub parent: Option<(RunId, TaskId)>,
    pub once_key: Option<(String, String)>,
    pub schedule_next: Option<muster_store::ScheduleAdvance>,
    pub reach: Reach,
}

impl Default for RunStart<'_> {
    fn default() -> Self {
        Self {
            trigger: "",
            output: Value::Null,
            parent: None,
            once_key: None,
            schedule_next: None,
            reach: Reach::Quick,
        }
    }
}

/// A playbook that was validated and stored.
#[derive(Clone)]
pub struct Installed {
    pub record: PlaybookRecord,
    pub compiled: Arc<CompiledPlaybook>,
}

/// The engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub registry: Arc<Registry>,
    pub expressions: Expressions,
    pub services: Services,
    pub credentials: Credentials,
    pub config: EngineConfig,
    pub worker: Arc<str>,
    pub in_flight: Arc<Semaphore>,
    /// Wakes the claim loop: tasks became due for any worker.
    pub wake: Notify,
    /// Wakes the schedule loop: schedules changed.
    pub wake_schedules: Notify,
    /// The earliest known time a parked task becomes due (`i64::MAX` when unknown).
    pub next_due: AtomicI64,
    pub watchers: Arc<Watchers>,
    pub held: Arc<HeldTasks>,
    pub playbooks: PlaybookCache,
    pub pollers: Pollers,
    pub shutdown: watch::Sender<bool>,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        registry: Registry,
        services: Services,
        config: EngineConfig,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        let credentials = Credentials::new(store.clone(), config.master_key.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                registry: Arc::new(registry),
                expressions: Expressions::new(),
                services,
                credentials,
                worker: config.worker_id.as_str().into(),
                in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
                config,
                wake: Notify::new(),
                wake_schedules: Notify::new(),
                next_due: AtomicI64::new(i64::MAX),
                watchers: Arc::default(),
                held: Arc::default(),
                playbooks: PlaybookCache::default(),
                pollers: Pollers::default(),
                shutdown,
            }),
        }
    }

    /// Credentials: writing, listing and opening them, and the redactor.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub fn expressions(&self) -> &Expressions {
        &self.inner.expressions
    }

    /// Loads every stored playbook into memory. Call once before [`Engine::start`].
    pub async fn load_playbooks(&self) -> Result<Vec<(String, EngineError)>, EngineError> {
        let mut broken = Vec::new();
        for record in self.inner.store.playbooks().await? {
            match PlaybookCache::compile_record(
                &record,
                &self.inner.registry,
                &self.inner.expressions,
            ) {
                Ok(compiled) => self.inner.playbooks.set_current(compiled, record.enabled),
                Err(err) => broken.push((record.name.clone(), err)),
            }
        }
        Ok(broken)
    }

    /// Starts the background loops and the pollers of enabled polling triggers; they stop on
    /// [`Engine::shutdown`].
    pub fn start(&self) -> Vec<JoinHandle<()>> {
        if self.inner.config.run_pollers {
            self.inner.pollers.start(self);
        }
        vec![
            tokio::spawn(crate::poller::claim_loop(self.inner.clone())),
            tokio::spawn(crate::poller::heartbeat_loop(self.inner.clone())),
            tokio::spawn(crate::scheduler::schedule_loop(self.clone())),
            tokio::spawn(crate::retention::retention_loop(self.inner.clone())),
        ]
    }

    /// Stops claiming, lets executing tasks finish (up to `grace`), and releases the claims
    /// of tasks still held so that another process can take them at once.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.inner.shutdown.send(true);
        for poller in self.inner.pollers.stop_all() {
            let _ = poller.await;
        }
        let all = self.inner.config.max_in_flight.max(1) as u32;
        let _ = tokio::time::timeout(grace, self.inner.in_flight.acquire_many(all)).await;
        if let Err(err) = self.inner.store.release(&self.inner.worker).await {
            tracing::warn!(error = %err, "releasing claims at shutdown failed");
        }
    }

    /// Validates a playbook without storing it.
    pub fn validate(&self, file: &str, text: &str) -> Result<CompiledPlaybook, Vec<Diagnostic>> {
        CompiledPlaybook::load(file, text, &self.inner.registry, &self.inner.expressions)
    }

    /// Validates and stores a playbook (a new version when its canonical source changed).
    pub async fn install(&self, file: &str, text: &str) -> Result<Installed, EngineError> {
        let compiled = self.validate(file, text).map_err(EngineError::Invalid)?;
        let name = compiled.name().to_string();
        for trigger in compiled.triggers() {
            if let Some(path) = trigger.implementation.webhook_path(&trigger.def)
                && let Some(owner) = self.inner.playbooks.hook_owner(&path, &name)
            {
                return Err(EngineError::Invalid(vec![Diagnostic {
                    file: file.to_string(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "webhook path `{path}` of action `{}` is already used by playbook `{owner}`",
                        trigger.id()
                    ),
                    hint: Some("choose another `path`".into()),
                }]));
            }
        }
        let playbook = &compiled.playbook;
        let record = self
            .inner
            .store
            .put_playbook(
                &name,
                &compiled.source,
                playbook.team.as_deref(),
                playbook.description.as_deref(),
            )
            .await?;
        let compiled = CompiledPlaybook::compile(
            compiled.playbook,
            record.version,
            &self.inner.registry,
            &self.inner.expressions,
        )
        .map_err(EngineError::BadRequest)?;
        let compiled = Arc::new(compiled);
        self.inner
            .playbooks
            .set_current(compiled.clone(), record.enabled);
        self.inner.pollers.sync(self, &name);
        crate::scheduler::sync_schedules(self, &compiled, record.enabled).await?;
        Ok(Installed { record, compiled })
    }

    /// The current version of a playbook and whether it is enabled.
    pub fn playbook(&self, name: &str) -> Option<(Arc<CompiledPlaybook>, bool)> {
        self.inner
            .playbooks
            .current(name)
            .map(|c| (c.compiled, c.enabled))
    }

    /// Current versions of all playbooks, by name.
    pub fn playbooks(&self) -> Vec<(Arc<CompiledPlaybook>, bool)> {
        self.inner
            .playbooks
            .all_current()
            .into_iter()
            .map(|c| (c.compiled, c.enabled))
            .collect()
    }

    /// A specific stored version.
    pub async fn playbook_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Arc<CompiledPlaybook>, EngineError> {
        let inner = &self.inner;
        inner
            .playbooks
            .version(
                &*inner.store,
                &inner.registry,
                &inner.expressions,
                name,
                version,
            )
            .await
    }

    pub async fn delete_playbook(&self, name: &str) -> Result<bool, EngineError> {
        let deleted = self.inner.store.delete_playbook(name).await?;
        self.inner.playbooks.remove(name);
        self.inner.pollers.sync(self, name);
        Ok(deleted)
    }

    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<bool, EngineError> {
        let changed = self.inner.store.set_playbook_enabled(name, enabled).await?;
        if changed {
            self.inner.playbooks.set_enabled(name, enabled);
            self.inner.pollers.sync(self, name);
            if let Some(current) = self.inner.playbooks.current(name) {
                crate::scheduler::sync_schedules(self, &current.compiled, enabled).await?;
            }
        }
        Ok(changed)
    }

    /// How the poller of a polling trigger is doing; `None` when none runs (not a polling
    /// trigger, the playbook is disabled, or the engine was not started).
    pub fn poll_status(&self, playbook: &str, trigger: &str) -> Option<PollStatus> {
        self.inner.pollers.status(playbook, trigger)
    }

    /// Makes a polling trigger poll now; false when no poller runs for it.
    pub fn poll_now(&self, playbook: &str, trigger: &str) -> bool {
        self.inner.pollers.poll_now(playbook, trigger)
    }

    /// The playbook and trigger listening on `/hooks/{path}`.
    pub fn webhook(&self, path: &str) -> Option<(HookRoute, Current)> {
        let route = self.inner.playbooks.hook(path)?;
        let current = self.inner.playbooks.current(&route.playbook)?;
        Some((route, current))
    }

    /// Starts a run; returns once the run, its trigger event and first tasks are durable.
    pub async fn trigger(&self, request: TriggerRequest) -> Result<RunId, EngineError> {
        self.start_run(request, Reach::Quick)
            .await
            .map(|(run, _)| run)
    }

    /// Starts a run and waits (up to `timeout`) for its `exit` output or its end. Returns the
    /// run id and, unless the wait timed out, the result. Since the caller waits anyway, steps
    /// without side effects (HTTP GETs included) run before the run's first write, so a
    /// read-only playbook answers after a single commit.
    pub async fn trigger_and_wait(
        &self,
        request: TriggerRequest,
        timeout: Duration,
    ) -> Result<(RunId, Option<RunResult>), EngineError> {
        let (run, watch) = self.start_run(request, Reach::NoSideEffects).await?;
        let watch = watch.expect("a start that reaches past quick steps is watched");
        Ok((run, self.wait_on(run, watch, timeout).await))
    }

    pub(crate) async fn start_run(
        &self,
        request: TriggerRequest,
        reach: Reach,
    ) -> Result<(RunId, Option<Watch>), EngineError> {
        // A caller that waits for the result (and only such a caller) runs more inline.
        let watch = reach == Reach::NoSideEffects;
        let current = self
            .inner
            .playbooks
            .current(&request.playbook)
            .ok_or_else(|| EngineError::UnknownPlaybook(request.playbook.clone()))?;
        if !current.enabled && !request.even_if_disabled {
            return Err(EngineError::Disabled(request.playbook.clone()));
        }
        let compiled = current.compiled;
        let trigger = match &request.trigger {
            Some(id) => compiled
                .action(id)
                .filter(|a| a.implementation.spec().trigger)
                .ok_or_else(|| {
                    EngineError::BadRequest(format!(
                        "playbook {} has no trigger `{id}`",
                        request.playbook
                    ))
                })?,
            None => compiled.default_trigger().ok_or_else(|| {
                EngineError::BadRequest(format!("playbook {} has no trigger", request.playbook))
            })?,
        };
        let once_key = request
            .once_key
            .map(|key| (format!("{}/{}", compiled.name(), trigger.id()), key));
        let (start, jobs, run_output) = self
            .prepare_run(
                &compiled,
                RunStart {
                    trigger: trigger.id(),
                    output: request.output,
                    once_key,
                    reach,
                    ..RunStart::default()
                },
            )
            .await;
        let run = start.run.id;
        // Watch before starting: a fast run may end before `start` returns.
        let watch = watch.then(|| self.inner.watchers.watch(run));
        let ticket = crate::execute::share(self.inner.store.start_run(start));
        metrics::counter!("muster_runs_started_total", "playbook" => compiled.name().to_string())
            .increment(1);
        self.inner.dispatch(jobs, Some(ticket.clone()));
        let effects = ticket.await.map_err(|err| match err {
            StoreError::Duplicate { run_id, .. } => EngineError::Duplicate { run_id },
            other => EngineError::Store(other),
        })?;
        self.inner.handle_effects(&effects);
        self.inner.announce_output(run, run_output);
        Ok((run, watch))
    }

    /// Starts a run on its default trigger with a payload given by hand, shaped the way the
    /// trigger would shape it (a webhook wraps it as a request body).
    pub async fn trigger_with_payload(
        &self,
        playbook: &str,
        payload: Value,
        even_if_disabled: bool,
    ) -> Result<RunId, EngineError> {
        let (compiled, _) = self
            .playbook(playbook)
            .ok_or_else(|| EngineError::UnknownPlaybook(playbook.to_string()))?;
        let trigger = compiled.default_trigger().ok_or_else(|| {
            EngineError::BadRequest(format!("playbook {playbook} has no trigger"))
        })?;
        let output = trigger.implementation.trigger_output(&trigger.def, payload);
        self.trigger(TriggerRequest {
            playbook: playbook.to_string(),
            trigger: Some(trigger.id().to_string()),
            output,
            once_key: None,
            even_if_disabled,
        })
        .await
    }

    /// Builds the write that starts a run (with the steps that ran inline after the trigger),
    /// and the jobs that execute its first tasks here.
    pub(crate) async fn prepare_run(
        &self,
        compiled: &Arc<CompiledPlaybook>,
        start: RunStart<'_>,
    ) -> (StartRun, Vec<Job>, Option<Value>) {
        let RunStart {
            trigger,
            output,
            parent,
            once_key,
            schedule_next,
            reach,
        } = start;
        let now = now_millis();
        let run = RunId::new();
        let event = EventId::new();
        let trigger_event = NewEvent {
            id: event,
            parent: None,
            action: trigger.to_string(),
            port: "out".into(),
            output_json: output.to_string(),
            task: None,
        };
        let node = ContextNode::new(event, trigger, Arc::new(output), None);
        let emitted = vec![Emitted {
            action: trigger,
            port: "out".into(),
            node,
        }];
        let followers = follow(&self.inner, compiled, run, emitted, reach, now).await;
        let start = StartRun {
            run: NewRun {
                id: run,
                playbook: compiled.name().to_string(),
                version: compiled.version,
                trigger_action: trigger.to_string(),
                parent,
            },
            trigger: trigger_event,
            events: followers.events,
            tasks: followers.tasks,
            run_output: followers.run_output.as_ref().map(Value::to_string),
            once_key,
            schedule_next,
            max_events: compiled.playbook.settings.max_events_per_run(),
            now,
        };
        (start, followers.jobs, followers.run_output)
    }

    /// Waits for the run's `exit` output or its end, up to `timeout`.
    pub async fn wait_for_run(&self, run: RunId, timeout: Duration) -> Option<RunResult> {
        let watch = self.inner.watchers.watch(run);
        if let Some(result) = self.finished_result(run).await {
            return Some(result);
        }
        self.wait_on(run, watch, timeout).await
    }

    async fn wait_on(&self, run: RunId, watch: Watch, timeout: Duration) -> Option<RunResult> {
        let deadline = tokio::time::Instant::now() + timeout;
        tokio::pin!(watch);
        loop {
            // Another process may finish the run: look at the store now and then.
            let check = tokio::time::Instant::now() + Duration::from_secs(1);
            tokio::select! {
                result = &mut watch => return result,
                _ = tokio::time::sleep_until(check.min(deadline)) => {
                    if let Some(result) = self.finished_result(run).await {
                        return Some(result);
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return None;
                    }
                }
            }
        }
    }

    /// Waits for the run to reach a terminal status.
    pub async fn wait_until_finished(&self, run: RunId, timeout: Duration) -> Option<RunResult> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.wait_for_run(run, left).await {
                Some(result) if result.status.is_some() => return Some(result),
                Some(_) if !left.is_zero() => continue,
                _ => return None,
            }
        }
    }

    async fn finished_result(&self, run: RunId) -> Option<RunResult> {
        let record = self.inner.store.run(run).await.ok()??;
        record.status.is_terminal().then(|| RunResult {
            run_id: run,
            status: Some(record.status),
            output: record.output,
            reason: record.reason,
        })
    }

    /// Cancels a run that has not finished.
    pub async fn cancel(&self, run: RunId, reason: &str) -> Result<(), EngineError> {
        let effects = self
            .inner
            .store
            .cancel_run(run, reason)
            .await
            .map_err(|err| match err {
                StoreError::NotFound { .. } => EngineError::UnknownRun(run.to_string()),
                other => EngineError::Store(other),
            })?;
        self.inner.handle_effects(&effects);
        Ok(())
    }
}

impl Inner {
    /// Creates the task that runs `action` on `node`, claimed by this process when it has
    /// room (then with the job that runs it here), due for any worker otherwise.
    /// `action_state` is handed to its first execution.
    pub(crate) fn new_task(
        self: &Arc<Self>,
        compiled: &Arc<CompiledPlaybook>,
        run: RunId,
        action: &CompiledAction,
        node: &Arc<ContextNode>,
        action_state: Option<Value>,
        now: i64,
    ) -> (NewTask, Option<Job>) {
        let id = TaskId::new();
        let (state, job) = match self.in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let task = crate::context::TaskInfo {
                    id,
                    run_id: run,
                    attempt: 1,
                    state: action_state.clone(),
                };
                let job = Job::new(
                    self,
                    task,
                    1,
                    compiled.clone(),
                    action.id().into(),
                    node.clone(),
                    permit,
                );
                let state = NewTaskState::Claimed {
                    owner: self.worker.clone(),
                    lease_until: now + self.config.lease.as_millis() as i64,
                };
                (state, Some(job))
            }
            Err(_) => (NewTaskState::Ready { run_at: now }, None),
        };
        let task = NewTask {
            id,
            action: action.id().to_string(),
            input_event: node.event,
            state,
            action_state: action_state.map(|s| s.to_string()),
            attempt: 1,
        };
        (task, job)
    }

    /// Runs `jobs` here once `gate` (the write that created their tasks) allows.
    pub(crate) fn dispatch(self: &Arc<Self>, jobs: Vec<Job>, gate: Option<Gate>) {
        for mut job in jobs {
            job.gate = gate.clone();
            tokio::spawn(crate::execute::run_job(self.clone(), job));
        }
    }

    /// Tells waiters the run's `exit` output once the write that recorded it committed.
    pub(crate) fn announce_output(&self, run: RunId, output: Option<Value>) {
        if let Some(output) = output {
            self.watchers.announce(RunResult {
                run_id: run,
                status: None,
                output: Some(output),
                reason: None,
            });
        }
    }

    /// Reacts to a committed write: announces finished runs and wakes the claim loop.
    pub(crate) fn handle_effects(&self, effects: &Effects) {
        for finished in &effects.finished {
            metrics::counter!("muster_runs_finished_total", "status" => finished.status.as_str())
                .increment(1);
            self.watchers.announce(RunResult {
                run_id: finished.id,
                status: Some(finished.status),
                output: finished.output.clone(),
                reason: finished.reason.clone(),
            });
        }
        if let Some(due) = effects.next_due {
            self.next_due.fetch_min(due, Ordering::Relaxed);
            self.wake.notify_one();
        }
        if effects.tasks_due {
            self.wake.notify_one();
        }
    }
}
