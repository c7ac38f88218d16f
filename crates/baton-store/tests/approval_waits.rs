#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Waits for approval against a real SQLite file: a change held before delivery enters the
//! merge queue only when approved, every decision keeps who, where and why, and a stale
//! decision writes nothing.

use baton_protocol::{
    ApprovalPoint, EndReason, EventBody, MergeItemStatus, RiskLevel, RunId, RunStatus, TaskId,
    TaskStatus,
};
use baton_store::{ApprovalRequest, Decision, Store, StoreError};

mod common;

/// The shared run, started.
async fn store_with_run(dir: &tempfile::TempDir) -> (Store, RunId) {
    let (store, run) = common::store_with_run(dir, 1).await;
    store
        .transition_run(&run, RunStatus::Pending, RunStatus::Running, None)
        .await
        .unwrap();
    (store, run)
}

/// Runs attempt 1 of `task` to a gate-passed commit `c1` and holds it before delivery.
async fn hold(store: &Store, run: &RunId, task: &TaskId, dir: &std::path::Path) {
    let (n, _) = store
        .start_attempt(run, task, "lane-1", "base", dir)
        .await
        .unwrap();
    store
        .set_agent_end(run, task, n, &EndReason::Exited { code: 0 }, "ok")
        .await
        .unwrap();
    store
        .set_attempt_commit(run, task, n, "c1", &["docs/a.md".into()])
        .await
        .unwrap();
    store
        .hold_for_delivery(
            run,
            task,
            n,
            "c1",
            "exec",
            RiskLevel::Medium,
            "risk medium: matches docs (docs/**)",
            "waits",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_held_change_is_queued_only_when_approved_with_who_and_why_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let a = TaskId::new("a");
    hold(&store, &run, &a, dir.path()).await;
    assert_eq!(
        store.tasks(&run).await.unwrap()[0].status,
        TaskStatus::AwaitingApproval
    );
    assert!(store.merge_items(&run).await.unwrap().is_empty());
    let waits = store.approval_waits(None).await.unwrap();
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].point, ApprovalPoint::Delivery);
    assert_eq!(waits[0].risk, Some(RiskLevel::Medium));
    assert!(waits[0].since.is_some());

    let decision = Decision {
        approved: true,
        agent: None,
        why: Some("read it"),
        by: "alice",
    };
    store.decide_approval(&run, &a, &decision).await.unwrap();
    assert_eq!(
        store.tasks(&run).await.unwrap()[0].status,
        TaskStatus::Queued
    );
    let items = store.merge_items(&run).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, MergeItemStatus::Queued);
    assert_eq!(items[0].task_commit, "c1");
    let approval = &store.approvals(&run).await.unwrap()[0];
    assert_eq!(approval.decided_by.as_deref(), Some("alice"));
    assert_eq!(approval.point, Some(ApprovalPoint::Delivery));
    assert!(approval.delivers(&a, "c1"));
    assert!(!approval.delivers(&a, "c2"), "another change waits again");
    assert!(store.approval_waits(Some(&run)).await.unwrap().is_empty());
    let events = store.events(&run, 0, 1000).await.unwrap();
    let decided = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::ApprovalDecided { by, waited_for, .. } => {
                Some((by.clone(), waited_for.clone()))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        decided,
        (
            Some("alice".into()),
            Some("risk medium: matches docs (docs/**)".into())
        )
    );
}

#[tokio::test]
async fn a_rejected_start_fails_the_task_and_a_second_decision_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir).await;
    let b = TaskId::new("b");
    let request = ApprovalRequest {
        agent: "exec".into(),
        estimate: 0,
        threshold: 0,
        risk: Some(RiskLevel::High),
        reason: "risk high: matches migrations (**/migrations/**)".into(),
        message: "waits".into(),
    };
    store.request_approval(&run, &b, &request).await.unwrap();
    let reject = Decision {
        approved: false,
        agent: None,
        why: Some("not now"),
        by: "bob",
    };
    store.decide_approval(&run, &b, &reject).await.unwrap();
    let task = store.tasks(&run).await.unwrap().remove(1);
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(
        task.last_failure.as_deref(),
        Some("rejected by bob: not now")
    );
    let before = store.events(&run, 0, 1000).await.unwrap().len();
    let again = Decision {
        approved: true,
        agent: None,
        why: None,
        by: "carol",
    };
    let stale = store.decide_approval(&run, &b, &again).await.unwrap_err();
    assert!(matches!(stale, StoreError::Stale { .. }), "{stale}");
    assert_eq!(store.events(&run, 0, 1000).await.unwrap().len(), before);
    let approval = &store.approvals(&run).await.unwrap()[0];
    assert_eq!(
        approval.decided_by.as_deref(),
        Some("bob"),
        "the first decision stands"
    );
}
