#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real OpenCode (installed by `scripts/agent-clients.sh`) in a lane, against
//! the scripted fake LLM server speaking OpenAI Chat Completions through an openai-compatible
//! provider: its `write` tool writes the task's file, it lands on the integration branch, its
//! tokens are priced into the ledger, and the API key leaks nowhere.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::FakeLlm;
use support::agents::{
    assert_key_leaks_nowhere, assert_one_attempt_landed, baton_with_client, first_lane,
};
use support::{Baton, OK};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "sk-opencode-fake-3c9d41e7a2";

#[test]
fn opencode_writes_the_tasks_file_in_the_lane_and_baton_prices_its_tokens() {
    let baton = Baton::new();
    // OpenCode's `write` tool wants an absolute path.
    let target = first_lane(&baton).join("greeting.txt");
    // The title request offers no tools: an aside, so it takes no turn whenever it comes.
    // The offline set-up writes an `OPENCODE_CONFIG` with one openai-compatible provider (the
    // fake server, a model baton's price table knows, no prices of its own) and creates the
    // XDG state directories a confined OpenCode needs under HOME.
    let script = Client::OpenCode
        .script(&[FileWrite {
            path: target.to_str().unwrap(),
            line: "hello from opencode",
        }])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    let plan = baton.plan(
        "opencode.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: opencode
    model: fake/gpt-4.1
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::OpenCode,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    let report = assert_one_attempt_landed(&baton, &id, "greeting.txt", "hello from opencode\n");

    // baton's prompt reached OpenCode, through Chat Completions, for the model of the plan.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    assert_eq!(first.path, "/v1/chat/completions", "{first:#?}");
    assert_eq!(first.model.as_deref(), Some("gpt-4.1"), "{first:#?}");
    let prompt = first.last_user_text.as_deref().unwrap_or_default();
    assert!(
        prompt.contains("Write greeting.txt saying hello."),
        "{prompt}"
    );

    // Its `write` call was decoded as the file's creation.
    let events = baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "attempt.agent"
            && e["data"]["event"]["type"] == "file_change"
            && e["data"]["event"]["path"] == target.to_str().unwrap()),
        "{events:#?}"
    );

    // OpenCode reports cost 0 without prices in its config: baton took that as unknown and
    // priced the tokens from its table.
    let usage = &report["usage"];
    assert_eq!(usage["total"]["attempts"], 1, "{usage:#}");
    assert_eq!(usage["total"]["unknown_cost_attempts"], 0, "{usage:#}");
    // Both steps' tokens add up (1000 + 1100 in, 20 + 5 out); at gpt-4.1's $2 and $8 per
    // million that is $0.0044, 4,400 micro-dollars.
    let tokens = &usage["by_agent"]["opencode"]["tokens"];
    assert_eq!(tokens["input"], 2100, "{usage:#}");
    assert_eq!(tokens["output"], 25, "{usage:#}");
    assert_eq!(usage["total"]["cost"], 4400, "{usage:#}");

    // The key is in no file baton wrote, no commit, nothing baton printed.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
}
