//! The human lines of the live display, pinned with snapshots.
use super::*;

/// What `git commit` says when a pre-commit hook refuses, as baton records it.
const HOOK_FAILURE: &str = "cannot commit the agent's work: `git commit --no-verify=false -m baton: a` exited with code 1\n\
--- stderr ---\n\
trailing whitespace.....................................................Failed\n\
- hook id: trailing-whitespace\n\
- exit code: 1\n\
\n\
a.txt:1: trailing whitespace\n";

#[test]
fn a_multi_line_failure_is_shown_whole_under_its_task() {
    let run = RunId::new("20260101-000000-abcd");
    let shown = with_reason("✗ a failed".into(), Some(HOOK_FAILURE), &run, "a");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_very_long_failure_is_cut_with_a_pointer_to_the_logs() {
    let run = RunId::new("20260101-000000-abcd");
    let long: String = (1..=100).map(|n| format!("error line {n}\n")).collect();
    let shown = with_reason("✗ a failed".into(), Some(&long), &run, "a");
    assert_eq!(shown.lines().count(), 41, "{shown}");
    let last: Vec<&str> = shown.lines().skip(38).collect();
    insta::assert_snapshot!(last.join("\n"));
}

#[test]
fn a_missing_or_blank_reason_adds_nothing() {
    let run = RunId::new("r");
    assert_eq!(with_reason("✓ a".into(), None, &run, "a"), "✓ a");
    assert_eq!(with_reason("✓ a".into(), Some("  \n"), &run, "a"), "✓ a");
}

#[test]
fn short_durations_keep_their_milliseconds() {
    let shown: Vec<String> = [0, 500, 999, 1000, 1500, 2000, 9999, 10_000, 61_000]
        .into_iter()
        .map(short_duration)
        .collect();
    assert_eq!(
        shown,
        [
            "0ms", "500ms", "999ms", "1s", "1.5s", "2s", "9.9s", "10s", "1m01s"
        ]
    );
}

#[test]
fn an_agents_progress_line_says_what_it_does() {
    use baton_protocol::{AgentEvent, FileChangeKind, TodoItem};
    let line = |event: AgentEvent| agent_line(&event);
    assert_eq!(
        line(AgentEvent::Message {
            text: "\nI will add the provider.\nThen tests.".into()
        })
        .as_deref(),
        Some("I will add the provider.")
    );
    assert_eq!(
        line(AgentEvent::CommandRun {
            command: "cargo test".into(),
            exit_code: Some(0),
            output: String::new()
        })
        .as_deref(),
        Some("$ cargo test")
    );
    assert_eq!(
        line(AgentEvent::FileChange {
            path: "src/auth.rs".into(),
            kind: FileChangeKind::Modify
        })
        .as_deref(),
        Some("edits src/auth.rs")
    );
    assert_eq!(
        line(AgentEvent::TodoList {
            items: vec![
                TodoItem {
                    text: "a".into(),
                    done: true
                },
                TodoItem {
                    text: "b".into(),
                    done: false
                },
            ]
        })
        .as_deref(),
        Some("todo 1/2")
    );
    assert_eq!(line(AgentEvent::Session { id: "s".into() }), None);
}

#[test]
fn the_ladder_says_where_a_task_went_and_how_its_council_ended() {
    let escalated = EventBody::TaskEscalated {
        rung: "council".into(),
        agents: vec!["claude".into(), "codex".into()],
        who: "baton".into(),
        why: "out of attempts and fallbacks; a council of 2 runs it at once: claude, codex".into(),
    };
    let won = EventBody::CouncilFinished {
        candidates: Vec::new(),
        winner: Some(2),
        winner_agent: Some("codex".into()),
        why: "codex (member 2) was the only candidate to pass the task's gates".into(),
    };
    let lost = EventBody::CouncilFinished {
        candidates: Vec::new(),
        winner: None,
        winner_agent: None,
        why: "none of the 2 candidates passed the task's gates".into(),
    };
    let lines: Vec<String> = [escalated, won, lost]
        .iter()
        .filter_map(|body| ladder_line("greet", body))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
    assert_eq!(
        ladder_line(
            "greet",
            &EventBody::Warning {
                message: "x".into()
            }
        ),
        None
    );
}
