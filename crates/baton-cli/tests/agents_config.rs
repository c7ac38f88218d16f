#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `[agents.NAME]` in `baton.toml`: a configured program and environment are what baton starts,
//! and a wrong table is refused before anything is written.

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::{baton_with_agent, client_bin, first_lane};
use support::{BAD_INPUT, Baton, OK};

/// Writes an untracked, git-ignored `baton.toml`.
fn config(baton: &Baton, text: &str) {
    std::fs::write(baton.path().join("baton.toml"), text).unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
}

#[test]
fn a_configured_command_and_environment_run_an_agent_that_is_not_on_path() {
    let baton = Baton::new();
    let target = first_lane(&baton).join("greeting.txt");
    let script = format!(
        "turns:\n  - tool_call:\n      name: Write\n      input: {{file_path: {:?}, content: \"configured\\n\"}}\n  - text: \"Done.\"\n",
        target.to_str().unwrap()
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let claude = client_bin("claude", "claude").join("claude");
    config(
        &baton,
        &format!(
            "[agents.claude]\ncommand = {:?}\nmodel = \"claude-sonnet-4-5\"\n\n[agents.claude.env]\nANTHROPIC_BASE_URL = {:?}\nANTHROPIC_API_KEY = \"sk-ant-from-config\"\nCLAUDE_CODE_MAX_RETRIES = \"1\"\nDISABLE_AUTOUPDATER = \"1\"\nDISABLE_TELEMETRY = \"1\"\nCLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = \"1\"\n",
            claude.to_str().unwrap(),
            llm.url()
        ),
    );
    let plan = baton.plan(
        "configured.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    agent: claude\n    prompt: \"Write greeting.txt.\"\n    claims: [\"greeting.txt\"]\n",
    );
    // Nothing called `claude` on PATH: only the configured command can run it.
    let empty_bin = baton.scratch("no-agents");
    let run = baton_with_agent(
        &baton,
        &empty_bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("configured\n")
    );
    let requests = llm.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.model.as_deref() == Some("claude-sonnet-4-5")),
        "the configured default model was asked for: {requests:#?}"
    );
}

#[test]
fn an_unknown_agent_table_is_refused_naming_the_file() {
    let baton = Baton::new();
    config(&baton, "[agents.claud]\nmodel = \"x\"\n");
    let plan = baton.plan(
        "p.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    run: \"true\"\n",
    );
    let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(BAD_INPUT);
    assert!(run.stderr.contains("baton.toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown agent \"claud\""),
        "{}",
        run.stderr
    );
    assert!(!baton.home.exists());
}
