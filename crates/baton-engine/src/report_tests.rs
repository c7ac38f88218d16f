//! The Markdown report, pinned with snapshots, and the bounds of a reason.
use super::*;
use baton_store::{REASON_MAX_BYTES, REASON_MAX_LINES};

fn run() -> RunId {
    RunId::new("20260101-000000-abcd")
}

fn gate(gate: &str, attempt: u32, passed: bool, end: EndReason) -> GateReport {
    GateReport {
        gate: gate.into(),
        attempt: Some(attempt),
        merge_item: None,
        passed,
        end: Some(end),
        duration_ms: 1200,
        cached: false,
    }
}

fn attempt(number: u32, status: &str, failure: Option<&str>) -> AttemptReport {
    AttemptReport {
        number,
        status: status.into(),
        duration_ms: 2000,
        agent_end: Some(EndReason::Exited { code: 0 }),
        agent: None,
        failure: failure.map(|f| Report::readable_reason(f, &run(), "lint")),
    }
}

/// A failed run: a task whose commit a pre-commit hook refused, then whose gate a cancel
/// interrupted; a merged task whose merge item has a note of several lines.
fn sample() -> Report {
    let hook = "cannot commit the agent's work: `git commit` exited with code 1\n\
                --- stderr ---\n\
                trailing whitespace......Failed\n\
                - hook id: trailing-whitespace\n\
                a.txt:1: trailing whitespace\n";
    Report {
        run: run(),
        goal: "tidy".into(),
        status: "failed".into(),
        base: "main".into(),
        base_commit: "0123456789abcdef".into(),
        integration_branch: "baton/20260101-000000-abcd/integration".into(),
        integration_head: Some("fedcba9876543210".into()),
        lanes: 2,
        created_at: "2026-01-01T00:00:00.000Z".into(),
        finished_at: Some("2026-01-01T00:00:09.000Z".into()),
        duration_ms: 9000,
        tasks: vec![
            TaskReport {
                id: "lint".into(),
                title: "lint".into(),
                status: "failed".into(),
                attempts: vec![
                    attempt(1, "failed", Some(hook)),
                    attempt(2, "failed", Some("gate `test` failed (cancelled)")),
                ],
                duration_ms: 4000,
                changed_files: vec![],
                gates: vec![
                    gate("test", 1, false, EndReason::Exited { code: 1 }),
                    gate("test", 2, false, EndReason::Cancelled),
                ],
                merge_commit: None,
            },
            TaskReport {
                id: "docs".into(),
                title: "docs".into(),
                status: "merged".into(),
                attempts: vec![attempt(1, "succeeded", None)],
                duration_ms: 2000,
                changed_files: vec!["docs/a.md".into()],
                gates: vec![gate("test", 1, true, EndReason::Exited { code: 0 })],
                merge_commit: Some("aaaaaaaaaaaaaaaa".into()),
            },
        ],
        merge_queue: vec![MergeReport {
            item: 1,
            task: "docs".into(),
            attempt: 1,
            status: "merged".into(),
            merge_commit: Some("aaaaaaaaaaaaaaaa".into()),
            detail: Some("merged after a retry\nfirst try conflicted on docs/a.md".into()),
            queued_at: "2026-01-01T00:00:05.000Z".into(),
            updated_at: "2026-01-01T00:00:06.000Z".into(),
        }],
        efficiency: Efficiency {
            makespan_ms: 6000,
            total_work_ms: 6000,
            lanes: 2,
            critical_path_ms: 4000,
            ratio: 1.5,
        },
        usage: crate::report_usage::UsageReport::default(),
        gate_cache_hits: 0,
        batches: Vec::new(),
        reviews: vec![
            crate::report_reviews::ReviewLine {
                task: Some("lint".into()),
                attempt: Some(1),
                kind: baton_protocol::ReviewKind::Style,
                provider: "anthropic".into(),
                model: "claude-sonnet-4-5".into(),
                approved: false,
                summary: "Trailing spaces | and a tab".into(),
                issues: vec![baton_protocol::ReviewIssue {
                    severity: baton_protocol::Severity::Low,
                    file: Some("a.txt".into()),
                    line: Some(1),
                    message: "trailing whitespace".into(),
                    suggestion: None,
                }],
            },
            crate::report_reviews::ReviewLine {
                task: None,
                attempt: None,
                kind: baton_protocol::ReviewKind::Functional,
                provider: "anthropic".into(),
                model: "claude-sonnet-4-5".into(),
                approved: true,
                summary: "Fine.".into(),
                issues: Vec::new(),
            },
        ],
        escalations: Vec::new(),
        councils: Vec::new(),
    }
}

