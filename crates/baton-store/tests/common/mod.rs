#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the store's tests share: a store in a temporary directory with one pending run.

use baton_protocol::{RunId, TaskId};
use baton_store::{NewRun, Store};

/// A store in `dir` with run `r1`: tasks `a` (failing `a_failures` times ends it) and `b`
/// (once), both pending.
pub async fn store_with_run(dir: &tempfile::TempDir, a_failures: u32) -> (Store, RunId) {
    let store = Store::open(&dir.path().join("baton.db")).await.unwrap();
    let run = RunId::new("r1");
    store
        .create_run(&NewRun {
            id: run.clone(),
            repo: "/repo".into(),
            goal: "goal".into(),
            plan_origin: "plan.yaml".into(),
            plan_source: "version: 1".into(),
            base_ref: "main".into(),
            base_commit: "a".repeat(40),
            integration_ref: "refs/heads/baton/r1/integration".into(),
            lanes: 2,
            into_branch: None,
            into_expected: None,
            tasks: vec![
                (TaskId::new("a"), "A".into(), a_failures),
                (TaskId::new("b"), "B".into(), 1),
            ],
        })
        .await
        .unwrap();
    (store, run)
}
