//! The SQLite store's transactions: run accounting, claims and leases, fencing, parking,
//! fan-in groups, optimistic state, child runs, cancellation, retention and the directory lock.

use std::sync::Arc;

use muster_model::{EventId, RunId, TaskId};
use muster_store::*;
use serde_json::json;

const WORKER: &str = "worker-a";
const LEASE: i64 = 60_000;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    (dir, store)
}

fn event(action: &str, parent: Option<EventId>, output: serde_json::Value) -> NewEvent {
    NewEvent {
        id: EventId::new(),
        parent,
        action: action.into(),
        port: "out".into(),
        output_json: output.to_string(),
        task: None,
    }
}

fn ready_task(action: &str, input: EventId) -> NewTask {
    NewTask {
        id: TaskId::new(),
        action: action.into(),
        input_event: input,
        state: NewTaskState::Ready { run_at: 0 },
        action_state: None,
        attempt: 1,
    }
}

/// Starts a run of playbook `pb` with `actions` as the first tasks; returns run and trigger.
async fn start(store: &SqliteStore, actions: &[&str]) -> (RunId, EventId, Effects) {
    let run = RunId::new();
    let trigger = event("hook", None, json!({"n": 1}));
    let trigger_id = trigger.id;
    let effects = store
        .start_run(StartRun {
            run: NewRun {
                id: run,
                playbook: "pb".into(),
                version: 1,
                trigger_action: "hook".into(),
                parent: None,
            },
            trigger,
            events: vec![],
            run_output: None,
            tasks: actions.iter().map(|a| ready_task(a, trigger_id)).collect(),
            once_key: None,
            schedule_next: None,
            max_events: 10_000,
            now: now_millis(),
        })
        .await
        .unwrap();
    (run, trigger_id, effects)
}

async fn claim_all(store: &SqliteStore) -> Vec<ClaimedTask> {
    let now = now_millis();
    store
        .claim(WORKER, 100, now + LEASE, now)
        .await
        .unwrap()
        .tasks
}

fn completion(task: &ClaimedTask, resolution: Resolution) -> Completion {
    Completion {
        task: task.id,
        run: task.run_id,
        playbook: task.playbook.clone(),
        version: task.version,
        action: task.action.clone(),
        claim: task.claim,
        resolution,
        state_writes: vec![],
        group_ops: vec![],
        max_events: 10_000,
        now: now_millis(),
    }
}

fn done(events: Vec<NewEvent>, tasks: Vec<NewTask>) -> Resolution {
    Resolution::Done {
        events,
        tasks,
        run_output: None,
    }
}

async fn status(store: &SqliteStore, run: RunId) -> RunRecord {
    store.run(run).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_run_succeeds_when_its_last_task_completes() {
    let (_dir, store) = open();
    let (run, trigger, _) = start(&store, &["a", "b"]).await;
    assert_eq!(status(&store, run).await.status, RunStatus::Running);
    let tasks = claim_all(&store).await;
    assert_eq!(tasks.len(), 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.input_event == trigger && t.attempt == 1)
    );

    let out = event("a", Some(trigger), json!({"x": 1}));
    let next = ready_task("c", out.id);
    store
        .complete(completion(&tasks[0], done(vec![out], vec![next])))
        .await
        .unwrap();
    let b = &tasks[1];
    store
        .complete(completion(b, done(vec![], vec![])))
        .await
        .unwrap();
    let record = status(&store, run).await;
    assert_eq!(
        (record.status, record.pending, record.events),
        (RunStatus::Running, 1, 2)
    );

    let c = claim_all(&store).await;
    let effects = store
        .complete(completion(&c[0], done(vec![], vec![])))
        .await
        .unwrap();
    assert_eq!(effects.finished.len(), 1);
    assert_eq!(effects.finished[0].status, RunStatus::Succeeded);
    let record = status(&store, run).await;
    assert_eq!(record.status, RunStatus::Succeeded);
    assert!(record.finished_at.is_some());
    let events = store.run_events(run).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].output, json!({"x": 1}));
    let chain = store.event_chain(events[1].id).await.unwrap();
    assert_eq!(
        chain.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["a", "hook"]
    );
}

