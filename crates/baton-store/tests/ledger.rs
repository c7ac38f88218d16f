#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The usage ledger on a real SQLite file.

use baton_core::{CostBasis, Tokens, Usd};
use baton_protocol::{RunId, TaskId};
use baton_store::{LedgerEntry, Store};

fn entry(attempt: u32, cost: Option<Usd>, basis: CostBasis) -> LedgerEntry {
    LedgerEntry {
        run_id: RunId::new("r1"),
        task_id: TaskId::new("lexer"),
        attempt,
        agent: "claude".into(),
        model: Some("claude-sonnet-4-5".into()),
        tokens: Tokens {
            input: 1200,
            cached_input: 30_000,
            cache_write: 0,
            output: 800,
            reasoning: 0,
        },
        cost,
        basis,
        price_version: None,
    }
}

#[tokio::test]
async fn usage_is_recorded_per_attempt_and_unknown_cost_stays_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("baton.db")).await.unwrap();
    store
        .record_usage(&entry(1, Some(Usd(26_000)), CostBasis::Reported))
        .await
        .unwrap();
    store
        .record_usage(&entry(2, None, CostBasis::Unknown))
        .await
        .unwrap();
    let rows = store.ledger(&RunId::new("r1")).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], entry(1, Some(Usd(26_000)), CostBasis::Reported));
    assert_eq!(rows[1].cost, None, "unknown is never recorded as zero");
    assert_eq!(rows[1].basis, CostBasis::Unknown);
    assert!(store.ledger(&RunId::new("other")).await.unwrap().is_empty());
}

#[tokio::test]
async fn recording_an_attempt_again_replaces_its_row_instead_of_counting_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("baton.db")).await.unwrap();
    store
        .record_usage(&entry(1, Some(Usd(10)), CostBasis::Priced))
        .await
        .unwrap();
    store
        .record_usage(&entry(1, Some(Usd(20)), CostBasis::Priced))
        .await
        .unwrap();
    let rows = store.ledger(&RunId::new("r1")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cost, Some(Usd(20)));
}