#[test]
fn the_markdown_report_shows_whole_failures_and_interrupted_gates() {
    insta::assert_snapshot!(sample().to_markdown());
}

#[test]
fn a_reason_within_the_bounds_is_kept_whole() {
    let reason = "one\ntwo\n\nfour\n";
    assert_eq!(
        Report::readable_reason(reason, &run(), "a"),
        "one\ntwo\n\nfour"
    );
}

#[test]
fn a_reason_of_many_lines_is_cut_at_forty_with_a_pointer_to_the_logs() {
    let reason: String = (1..=45).map(|n| format!("line {n}\n")).collect();
    let shown = Report::readable_reason(&reason, &run(), "a");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), REASON_MAX_LINES + 1);
    assert_eq!(lines[REASON_MAX_LINES - 1], "line 40");
    assert_eq!(
        lines[REASON_MAX_LINES],
        "… 5 more lines (see `baton logs 20260101-000000-abcd a`)"
    );
}

#[test]
fn a_reason_of_many_bytes_is_cut_within_four_kibibytes() {
    let reason: String = (1..=30).map(|n| format!("{n:0>300}\n")).collect();
    let shown = Report::readable_reason(&reason, &run(), "a");
    assert!(shown.len() <= REASON_MAX_BYTES + 100, "{}", shown.len());
    assert!(shown.ends_with("… 17 more lines (see `baton logs 20260101-000000-abcd a`)"));
    let one_line = "é".repeat(5000);
    let shown = Report::readable_reason(&one_line, &run(), "a");
    assert!(shown.len() <= REASON_MAX_BYTES + 10, "{}", shown.len());
    assert!(shown.ends_with(" …"), "{shown}");
}

#[test]
fn the_report_shows_escalations_and_each_councils_record() {
    use crate::report_councils::{CouncilReport, EscalationLine, escalation_markdown};
    let candidate = |member: u32, agent: &str, passed: bool, failure: Option<&str>| {
        baton_protocol::CouncilCandidate {
            member,
            agent: agent.into(),
            attempt: 3 + member,
            lane: format!("lane-{member}"),
            passed,
            cost_micros: Some(12_000 * u64::from(member)),
            diff_lines: passed.then_some(7),
            reviews_approved: None,
            high_issues: 0,
            failure: failure.map(str::to_owned),
            winner: passed,
        }
    };
    let escalations = vec![EscalationLine {
        task: "lint".into(),
        rung: "fallback".into(),
        agents: vec!["codex".into()],
        who: "baton".into(),
        why: "claude is out of attempts; its fallback codex gets 1 attempt".into(),
        time: "2026-11-30T05:00:00.000Z".into(),
    }];
    let councils = vec![CouncilReport {
        task: "lint".into(),
        first_attempt: 4,
        candidates: vec![
            candidate(1, "claude", false, Some("gate `check` failed (exit 1)")),
            candidate(2, "codex", true, None),
            candidate(3, "gemini", false, Some("gate `check` failed (exit 1)")),
        ],
        winner: Some(2),
        winner_agent: Some("codex".into()),
        verdict: Some("codex (member 2) was the only candidate to pass the task's gates".into()),
    }];
    insta::assert_snapshot!(escalation_markdown(&escalations, &councils));
    assert_eq!(escalation_markdown(&[], &[]), "");
}
