#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A retry of the same agent resumes the client's session (`claude --resume ID`); a session the
//! client cannot find any more costs no retry: the next attempt starts a new one. The real
//! client's resume is in `agents_claude.rs`; here a stand-in prints Claude Code's stream so the
//! failure of a resume can be forced.

mod support;

use support::agents::baton_with_agent;
use support::{Baton, OK, task};

/// A stand-in for `claude -p ... --output-format stream-json`: prints its arguments on stderr;
/// with `--resume` it fails as Claude Code does for a session it does not have; otherwise it
/// reports session `sess-1`, and from the second attempt on writes the file the gate wants.
const FAKE_CLAUDE: &str = r#"#!/bin/sh
echo "ARGS: $(printf '%s ' "$@" | tr '\n' ' ')" >&2
case " $* " in
  *" --resume "*)
    echo "No conversation found with session ID: sess-1" >&2
    exit 1 ;;
esac
echo '{"type":"system","subtype":"init","session_id":"sess-1","model":"claude-sonnet-4-5","tools":[]}'
if [ "$BATON_ATTEMPT" != "1" ]; then echo done > done.txt; fi
echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","session_id":"sess-1","total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":2}}'
"#;

#[test]
fn a_retry_resumes_the_session_and_a_lost_session_costs_no_retry() {
    let baton = Baton::new();
    let bin = baton.scratch("fake-claude");
    let program = bin.join("claude");
    support::write_program(&program, FAKE_CLAUDE);
    let plan = baton.plan(
        "resume.yaml",
        r#"version: 1
goal: g
gates:
  done: "test -f done.txt"
merge_gates: []
tasks:
  - id: t
    agent: claude
    prompt: "Write done.txt."
    claims: ["done.txt"]
    gates: [done]
    retries: 1
"#,
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let attempts = task(&report, "t")["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 3, "{report:#}");
    assert!(
        attempts[0]["failure"]
            .as_str()
            .unwrap()
            .contains("gate `done` failed"),
        "{report:#}"
    );
    assert_eq!(attempts[1]["status"], "interrupted", "{report:#}");
    assert!(
        attempts[1]["failure"]
            .as_str()
            .unwrap_or_default()
            .contains("could not resume its session sess-1"),
        "{report:#}"
    );
    assert_eq!(task(&report, "t")["status"], "merged", "{report:#}");

    // Attempt 2 asked for the session, attempt 3 started a new one.
    let args: Vec<(u64, String)> = baton
        .events(&id)
        .iter()
        .filter(|e| e["type"] == "attempt.output")
        .filter_map(|e| {
            let line = e["data"]["line"].as_str()?;
            line.starts_with("ARGS:")
                .then(|| (e["data"]["attempt"].as_u64().unwrap_or(0), line.to_owned()))
        })
        .collect();
    assert_eq!(args.len(), 3, "{args:#?}");
    assert!(!args[0].1.contains("--resume"), "{args:#?}");
    assert!(args[1].1.contains("--resume sess-1"), "{args:#?}");
    assert!(!args[2].1.contains("--resume"), "{args:#?}");
}
