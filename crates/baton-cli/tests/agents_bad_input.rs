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

#[test]
fn baton_agents_shows_the_configured_command_model_and_routing_but_no_secret() {
    let baton = Baton::new();
    let tools = baton.scratch("tools");
    let fake = tools.join("my-claude");
    support::write_program(&fake, "#!/bin/sh\necho '2.1.197 (Claude Code)'\n");
    std::fs::write(
        baton.path().join("baton.toml"),
        format!(
            "[agents.claude]\ncommand = {:?}\nmodel = \"claude-sonnet-4-5\"\ncapabilities = [\"rust\"]\ncomplexity = [5, 10]\nmax_concurrency = 2\ncost_hint = 1.5\nfallback = [\"codex\"]\n\n[agents.claude.env]\nANTHROPIC_API_KEY = \"sk-ant-shown-nowhere-77\"\n",
            fake.to_str().unwrap()
        ),
    )
    .unwrap();
    let listed = baton.baton(&["agents", "--check", "--json"]);
    listed.expect_code(support::OK);
    assert!(!listed.stdout.contains("sk-ant-shown-nowhere-77"));
    let agents = listed.json();
    let claude = &agents[0];
    assert_eq!(claude["name"], "claude");
    assert_eq!(claude["path"], fake.to_str().unwrap());
    assert_eq!(claude["version"], "2.1.197");
    assert_eq!(claude["healthy"], true);
    assert_eq!(claude["model"], "claude-sonnet-4-5");
    assert_eq!(claude["capabilities"], serde_json::json!(["rust"]));
    assert_eq!(claude["complexity"], serde_json::json!([5, 10]));
    assert_eq!(claude["max_concurrency"], 2);
    assert_eq!(claude["fallback"], serde_json::json!(["codex"]));
    assert_eq!(claude["env"], serde_json::json!(["ANTHROPIC_API_KEY"]));

    let table = baton.baton(&["agents"]);
    table.expect_code(support::OK);
    assert!(
        table.stdout.contains("claude-sonnet-4-5"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("at most 2 at once"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("sk-ant-shown-nowhere-77"));

    // A broken configuration is said with its place, exit 2.
    std::fs::write(
        baton.path().join("baton.toml"),
        "[agents.claude]\nmodel = 3\n",
    )
    .unwrap();
    let bad = baton.baton(&["agents"]);
    bad.expect_code(BAD_INPUT);
    assert!(bad.stderr.contains("baton.toml:2:9"), "{}", bad.stderr);
}
