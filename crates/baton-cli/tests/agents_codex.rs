#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real Codex CLI (installed by `scripts/agent-clients.sh`) in a lane, against
//! the scripted fake LLM server speaking the OpenAI Responses dialect: Codex's shell tool
//! writes the task's file, it lands on the integration branch, its tokens are priced into the
//! ledger, and the API key leaks nowhere.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::{
    assert_key_leaks_nowhere, assert_one_attempt_landed, assert_one_costed_attempt,
    baton_with_client,
};
use support::{Baton, OK};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "sk-codex-fake-7e21b9c04d";

#[test]
fn codex_writes_the_tasks_file_in_the_lane_and_baton_prices_its_tokens() {
    let baton = Baton::new();
    // Codex 0.169 has no metadata for `gpt-5` (the model baton's price table knows), so it
    // offers no `apply_patch` and edits through its shell tool, relative to the lane.
    // Its shell tool writes the file relative to the lane; the offline set-up gives it a
    // `$CODEX_HOME/config.toml` naming the fake server as its provider.
    let script = Client::Codex
        .script(&[FileWrite {
            path: "greeting.txt",
            line: "hello from codex",
        }])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    let plan = baton.plan(
        "codex.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: codex
    model: gpt-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Codex,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    let report = assert_one_attempt_landed(&baton, &id, "greeting.txt", "hello from codex\n");

    // baton's prompt reached Codex, through the Responses dialect, with the model of the plan.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    assert_eq!(first.path, "/v1/responses", "{first:#?}");
    assert_eq!(first.model.as_deref(), Some("gpt-5"), "{first:#?}");
    let prompt = first.last_user_text.as_deref().unwrap_or_default();
    assert!(
        prompt.contains("Write greeting.txt saying hello."),
        "{prompt}"
    );

    // Its shell call was decoded as a command that succeeded.
    let events = baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "attempt.agent"
            && e["data"]["event"]["type"] == "command_run"
            && e["data"]["event"]["exit_code"] == 0),
        "{events:#?}"
    );

    // Codex reports tokens and no dollars: baton priced them from its table.
    assert_one_costed_attempt(&report, "codex");

    // The key is in no file baton wrote, no commit, nothing baton printed.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
}

#[test]
fn a_codex_retry_resumes_its_thread_with_the_failure() {
    let baton = Baton::new();
    let turn = |content: &str| {
        format!(
            "  - text: \"Writing it.\"\n    tool_call:\n      name: exec_command\n      input: {{cmd: \"echo '{content}' > greeting.txt\"}}\n    usage: {{input: 1000, output: 20}}\n  - text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\n"
        )
    };
    let script = format!("turns:\n{}{}", turn("wrong"), turn("hello again"));
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "codex.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: codex
    model: gpt-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
    retries: 1
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Codex,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello again\n")
    );
    // The retry's first request carries the first attempt's thread and then the failure.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    let retry = requests.iter().find(|r| r.turn == Some(3)).unwrap();
    assert!(
        retry.roles.len() > first.roles.len() + 2,
        "the resumed thread: {first:#?} then {retry:#?}"
    );
    let prompt = retry.last_user_text.as_deref().unwrap_or_default();
    assert!(prompt.contains("previous attempt"), "{prompt}");
}
