#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The escalation ladder in the store: a failed attempt moves its task to a fallback agent or a
//! council in one transaction with its event; a council's candidates are attempts of their own;
//! its end moves every candidate and the task at once; an interrupted council is due again.

mod common;

use baton_protocol::{AttemptStatus, TaskId, TaskStatus};
use baton_store::{CandidateResult, CouncilEnd, Escalation, NewCandidate};
use common::store_with_run;

#[tokio::test]
async fn a_fallback_and_a_council_follow_a_failure_and_the_council_ends_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir, 1).await;
    let a = TaskId::new("a");
    let logs = dir.path().join("logs");
    let (n, _) = store
        .start_attempt(&run, &a, "lane-1", &"b".repeat(40), &logs)
        .await
        .unwrap();
    let fallback = Escalation::Fallback {
        agent: "codex".into(),
        attempts: 2,
    };
    let events = store
        .escalate_attempt(&run, &a, n, "gate failed", &fallback, "claude is out")
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].body.type_name(), "task.escalated");
    let task = &store.tasks(&run).await.unwrap()[0];
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(task.agent_override.as_deref(), Some("codex"));
    assert_eq!((task.failures, task.failures_allowed), (1, 3));
    assert!(!task.council_due);

    // The fallback's attempt fails too: a council is due.
    let (n, _) = store
        .start_attempt(&run, &a, "lane-1", &"b".repeat(40), &logs)
        .await
        .unwrap();
    let council = Escalation::Council {
        members: vec!["claude".into(), "codex".into()],
    };
    store
        .escalate_attempt(&run, &a, n, "gate failed", &council, "out of fallbacks")
        .await
        .unwrap();
    assert!(store.tasks(&run).await.unwrap()[0].council_due);

    let candidates = [
        NewCandidate {
            agent: "claude".into(),
            lane: "lane-1".into(),
        },
        NewCandidate {
            agent: "codex".into(),
            lane: "lane-2".into(),
        },
    ];
    let (numbers, _) = store
        .start_council(&run, &a, &candidates, &"b".repeat(40), &logs)
        .await
        .unwrap();
    assert_eq!(numbers, [3, 4]);
    assert_eq!(store.tasks(&run).await.unwrap()[0].attempts, 4);
    // A cancel: every candidate is interrupted, the task is pending and its council due again.
    let why = "cancelled";
    store
        .finish_council(
            &run,
            &a,
            3,
            &CouncilEnd::Interrupted { why: why.into() },
            why,
        )
        .await
        .unwrap();
    let task = &store.tasks(&run).await.unwrap()[0];
    assert_eq!(task.status, TaskStatus::Pending);
    assert!(task.council_due);
    let interrupted = store.attempts(&run, Some(&a)).await.unwrap();
    assert!(
        interrupted[2..]
            .iter()
            .all(|a| a.status == AttemptStatus::Interrupted)
    );

    // Held again: Codex passes and wins; Claude's attempt fails, Codex's stays running.
    let (numbers, _) = store
        .start_council(&run, &a, &candidates, &"b".repeat(40), &logs)
        .await
        .unwrap();
    assert_eq!(numbers, [5, 6]);
    store
        .record_candidate(
            &run,
            &a,
            5,
            &CandidateResult {
                failure: Some("gate `g` failed".into()),
                ..CandidateResult::default()
            },
        )
        .await
        .unwrap();
    store
        .record_candidate(
            &run,
            &a,
            6,
            &CandidateResult {
                passed: true,
                diff_lines: Some(3),
                ..CandidateResult::default()
            },
        )
        .await
        .unwrap();
    let events = store
        .finish_council(
            &run,
            &a,
            5,
            &CouncilEnd::Decided { attempt: 6 },
            "codex won",
        )
        .await
        .unwrap();
    assert_eq!(
        events.last().map(|e| e.body.type_name()),
        Some("council.finished")
    );
    let attempts = store.attempts(&run, Some(&a)).await.unwrap();
    assert_eq!(attempts[4].status, AttemptStatus::Failed);
    assert_eq!(attempts[5].status, AttemptStatus::Running);
    let task = &store.tasks(&run).await.unwrap()[0];
    assert_eq!(task.status, TaskStatus::Running);
    assert!(!task.council_due);
    let rows = store.council_candidates(&run, Some(&a)).await.unwrap();
    assert_eq!(rows.len(), 4);
    let winner = rows.iter().find(|r| r.winner).unwrap();
    assert_eq!((winner.agent.as_str(), winner.council), ("codex", 5));
    assert_eq!(winner.verdict.as_deref(), Some("codex won"));
    // Only the council with a verdict counts: one seat each, one win.
    let seats = store.council_seats().await.unwrap();
    assert_eq!(seats.len(), 2);
    assert_eq!(seats.iter().filter(|s| s.3).count(), 1);
    assert_eq!(store.escalations(&run).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_council_nobody_wins_moves_its_task_to_the_last_rung() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir, 1).await;
    let a = TaskId::new("a");
    let logs = dir.path().join("logs");
    let candidates = [
        NewCandidate {
            agent: "claude".into(),
            lane: "lane-1".into(),
        },
        NewCandidate {
            agent: "gemini".into(),
            lane: "lane-2".into(),
        },
    ];
    store
        .start_council(&run, &a, &candidates, &"b".repeat(40), &logs)
        .await
        .unwrap();
    let lost = CouncilEnd::Lost {
        task_to: TaskStatus::NeedsHuman,
        failure: "the council failed".into(),
    };
    store
        .finish_council(&run, &a, 1, &lost, "none passed")
        .await
        .unwrap();
    let task = &store.tasks(&run).await.unwrap()[0];
    assert_eq!(task.status, TaskStatus::NeedsHuman);
    assert_eq!(task.last_failure.as_deref(), Some("the council failed"));
    assert!(
        store
            .attempts(&run, Some(&a))
            .await
            .unwrap()
            .iter()
            .all(|a| a.status == AttemptStatus::Failed)
    );
    // An engine that died mid-council leaves nothing to interrupt here.
    assert!(store.interrupt_councils(&run).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_persons_retry_takes_a_task_off_a_council_that_was_due() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = store_with_run(&dir, 1).await;
    let a = TaskId::new("a");
    let (n, _) = store
        .start_attempt(
            &run,
            &a,
            "lane-1",
            &"b".repeat(40),
            &dir.path().join("logs"),
        )
        .await
        .unwrap();
    let council = Escalation::Council {
        members: vec!["claude".into(), "codex".into()],
    };
    store
        .escalate_attempt(&run, &a, n, "gate failed", &council, "out of fallbacks")
        .await
        .unwrap();
    assert!(store.tasks(&run).await.unwrap()[0].council_due);
    let change = baton_store::ControlChange {
        agent_override: Some((a.clone(), Some(Some("gemini".into())))),
        ..Default::default()
    };
    let audit = baton_protocol::EventBody::ControlApplied {
        command: "reassign".into(),
        who: "ada".into(),
        why: None,
        effect: "moved".into(),
    };
    store
        .apply_control(&run, Some(&a), &change, audit)
        .await
        .unwrap();
    let task = &store.tasks(&run).await.unwrap()[0];
    assert!(!task.council_due);
    assert_eq!(task.agent_override.as_deref(), Some("gemini"));
}
