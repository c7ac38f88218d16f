#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A whole plan run with the real Claude Code and a known fake API key: the key reaches the
//! client only through its environment, and appears in no log, event, database row, report,
//! commit, output, or command line of any process baton starts (agent, gates, git).

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script};
use std::path::Path;
use support::agents::{assert_key_leaks_nowhere, baton_with_agent, client_bin, first_lane};
use support::{Baton, OK};

const API_KEY: &str = "sk-ant-leakcheck-91c3e5a7f0";

/// A program named `name` in `dir` that appends its command line to `log`, then runs `real`.
fn recording_wrapper(dir: &Path, name: &str, real: &Path, log: &Path) {
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> {log:?} 2>/dev/null\nexec {real:?} \"$@\"\n",
        log = log.to_str().unwrap(),
        real = real.to_str().unwrap()
    );
    let path = dir.join(name);
    support::write_program(&path, script);
}

fn which(program: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

#[test]
fn the_api_key_is_in_no_log_event_row_report_commit_or_command_line() {
    let baton = Baton::new();
    let record = baton.writable_scratch("argv");
    let log = record.join("argv.log");
    let bin = baton.scratch("wrappers");
    recording_wrapper(
        &bin,
        "claude",
        &client_bin("claude", "claude").join("claude"),
        &log,
    );
    recording_wrapper(&bin, "git", &which("git"), &log);

    let target = first_lane(&baton).join("greeting.txt");
    let script = format!(
        "turns:\n  - text: \"Writing it.\"\n    tool_call:\n      name: Write\n      input: {{file_path: {:?}, content: \"hello\\n\"}}\n    usage: {{input: 1000, output: 20}}\n  - text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\n",
        target.to_str().unwrap()
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "leak.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: [greeting]
tasks:
  - id: greet
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
    );
    let env = [
        ("ANTHROPIC_BASE_URL", llm.url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_string()),
        ("CLAUDE_CODE_MAX_RETRIES", "1".to_string()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_string()),
        ("DISABLE_AUTOUPDATER", "1".to_string()),
        ("DISABLE_TELEMETRY", "1".to_string()),
    ];
    let run = baton_with_agent(
        &baton,
        &bin,
        &env,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello\n")
    );

    // The key did reach the client: the fake server saw it in the request's header.
    assert!(
        llm.requests().iter().any(|r| r.turn == Some(1)),
        "Claude Code reached the server"
    );

    // Every command line baton started (the agent and every git, baton's own included) was
    // recorded, and none holds the key.
    let argv = std::fs::read_to_string(&log).unwrap();
    assert!(argv.lines().any(|l| l.starts_with("claude -p")), "{argv}");
    assert!(argv.lines().any(|l| l.starts_with("git ")), "{argv}");
    assert!(!argv.contains(API_KEY), "a command line holds the key");

    // Files under BATON_HOME (database, WAL, logs, prompts), commits, and baton's output.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
    // What the commands that read the store show: events, the report, the logs.
    let events = baton.baton(&["events", &id]);
    events.expect_code(OK);
    assert!(!events.stdout.contains(API_KEY), "an event holds the key");
    let report = baton.baton(&["report", &id, "--format", "json"]);
    report.expect_code(OK);
    assert!(!report.stdout.contains(API_KEY), "the report holds the key");
    let logs = baton.baton(&["logs", &id, "greet"]);
    assert!(!logs.stdout.contains(API_KEY) && !logs.stderr.contains(API_KEY));
}