#[tokio::test]
async fn a_trigger_without_links_finishes_at_once() {
    let (_dir, store) = open();
    let (run, _, effects) = start(&store, &[]).await;
    assert_eq!(effects.finished[0].id, run);
    assert_eq!(status(&store, run).await.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn a_completion_is_recorded_once() {
    let (_dir, store) = open();
    let (run, trigger, _) = start(&store, &["a"]).await;
    let task = claim_all(&store).await.remove(0);
    let first = completion(
        &task,
        done(vec![event("a", Some(trigger), json!(1))], vec![]),
    );
    let second = completion(
        &task,
        done(vec![event("a", Some(trigger), json!(2))], vec![]),
    );
    store.complete(first).await.unwrap();
    let err = store.complete(second).await.unwrap_err();
    assert!(matches!(err, StoreError::LostClaim { .. }), "{err}");
    assert_eq!(store.run_events(run).await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_fences_the_old_holder() {
    let (_dir, store) = open();
    let (_, trigger, _) = start(&store, &["a"]).await;
    let now = now_millis();
    let old = store
        .claim(WORKER, 10, now - 1, now)
        .await
        .unwrap()
        .tasks
        .remove(0);
    let new = store
        .claim("worker-b", 10, now + LEASE, now)
        .await
        .unwrap()
        .tasks
        .remove(0);
    assert_eq!(old.id, new.id);
    assert!(new.claim > old.claim);
    let stale = store
        .complete(completion(
            &old,
            done(vec![event("a", Some(trigger), json!(1))], vec![]),
        ))
        .await;
    assert!(matches!(stale, Err(StoreError::LostClaim { .. })));
    store
        .complete(completion(&new, done(vec![], vec![])))
        .await
        .unwrap();
}

#[tokio::test]
async fn heartbeats_keep_leases_and_release_returns_tasks() {
    let (_dir, store) = open();
    start(&store, &["a"]).await;
    let now = now_millis();
    let held = store.claim(WORKER, 10, now - 1, now).await.unwrap().tasks;
    let ids = held.iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        store
            .heartbeat(WORKER, ids.clone(), now + LEASE)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.heartbeat("worker-b", ids, now + LEASE).await.unwrap(),
        0
    );
    assert!(
        store
            .claim("worker-b", 10, now + LEASE, now)
            .await
            .unwrap()
            .tasks
            .is_empty()
    );
    assert_eq!(store.release(WORKER).await.unwrap(), 1);
    assert_eq!(
        store
            .claim("worker-b", 10, now + LEASE, now)
            .await
            .unwrap()
            .tasks
            .len(),
        1
    );
}

#[tokio::test]
async fn parked_and_retrying_tasks_make_the_run_wait_with_a_reason() {
    let (_dir, store) = open();
    let (run, _, _) = start(&store, &["delay", "http"]).await;
    let tasks = claim_all(&store).await;
    let later = now_millis() + 3_600_000;
    let park = Resolution::Park {
        run_at: Some(later),
        state: json!({"until": later}).to_string(),
        reason: "waiting for delay until later".into(),
        child: None,
    };
    let effects = store.complete(completion(&tasks[0], park)).await.unwrap();
    assert_eq!(effects.next_due, Some(later));
    assert_eq!(status(&store, run).await.status, RunStatus::Running);

    let retry_at = now_millis() + 50;
    let retry = Resolution::Retry {
        run_at: retry_at,
        attempt: 2,
        reason: "retrying http after 429, attempt 2/3".into(),
    };
    store.complete(completion(&tasks[1], retry)).await.unwrap();
    let record = status(&store, run).await;
    assert_eq!(record.status, RunStatus::Waiting);
    assert_eq!(
        record.reason.as_deref(),
        Some("retrying http after 429, attempt 2/3")
    );

    let now = retry_at + 1;
    let again = store.claim(WORKER, 10, now + LEASE, now).await.unwrap();
    assert_eq!(again.tasks.len(), 1);
    assert_eq!(
        (again.tasks[0].action.as_str(), again.tasks[0].attempt),
        ("http", 2)
    );
    assert_eq!(again.next_due, Some(later));
    let record = status(&store, run).await;
    assert_eq!((record.status, record.reason), (RunStatus::Running, None));

    store
        .complete(completion(&again.tasks[0], done(vec![], vec![])))
        .await
        .unwrap();
    let record = status(&store, run).await;
    assert_eq!(record.status, RunStatus::Waiting);
    assert_eq!(
        record.reason.as_deref(),
        Some("waiting for delay until later")
    );

    let resumed = store
        .claim(WORKER, 10, later + LEASE, later)
        .await
        .unwrap()
        .tasks;
    assert_eq!(resumed[0].state, Some(json!({"until": later})));
}

#[tokio::test]
async fn a_failure_fails_the_run_and_cancels_its_other_tasks() {
    let (_dir, store) = open();
    let (run, _, _) = start(&store, &["a", "b"]).await;
    let tasks = claim_all(&store).await;
    let error = TaskError {
        action: "a".into(),
        class: "permanent".into(),
        message: "HTTP 403".into(),
        attempt: 1,
    };
    let effects = store
        .complete(completion(&tasks[0], Resolution::Fail { error }))
        .await
        .unwrap();
    assert_eq!(effects.finished[0].status, RunStatus::Failed);
    let record = status(&store, run).await;
    assert_eq!(
        record.reason.as_deref(),
        Some("action `a` failed: HTTP 403")
    );
    assert_eq!(record.error.unwrap()["class"], "permanent");
    assert!(store.run_tasks(run).await.unwrap().is_empty());
    let late = store
        .complete(completion(&tasks[1], done(vec![], vec![])))
        .await;
    assert!(matches!(late, Err(StoreError::LostClaim { .. })));
}

#[tokio::test]
async fn the_event_cap_fails_a_runaway_run() {
    let (_dir, store) = open();
    let (run, trigger, _) = start(&store, &["loop"]).await;
    let task = claim_all(&store).await.remove(0);
    let mut c = completion(
        &task,
        done(vec![event("loop", Some(trigger), json!(1)); 3], vec![]),
    );
    c.max_events = 3;
    store.complete(c).await.unwrap();
    let record = status(&store, run).await;
    assert_eq!(record.status, RunStatus::Failed);
    assert!(record.reason.unwrap().contains("max_events_per_run"));
    assert_eq!(store.run_events(run).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_group_flushes_when_its_items_are_in() {
    let (_dir, store) = open();
    let (run, trigger, _) = start(&store, &["implode", "implode"]).await;
    let tasks = claim_all(&store).await;
    let flush_id = TaskId::new();
    let deadline = now_millis() + 600_000;
    for (index, task) in tasks.iter().enumerate() {
        let mut c = completion(task, done(vec![], vec![]));
        c.group_ops.push(GroupOp::Add {
            key: "g1".into(),
            index: index as i64,
            item_json: json!({"i": index}).to_string(),
            expected: Some(2),
            flush_task: NewTask {
                id: if index == 0 { flush_id } else { TaskId::new() },
                action: "implode".into(),
                input_event: trigger,
                state: NewTaskState::Waiting {
                    run_at: Some(deadline),
                    reason: "waiting for implode group".into(),
                },
                action_state: Some(json!({"flush": "g1"}).to_string()),
                attempt: 1,
            },
        });
        store.complete(c).await.unwrap();
        if index == 0 {
            let record = status(&store, run).await;
            assert_eq!(
                record.status,
                RunStatus::Running,
                "one item is still pending"
            );
        }
    }
    let flush = claim_all(&store).await;
    assert_eq!(flush.len(), 1);
    assert_eq!(flush[0].id, flush_id);
    let items = store.group_items("g1").await.unwrap();
    assert_eq!(items, vec![json!({"i": 0}), json!({"i": 1})]);

    let mut stale = completion(&flush[0], done(vec![], vec![]));
    stale.group_ops.push(GroupOp::Take {
        key: "g1".into(),
        items_seen: 1,
    });
    assert!(matches!(
        store.complete(stale).await,
        Err(StoreError::Conflict(_))
    ));
    let mut take = completion(
        &flush[0],
        done(
            vec![event("implode", Some(trigger), json!({"items": items}))],
            vec![],
        ),
    );
    take.group_ops.push(GroupOp::Take {
        key: "g1".into(),
        items_seen: 2,
    });
    store.complete(take).await.unwrap();
    assert_eq!(status(&store, run).await.status, RunStatus::Succeeded);
    assert!(store.group_items("g1").await.unwrap().is_empty());
}

#[tokio::test]
async fn state_writes_are_checked_optimistically() {
    let (_dir, store) = open();
    start(&store, &["dedup", "dedup"]).await;
    let tasks = claim_all(&store).await;
    let write = |expect| StateWrite {
        scope: "pb/dedup".into(),
        key: "203.0.113.7".into(),
        expect,
        value: Some("true".into()),
        expires_at: Some(now_millis() + 60_000),
    };
    let mut first = completion(&tasks[0], done(vec![], vec![]));
    first.state_writes.push(write(StateExpect::Absent));
    store.complete(first).await.unwrap();
    let entry = store
        .state("pb/dedup", "203.0.113.7", now_millis())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.version, 1);
    let mut second = completion(&tasks[1], done(vec![], vec![]));
    second.state_writes.push(write(StateExpect::Absent));
    assert!(matches!(
        store.complete(second).await,
        Err(StoreError::Conflict(_))
    ));
    let later = now_millis() + 120_000;
    assert!(
        store
            .state("pb/dedup", "203.0.113.7", later)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.prune_state(later).await.unwrap(), 1);
}

#[tokio::test]
async fn a_child_run_wakes_its_parent_task_with_its_output() {
    let (_dir, store) = open();
    let (parent_run, _, _) = start(&store, &["call"]).await;
    let call = claim_all(&store).await.remove(0);
    let child_run = RunId::new();
    let child_trigger = event("inputs", None, json!({"ip": "203.0.113.7"}));
    let child_trigger_id = child_trigger.id;
    let child = StartRun {
        run: NewRun {
            id: child_run,
            playbook: "child".into(),
            version: 1,
            trigger_action: "inputs".into(),
            parent: Some((parent_run, call.id)),
        },
        trigger: child_trigger,
        events: vec![],
        run_output: None,
        tasks: vec![ready_task("exit", child_trigger_id)],
        once_key: None,
        schedule_next: None,
        max_events: 10_000,
        now: now_millis(),
    };
    let park = Resolution::Park {
        run_at: None,
        state: "{}".into(),
        reason: "waiting for playbook child".into(),
        child: Some(Box::new(child)),
    };
    store.complete(completion(&call, park)).await.unwrap();
    assert_eq!(status(&store, parent_run).await.status, RunStatus::Waiting);

    let exit = claim_all(&store).await.remove(0);
    assert_eq!(exit.run_id, child_run);
    let resolution = Resolution::Done {
        events: vec![event(
            "exit",
            Some(child_trigger_id),
            json!({"verdict": "bad"}),
        )],
        tasks: vec![],
        run_output: Some(json!({"verdict": "bad"}).to_string()),
    };
    let effects = store.complete(completion(&exit, resolution)).await.unwrap();
    assert!(effects.tasks_due);
    assert_eq!(status(&store, parent_run).await.status, RunStatus::Running);
    let woken = claim_all(&store).await.remove(0);
    assert_eq!(woken.id, call.id);
    let child_state = &woken.state.unwrap()["child"];
    assert_eq!(child_state["status"], "succeeded");
    assert_eq!(child_state["output"], json!({"verdict": "bad"}));
}

#[tokio::test]
async fn cancelling_a_run_cancels_its_children() {
    let (_dir, store) = open();
    let (parent_run, _, _) = start(&store, &["call"]).await;
    let call = claim_all(&store).await.remove(0);
    let child_run = RunId::new();
    let trigger = event("inputs", None, json!({}));
    let trigger_id = trigger.id;
    let child = StartRun {
        run: NewRun {
            id: child_run,
            playbook: "child".into(),
            version: 1,
            trigger_action: "inputs".into(),
            parent: Some((parent_run, call.id)),
        },
        trigger,
        events: vec![],
        run_output: None,
        tasks: vec![ready_task("wait", trigger_id)],
        once_key: None,
        schedule_next: None,
        max_events: 10_000,
        now: now_millis(),
    };
    let park = Resolution::Park {
        run_at: None,
        state: "{}".into(),
        reason: "waiting for playbook child".into(),
        child: Some(Box::new(child)),
    };
    store.complete(completion(&call, park)).await.unwrap();
    let effects = store
        .cancel_run(parent_run, "cancelled by alice")
        .await
        .unwrap();
    assert_eq!(effects.finished.len(), 2);
    assert_eq!(status(&store, child_run).await.status, RunStatus::Cancelled);
    let parent = status(&store, parent_run).await;
    assert_eq!(
        (parent.status, parent.reason.as_deref()),
        (RunStatus::Cancelled, Some("cancelled by alice"))
    );
    assert!(claim_all(&store).await.is_empty());
    assert!(matches!(
        store.cancel_run(RunId::new(), "x").await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn once_keys_start_a_run_only_once() {
    let (_dir, store) = open();
    let make = || {
        let trigger = event("inbox", None, json!({}));
        StartRun {
            run: NewRun {
                id: RunId::new(),
                playbook: "pb".into(),
                version: 1,
                trigger_action: "inbox".into(),
                parent: None,
            },
            trigger,
            events: vec![],
            run_output: None,
            tasks: vec![],
            once_key: Some(("pb/inbox".into(), "<msg-1@example.net>".into())),
            schedule_next: None,
            max_events: 10_000,
            now: now_millis(),
        }
    };
    let first = make();
    let first_id = first.run.id;
    store.start_run(first).await.unwrap();
    match store.start_run(make()).await {
        Err(StoreError::Duplicate { run_id, .. }) => assert_eq!(run_id, first_id.to_string()),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let runs = store.runs(&RunFilter::default()).await.unwrap();
    assert_eq!(runs.total, 1);
    // Retention removes the key with its run: the key may start a run again.
    let pruned = store.prune_runs("pb", now_millis() + 1, 100).await.unwrap();
    assert_eq!(pruned, 1);
    store.start_run(make()).await.unwrap();
}

#[tokio::test]
async fn runs_are_listed_newest_first_with_filters_and_totals() {
    let (_dir, store) = open();
    let mut ids = vec![];
    for _ in 0..5 {
        ids.push(start(&store, &["a"]).await.0);
    }
    let page = store
        .runs(&RunFilter {
            playbook: Some("pb".into()),
            status: Some(RunStatus::Running),
            limit: 2,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    let none = store
        .runs(&RunFilter {
            status: Some(RunStatus::Failed),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    let stats = store.queue_stats(now_millis()).await.unwrap();
    assert_eq!(stats.ready, 5);
}

#[tokio::test]
async fn retention_prunes_finished_runs_only() {
    let (_dir, store) = open();
    let (finished, _, _) = start(&store, &[]).await;
    let (running, _, _) = start(&store, &["a"]).await;
    let pruned = store.prune_runs("pb", now_millis() + 1, 100).await.unwrap();
    assert_eq!(pruned, 1);
    assert!(store.run(finished).await.unwrap().is_none());
    assert!(store.run(running).await.unwrap().is_some());
}

#[tokio::test]
async fn playbooks_are_versioned_by_source() {
    let (_dir, store) = open();
    let v1 = store
        .put_playbook("pb", "name: pb\n", Some("soc"), None)
        .await
        .unwrap();
    let same = store
        .put_playbook("pb", "name: pb\n", Some("soc"), None)
        .await
        .unwrap();
    let v2 = store
        .put_playbook("pb", "name: pb\n# v2\n", Some("soc"), None)
        .await
        .unwrap();
    assert_eq!((v1.version, same.version, v2.version), (1, 1, 2));
    assert_eq!(
        store
            .playbook_version("pb", 1)
            .await
            .unwrap()
            .unwrap()
            .source,
        "name: pb\n"
    );
    assert!(store.set_playbook_enabled("pb", false).await.unwrap());
    assert!(!store.playbook("pb").await.unwrap().unwrap().enabled);
    assert!(store.delete_playbook("pb").await.unwrap());
    assert!(store.playbook("pb").await.unwrap().is_none());
    assert!(
        store.playbook_version("pb", 2).await.unwrap().is_some(),
        "versions outlive deletion"
    );
    let v3 = store
        .put_playbook("pb", "name: pb\n", None, None)
        .await
        .unwrap();
    assert_eq!(v3.version, 3);
}

#[tokio::test]
async fn a_data_directory_has_one_owner_and_claims_are_released_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    let err = SqliteStore::open(dir.path(), SqliteOptions::default())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("in use by another muster process"),
        "{err}"
    );
    start(&store, &["a"]).await;
    claim_all(&store).await;
    drop(store);
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    let now = now_millis();
    let again = store.claim("worker-b", 10, now + LEASE, now).await.unwrap();
    assert_eq!(
        again.tasks.len(),
        1,
        "the dead process's claim was released"
    );
}

#[tokio::test]
async fn many_concurrent_writes_commit_in_groups() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    let mut handles = vec![];
    for _ in 0..200 {
        let store = store.clone();
        handles.push(tokio::spawn(async move { start(&store, &["a"]).await.0 }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(store.runs(&RunFilter::default()).await.unwrap().total, 200);
}
