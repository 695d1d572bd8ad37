//! Test helpers: an engine on a temporary SQLite store, waiting for runs to finish, and real
//! mail servers on loopback ([`smtp`]: an SMTP sink; [`dovecot`]: a Dovecot IMAP server).
//!
//! Tests use real parts: a real SQLite database in a temporary directory, the real engine
//! loops, and real servers on loopback.

pub mod certs;
pub mod dovecot;
pub mod smtp;

use std::sync::Arc;
use std::time::Duration;

use muster_engine::credentials::NewCredential;
use muster_engine::{Engine, EngineConfig, Installed, MasterKey, Registry, Secret, Services};
use muster_model::RunId;
use muster_store::{EventRecord, RunRecord, SqliteOptions, SqliteStore, Store};
use serde_json::Value;

/// An engine running on a store in a temporary directory, removed when dropped.
pub struct TestEngine {
    pub engine: Engine,
    pub store: SqliteStore,
    pub dir: tempfile::TempDir,
    loops: Vec<tokio::task::JoinHandle<()>>,
    registry: Registry,
    services: Services,
    config: EngineConfig,
}

/// Engine settings for tests: short polls and leases so that recovery paths run quickly.
pub fn test_config() -> EngineConfig {
    EngineConfig {
        poll_interval: Duration::from_millis(50),
        lease: Duration::from_secs(5),
        master_key: Some(MasterKey::generate()),
        ..EngineConfig::default()
    }
}

impl TestEngine {
    /// Starts an engine with `registry` and `services` on a fresh store.
    pub async fn start(registry: Registry, services: Services) -> Self {
        Self::start_with(registry, services, test_config()).await
    }

    pub async fn start_with(registry: Registry, services: Services, config: EngineConfig) -> Self {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        Self::open(dir, registry, services, config).await
    }

    async fn open(
        dir: tempfile::TempDir,
        registry: Registry,
        services: Services,
        config: EngineConfig,
    ) -> Self {
        let store =
            SqliteStore::open(dir.path(), SqliteOptions::default()).expect("opening the store");
        let engine = Engine::new(
            Arc::new(store.clone()),
            registry.clone(),
            services.clone(),
            config.clone(),
        );
        engine
            .credentials()
            .verify_key()
            .await
            .expect("checking the master key");
        engine.load_playbooks().await.expect("loading playbooks");
        let loops = engine.start();
        Self {
            engine,
            store,
            dir,
            loops,
            registry,
            services,
            config,
        }
    }

    /// Stops this engine as a process would at shutdown and starts a new one on the same
    /// data directory: what survives is only what the store kept.
    pub async fn restart(self) -> Self {
        let Self {
            engine,
            store,
            dir,
            loops,
            registry,
            services,
            config,
        } = self;
        engine.shutdown(Duration::from_secs(5)).await;
        for handle in loops {
            handle.await.expect("an engine loop panicked");
        }
        drop(engine);
        drop(store);
        Self::open(dir, registry, services, config).await
    }

    /// Installs a playbook, panicking with its diagnostics when it is invalid.
    pub async fn install(&self, yaml: &str) -> Installed {
        match self.engine.install("test.yaml", yaml).await {
            Ok(installed) => installed,
            Err(muster_engine::EngineError::Invalid(diagnostics)) => {
                let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
                panic!("invalid playbook:\n{}", lines.join("\n"))
            }
            Err(err) => panic!("installing the playbook failed: {err}"),
        }
    }

    /// Starts a run of `playbook` with `payload` on its default trigger.
    pub async fn start_run(&self, playbook: &str, payload: Value) -> RunId {
        self.engine
            .trigger_with_payload(playbook, payload, false)
            .await
            .expect("starting the run")
    }

    /// Waits (up to `timeout`) for the run to end and returns it with its events.
    pub async fn finish(&self, run: RunId, timeout: Duration) -> (RunRecord, Vec<EventRecord>) {
        self.engine
            .wait_until_finished(run, timeout)
            .await
            .unwrap_or_else(|| panic!("run {run} did not finish within {timeout:?}"));
        let record = self.store.run(run).await.unwrap().expect("the run exists");
        let events = self.store.run_events(run).await.unwrap();
        (record, events)
    }

    /// Stores a credential: `value` is its JSON form (`{"type": "text", "value": "…"}`).
    pub async fn set_credential(&self, name: &str, value: Value, allowed_domains: &[&str]) {
        let secret = Secret::from_json(value).expect("a valid credential value");
        self.engine
            .credentials()
            .set(NewCredential {
                name: name.to_string(),
                secret,
                allowed_domains: allowed_domains.iter().map(|d| d.to_string()).collect(),
                description: None,
            })
            .await
            .expect("storing the credential");
    }

    /// Stores a resource.
    pub async fn set_resource(&self, name: &str, value: Value) {
        self.store
            .put_resource(name, &value, None)
            .await
            .expect("storing the resource");
    }

    /// Starts a run and waits up to 10 s for it to end.
    pub async fn run(&self, playbook: &str, payload: Value) -> (RunRecord, Vec<EventRecord>) {
        let run = self.start_run(playbook, payload).await;
        self.finish(run, Duration::from_secs(10)).await
    }
}

/// The outputs of the events an action emitted, in order.
pub fn outputs_of<'a>(events: &'a [EventRecord], action: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e.action == action)
        .map(|e| &e.output)
        .collect()
}
