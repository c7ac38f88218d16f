#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Plans that name AI agents wrongly: refused with exit 2 and a message that says what to do,
//! before anything is written (not even `$BATON_HOME`).

mod support;

use support::{BAD_INPUT, Baton};

fn refused(yaml: &str, wanted: &[&str]) {
    let baton = Baton::new();
    let plan = baton.plan("agents.yaml", yaml);
    let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(BAD_INPUT);
    for text in wanted {
        assert!(run.stderr.contains(text), "no {text:?} in:\n{}", run.stderr);
    }
    assert!(!baton.home.exists(), "a refused plan writes nothing");
}

#[test]
fn an_agent_that_is_not_installed_is_refused_with_how_to_install_it() {
    refused(
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: cursor\n    prompt: do it\n",
        &[
            "task \"a\" uses agent cursor",
            "cursor-agent",
            "cursor.com/cli",
        ],
    );
}

#[test]
fn an_agent_task_without_a_prompt_is_refused_at_its_line() {
    refused(
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: claude\n",
        &["agents.yaml:4:", "has no prompt"],
    );
}

#[test]
fn an_unknown_agent_is_refused_with_the_known_ones() {
    refused(
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: gpt\n    prompt: p\n",
        &["agents.yaml:5:", "agent \"gpt\"", "claude, codex"],
    );
}

#[test]
fn a_prompt_file_that_does_not_exist_is_refused() {
    // `exec` never needs a client; a prompt_file is checked for every AI task, so use one the
    // machine may have or not: the message names the file either way.
    let baton = Baton::new();
    let plan = baton.plan(
        "agents.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: claude\n    prompt_file: missing.md\n",
    );
    let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(BAD_INPUT);
    assert!(run.stderr.contains("missing.md"), "{}", run.stderr);
    assert!(!baton.home.exists());
}

#[test]
fn baton_agents_lists_every_agent_and_how_to_install_a_missing_one() {
    let baton = Baton::new();
    let listed = baton.baton(&["agents", "--check", "--json"]);
    listed.expect_code(support::OK);
    let agents = listed.json();
    let names: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "claude", "codex", "gemini", "qwen", "opencode", "aider", "goose", "cursor", "exec"
        ]
    );
    let cursor = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "cursor")
        .unwrap();
    assert!(
        cursor["path"].is_null(),
        "cursor-agent is not on this machine"
    );
    assert!(
        cursor["install"]
            .as_str()
            .unwrap()
            .contains("cursor.com/cli")
    );
    let exec = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "exec")
        .unwrap();
    assert_eq!(exec["healthy"], true);
}

#[test]
fn baton_prompt_prints_what_the_agent_will_be_told_and_refuses_an_exec_task() {
    let baton = Baton::new();
    let plan = baton.plan(
        "prompt.yaml",
        r#"version: 1
goal: "Add OAuth2 login"
gates:
  test: "cargo test"
tasks:
  - id: github
    agent: claude
    prompt: "Add the GitHub provider."
    claims: ["src/auth/**"]
    gates: [test]
  - id: fmt
    run: "cargo fmt"
"#,
    );
    let shown = baton.baton(&["prompt", plan.to_str().unwrap(), "github"]);
    shown.expect_code(support::OK);
    for text in [
        "Goal of the whole change: Add OAuth2 login",
        "Add the GitHub provider.",
        "src/auth/**",
        "- test: `cargo test`",
    ] {
        assert!(
            shown.stdout.contains(text),
            "no {text:?} in:\n{}",
            shown.stdout
        );
    }
    let exec = baton.baton(&["prompt", plan.to_str().unwrap(), "fmt"]);
    exec.expect_code(BAD_INPUT);
    assert!(exec.stderr.contains("exec task"), "{}", exec.stderr);
    let unknown = baton.baton(&["prompt", plan.to_str().unwrap(), "nope"]);
    unknown.expect_code(BAD_INPUT);
    assert!(unknown.stderr.contains("github, fmt"), "{}", unknown.stderr);
}
