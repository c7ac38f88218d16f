#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store against a real SQLite file: transitions are compare-and-set and always logged.

use baton_protocol::{EndReason, EventBody, MergeItemStatus, RunId, RunStatus, TaskId, TaskStatus};
use baton_store::{Lease, MergeItemUpdate, Store, StoreError};

mod common;

async fn store_with_run(dir: &tempfile::TempDir) -> (Store, RunId) {
    common::store_with_run(dir, 2).await
}

#[tokio::test]
async fn a_task_walks_from_pending_to_merged_and_every_step_is_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let a = TaskId::new("a");
    store
        .transition_run(&run, RunStatus::Pending, RunStatus::Running, None)
        .await
        .unwrap();
    let (n, _) = store
        .start_attempt(&run, &a, "lane-1", "base", dir.path())
        .await
        .unwrap();
    assert_eq!(n, 1);
    store
        .set_agent_end(&run, &a, n, &EndReason::Exited { code: 0 }, "ok")
        .await
        .unwrap();
    store
        .set_attempt_commit(&run, &a, n, "c1", &["src/a.rs".into()])
        .await
        .unwrap();
    let (item, _) = store.enqueue_attempt(&run, &a, n, "c1").await.unwrap();
    let row = store.merge_item(item).await.unwrap();
    store
        .transition_merge_item(&row, MergeItemStatus::Checking, MergeItemUpdate::default())
        .await
        .unwrap();
    let row = store.merge_item(item).await.unwrap();
    store
        .transition_merge_item(
            &row,
            MergeItemStatus::Merging,
            MergeItemUpdate {
                merge_commit: Some("m1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let row = store.merge_item(item).await.unwrap();
    store.complete_merge(&row, "base", "m1").await.unwrap();

    let tasks = store.tasks(&run).await.unwrap();
    assert_eq!(tasks[0].status, TaskStatus::Merged);
    assert_eq!(tasks[0].merge_commit.as_deref(), Some("m1"));
    assert_eq!(tasks[1].status, TaskStatus::Pending);
    let attempts = store.attempts(&run, Some(&a)).await.unwrap();
    assert_eq!(attempts[0].changed_paths, vec!["src/a.rs".to_string()]);
    assert_eq!(attempts[0].agent_end(), Some(EndReason::Exited { code: 0 }));

    let events = store.events(&run, 0, 1000).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.body.type_name()).collect();
    assert_eq!(types.first(), Some(&"run.created"));
    assert!(types.contains(&"integration.advanced"), "{types:?}");
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    let after = store.events(&run, events[2].seq, 1000).await.unwrap();
    assert_eq!(after.len(), events.len() - 3);
}

#[tokio::test]
async fn a_stale_transition_is_refused_and_writes_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let before = store.events(&run, 0, 1000).await.unwrap().len();
    let err = store
        .transition_run(&run, RunStatus::Running, RunStatus::Completed, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err}");
    assert_eq!(store.events(&run, 0, 1000).await.unwrap().len(), before);
}

#[tokio::test]
async fn an_invalid_transition_is_refused_by_the_state_machine() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let err = store
        .transition_task(
            &run,
            &TaskId::new("a"),
            TaskStatus::Pending,
            TaskStatus::Merged,
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    assert!(err.to_string().contains("pending -> merged"), "{err}");
}

#[tokio::test]
async fn a_failed_attempt_counts_and_an_interrupted_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let a = TaskId::new("a");
    let (n, _) = store
        .start_attempt(&run, &a, "lane-1", "base", dir.path())
        .await
        .unwrap();
    store.interrupt_attempt(&run, &a, n, "crash").await.unwrap();
    let (n2, _) = store
        .start_attempt(&run, &a, "lane-1", "base", dir.path())
        .await
        .unwrap();
    assert_eq!(n2, 2);
    store
        .fail_attempt(&run, &a, n2, "exit 1", TaskStatus::Pending)
        .await
        .unwrap();
    let task = &store.tasks(&run).await.unwrap()[0];
    assert_eq!((task.attempts, task.failures), (2, 1));
}

#[tokio::test]
async fn the_lease_is_taken_by_compare_and_set() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let first = Lease {
        pid: 1,
        host: "h".into(),
        token: "t1".into(),
        heartbeat_ms: 1,
    };
    let second = Lease {
        token: "t2".into(),
        ..first.clone()
    };
    assert!(store.take_lease(&run, None, &first).await.unwrap());
    assert!(!store.take_lease(&run, None, &second).await.unwrap());
    assert!(store.heartbeat(&run, "t1", 5).await.unwrap());
    assert!(store.take_lease(&run, Some("t1"), &second).await.unwrap());
    assert!(!store.heartbeat(&run, "t1", 6).await.unwrap());
    assert_eq!(store.run(&run).await.unwrap().lease.unwrap().token, "t2");
}

#[tokio::test]
async fn a_lane_is_held_by_one_run_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let other = RunId::new("r2");
    assert!(
        store
            .assign_lane("/repo", "lane-1", "/l/1", &run, None, "task")
            .await
            .unwrap()
    );
    assert!(
        !store
            .assign_lane("/repo", "lane-1", "/l/1", &other, None, "task")
            .await
            .unwrap()
    );
    store.free_lane("/repo", "lane-1").await.unwrap();
    assert!(
        store
            .assign_lane("/repo", "lane-1", "/l/1", &other, None, "task")
            .await
            .unwrap()
    );
    assert_eq!(store.lanes("/repo").await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_runs_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_with_run(&dir).await;
    let err = store.run(&RunId::new("nope")).await.unwrap_err();
    assert!(err.to_string().contains("nope"));
    let warning = store
        .append_event(
            &RunId::new("r1"),
            None,
            EventBody::Warning {
                message: "w".into(),
            },
        )
        .await
        .unwrap();
    assert!(warning.seq > 0);
}
