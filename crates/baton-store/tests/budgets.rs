#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Budgets and reservations on a real SQLite file: concurrent reservations never pass a limit
//! together, the ledger write settles a reservation, and each scope counts its own spending.

use baton_core::{Amount, BudgetLimit, BudgetPeriod, BudgetScope, CostBasis, Tokens, Usd};
use baton_protocol::{RunId, TaskId};
use baton_store::{GLOBAL_KEY, LedgerEntry, NewRun, Store};
use std::sync::Arc;

async fn store_with_run(dir: &std::path::Path, run: &str, repo: &str) -> Store {
    let store = Store::open(&dir.join("baton.db")).await.unwrap();
    add_run(&store, run, repo).await;
    store
}

async fn add_run(store: &Store, run: &str, repo: &str) {
    store
        .create_run(&NewRun {
            id: RunId::new(run),
            repo: repo.into(),
            goal: "goal".into(),
            plan_origin: "plan.yaml".into(),
            plan_source: "version: 1".into(),
            base_ref: "main".into(),
            base_commit: "a".repeat(40),
            integration_ref: format!("refs/heads/baton/{run}/integration"),
            lanes: 8,
            into_branch: None,
            into_expected: None,
            tasks: (0..8)
                .map(|i| (TaskId::new(format!("t{i}")), format!("T{i}"), 1))
                .collect(),
        })
        .await
        .unwrap();
}

fn dollars(usd: u64) -> Amount {
    Amount {
        usd: Usd(usd * 1_000_000),
        tokens: 0,
    }
}

fn spent(run: &str, task: &str, attempt: u32, micros: u64, tokens: u64) -> LedgerEntry {
    LedgerEntry {
        run_id: RunId::new(run),
        task_id: TaskId::new(task),
        attempt,
        agent: "claude".into(),
        model: Some("claude-sonnet-4-5".into()),
        tokens: Tokens {
            input: tokens,
            ..Tokens::default()
        },
        cost: Some(Usd(micros)),
        basis: CostBasis::Reported,
        price_version: None,
    }
}

#[tokio::test]
async fn eight_concurrent_reservations_never_together_pass_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with_run(dir.path(), "r1", "/repo").await);
    let run = RunId::new("r1");
    store
        .set_budget(&BudgetLimit {
            scope: BudgetScope::Run,
            key: "r1".into(),
            period: BudgetPeriod::Run,
            usd: Some(Usd(10_000_000)),
            tokens: None,
        })
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        let run = run.clone();
        handles.push(tokio::spawn(async move {
            store
                .reserve(&run, &TaskId::new(format!("t{i}")), 1, "/repo", dollars(3))
                .await
                .unwrap()
        }));
    }
    let mut admitted = 0;
    for handle in handles {
        if handle.await.unwrap().is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 3, "three reservations of $3 fit in $10");
    let open = store.open_reservations(&run).await.unwrap();
    assert_eq!(open.len(), 3);

    // One attempt spends $1 of its $3: its reservation settles to that, freeing room.
    let first = &open[0];
    store
        .record_usage(&spent("r1", first.task_id.as_str(), 1, 1_000_000, 500))
        .await
        .unwrap();
    assert_eq!(store.open_reservations(&run).await.unwrap().len(), 2);
    let uses = store.limit_uses(Some(&run), "/repo").await.unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].spent.usd, Usd(1_000_000));
    assert_eq!(uses[0].reserved.usd, Usd(6_000_000));
    let refused = store
        .reserve(&run, &TaskId::new("t7"), 1, "/repo", dollars(4))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.scope, BudgetScope::Run);
    assert_eq!(refused.committed, 7_000_000);
    assert!(
        store
            .reserve(&run, &TaskId::new("t7"), 1, "/repo", dollars(3))
            .await
            .unwrap()
            .is_ok()
    );

    // An attempt that never ran gives its reservation back.
    store
        .release_reservation(&run, &TaskId::new("t7"), 1)
        .await
        .unwrap();
    assert_eq!(store.open_reservations(&run).await.unwrap().len(), 2);
}

#[tokio::test]
async fn project_and_global_limits_count_their_own_runs_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_run(dir.path(), "a1", "/repo-a").await;
    add_run(&store, "b1", "/repo-b").await;
    for (scope, key) in [
        (BudgetScope::Project, "/repo-a"),
        (BudgetScope::Global, GLOBAL_KEY),
    ] {
        store
            .set_budget(&BudgetLimit {
                scope,
                key: key.into(),
                period: BudgetPeriod::Day,
                usd: Some(Usd(20_000_000)),
                tokens: Some(10_000),
            })
            .await
            .unwrap();
    }
    store
        .record_usage(&spent("a1", "t0", 1, 2_000_000, 4_000))
        .await
        .unwrap();
    store
        .record_usage(&spent("b1", "t0", 1, 5_000_000, 5_000))
        .await
        .unwrap();
    let uses = store.limit_uses(None, "/repo-a").await.unwrap();
    assert_eq!(uses.len(), 2, "{uses:#?}");
    assert_eq!(uses[0].limit.scope, BudgetScope::Project);
    assert_eq!(uses[0].spent.usd, Usd(2_000_000), "only repo a's runs");
    assert_eq!(uses[0].spent.tokens, 4_000);
    assert_eq!(uses[1].limit.scope, BudgetScope::Global);
    assert_eq!(uses[1].spent.usd, Usd(7_000_000), "every run");
    assert_eq!(uses[1].spent.tokens, 9_000);
    // The global token limit refuses what the project's would still take.
    let refused = store
        .reserve(
            &RunId::new("a1"),
            &TaskId::new("t1"),
            1,
            "/repo-a",
            Amount {
                usd: Usd(0),
                tokens: 2_000,
            },
        )
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.scope, BudgetScope::Global);
    // A limit with nothing left in it is removed.
    store
        .set_budget(&BudgetLimit {
            scope: BudgetScope::Global,
            key: GLOBAL_KEY.into(),
            period: BudgetPeriod::Day,
            usd: None,
            tokens: None,
        })
        .await
        .unwrap();
    assert_eq!(store.limit_uses(None, "/repo-a").await.unwrap().len(), 1);
}
