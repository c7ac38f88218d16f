#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real Gemini CLI (installed by `scripts/agent-clients.sh`) in a lane, against
//! the scripted fake LLM server speaking the Gemini API: its `write_file` tool writes the task's
//! file, it lands on the integration branch, its tokens are priced into the ledger, and the API
//! key leaks nowhere.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::FakeLlm;
use support::agents::{
    assert_key_leaks_nowhere, assert_one_attempt_landed, assert_one_costed_attempt,
    baton_with_client, first_lane,
};
use support::{Baton, OK};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "AIza-fake-gemini-5b83f1a2c9";

#[test]
fn gemini_writes_the_tasks_file_in_the_lane_and_baton_prices_its_tokens() {
    let baton = Baton::new();
    // Gemini CLI's `write_file` wants an absolute path.
    let target = first_lane(&baton).join("greeting.txt");
    // The offline set-up selects the API-key auth in `~/.gemini/settings.json`.
    let script = Client::Gemini
        .script(&[FileWrite {
            path: target.to_str().unwrap(),
            line: "hello from gemini",
        }])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    let plan = baton.plan(
        "gemini.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: gemini
    model: gemini-2.5-flash
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Gemini,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    let report = assert_one_attempt_landed(&baton, &id, "greeting.txt", "hello from gemini\n");

    // baton's prompt reached Gemini CLI, through the Gemini API, for the model of the plan.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    assert!(
        first
            .path
            .starts_with("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
        "{first:#?}"
    );
    let prompt = first.last_user_text.as_deref().unwrap_or_default();
    assert!(
        prompt.contains("Write greeting.txt saying hello."),
        "{prompt}"
    );

    // Its tool call was decoded as a change of that file.
    let events = baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "attempt.agent"
            && e["data"]["event"]["type"] == "file_change"
            && e["data"]["event"]["path"] == target.to_str().unwrap()),
        "{events:#?}"
    );

    // Gemini CLI reports tokens and no dollars: baton priced them from its table.
    assert_one_costed_attempt(&report, "gemini");

    // The key is in no file baton wrote, no commit, nothing baton printed.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
}
