#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An agent that commits on its own (several commits, one undoing part of another) and leaves
//! more changes uncommitted: the task's one commit holds the lane's net change, on the
//! attempt's start, and the agent's own commits never reach the integration branch.

mod support;

use support::agents::baton_with_agent;
use support::{Baton, OK};

/// A stand-in for Claude Code that makes its own commits in the lane.
const COMMITTING_AGENT: &str = r#"#!/bin/sh
echo '{"type":"system","subtype":"init","session_id":"s1","model":"m","tools":[]}'
echo one > a.txt && echo scratch > scratch.txt
git add -A && git -c user.name=agent -c user.email=agent@example.invalid commit -qm "agent: first" >&2
git rm -q scratch.txt && echo two >> a.txt
git add -A && git -c user.name=agent -c user.email=agent@example.invalid commit -qm "agent: second" >&2
echo left > b.txt
echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":2}}'
"#;

#[test]
fn an_agents_own_commits_fold_into_the_tasks_one_commit() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    let program = bin.join("claude");
    support::write_program(&program, COMMITTING_AGENT);
    let plan = baton.plan(
        "commits.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: t\n    agent: claude\n    prompt: \"Work.\"\n    claims: [\"a.txt\", \"b.txt\", \"scratch.txt\"]\n",
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "a.txt").as_deref(),
        Some("one\ntwo\n")
    );
    assert_eq!(
        baton.read_at(&integration, "b.txt").as_deref(),
        Some("left\n")
    );
    assert_eq!(baton.read_at(&integration, "scratch.txt"), None);

    // The merge's second parent is baton's one commit, whose parent is the run's base.
    let merge = baton.git(&["rev-parse", &integration]).trim().to_string();
    let task_commit = baton
        .git(&["rev-parse", &format!("{merge}^2")])
        .trim()
        .to_string();
    let base = baton
        .git(&["rev-parse", &format!("{merge}^1")])
        .trim()
        .to_string();
    assert_eq!(
        baton.git(&["rev-parse", &format!("{task_commit}^")]).trim(),
        base,
        "one commit on the start"
    );
    let message = baton.git(&["log", "-1", "--format=%B", &task_commit]);
    assert!(message.contains("Baton-Task: t"), "{message}");
    let history = baton.git(&["log", "--format=%s", &integration]);
    assert!(!history.contains("agent: first"), "{history}");
    assert!(!history.contains("agent: second"), "{history}");
}
