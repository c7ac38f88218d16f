#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real Aider (installed in a venv by `scripts/agent-clients.sh`) in a lane,
//! against the scripted fake LLM server speaking OpenAI Chat Completions: Aider has no tools, it
//! applies the SEARCH/REPLACE block of the model's reply, the file lands on the integration
//! branch, its tokens reach the ledger with a cost, and the API key leaks nowhere.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::FakeLlm;
use support::agents::{
    assert_key_leaks_nowhere, assert_one_attempt_landed, assert_one_costed_attempt,
    baton_with_client,
};
use support::{Baton, OK};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "sk-aider-fake-81f0c6d3b5";

#[test]
fn aider_applies_the_models_edit_block_in_the_lane_and_its_tokens_are_costed() {
    let baton = Baton::new();
    // The edit arrives as text: a SEARCH/REPLACE block with an empty SEARCH creates the file,
    // named relative to the repository. A request without a stream (Aider's commit message or
    // a summary) is an aside, so it takes no turn. The offline set-up gives Aider model
    // metadata (else it downloads litellm's price file) and its `~/.aider` directory.
    let script = Client::Aider
        .script(&[FileWrite {
            path: "greeting.txt",
            line: "hello from aider",
        }])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    // Aider writes a placeholder git identity into the repository's config when git has none,
    // and the sandbox (rightly) refuses that write: a user's git has an identity.
    baton.git(&["config", "user.name", "Aider Test"]);
    baton.git(&["config", "user.email", "aider@example.com"]);
    let plan = baton.plan(
        "aider.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: aider
    model: openai/gpt-4.1
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Aider,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    let report = assert_one_attempt_landed(&baton, &id, "greeting.txt", "hello from aider\n");
    // Aider's `.aider*` history and caches did not land.
    let landed = baton.git(&["ls-tree", "-r", "--name-only", &baton.integration(&id)]);
    assert!(!landed.contains(".aider"), "{landed}");

    // Aider asked nothing of the network but the fake server: no price file, no version check.
    let log = std::fs::read_to_string(
        baton
            .home
            .join("runs")
            .join(&id)
            .join("logs")
            .join("greet.1.log"),
    )
    .unwrap();
    assert!(log.contains("Applied edit to greeting.txt"), "{log}");
    assert!(
        !log.contains("HTTPSConnectionPool") && !log.contains("Error"),
        "{log}"
    );

    // baton's prompt reached Aider's model, through Chat Completions, for the model of the plan.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    assert_eq!(first.path, "/v1/chat/completions", "{first:#?}");
    assert_eq!(first.model.as_deref(), Some("gpt-4.1"), "{first:#?}");
    let prompt = first.last_user_text.as_deref().unwrap_or_default();
    assert!(
        prompt.contains("Write greeting.txt saying hello."),
        "{prompt}"
    );

    // Its applied edit was decoded as a change of that file.
    let events = baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "attempt.agent"
            && e["data"]["event"]["type"] == "file_change"
            && e["data"]["event"]["path"] == "greeting.txt"),
        "{events:#?}"
    );

    // Aider counts tokens itself (`Tokens: 2.6k sent, 25 received.`) and, with model metadata
    // that has no prices, prints no cost: baton priced them at gpt-4.1's $2 and $8 per million.
    assert_one_costed_attempt(&report, "aider");
    let usage = &report["usage"];
    let tokens = &usage["by_agent"]["aider"]["tokens"];
    let priced = tokens["input"].as_u64().unwrap() * 2 + tokens["output"].as_u64().unwrap() * 8;
    assert_eq!(usage["total"]["cost"], priced, "{usage:#}");

    // The key is in no file baton wrote, no commit, nothing baton printed.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
}
