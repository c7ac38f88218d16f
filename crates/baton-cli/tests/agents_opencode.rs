#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real OpenCode (installed by `scripts/agent-clients.sh`) in a lane, against
//! the scripted fake LLM server speaking OpenAI Chat Completions through an openai-compatible
//! provider: its `write` tool writes the task's file, it lands on the integration branch, its
//! tokens are priced into the ledger, and the API key leaks nowhere.

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::{
    agent_home, assert_key_leaks_nowhere, assert_one_attempt_landed, baton_with_agent, client_bin,
    first_lane,
};
use support::{Baton, OK};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "sk-opencode-fake-3c9d41e7a2";

/// The variable OpenCode's provider configuration reads its key from.
const KEY_VAR: &str = "FAKE_LLM_API_KEY";

/// The file `OPENCODE_CONFIG` names: one openai-compatible provider, the fake server, with a
/// model baton's price table knows and no prices of its own (so OpenCode reports cost 0).
fn opencode_config(llm: &FakeLlm) -> String {
    format!(
        r#"{{
  "$schema": "https://opencode.ai/config.json",
  "autoupdate": false,
  "share": "disabled",
  "provider": {{
    "fake": {{
      "npm": "@ai-sdk/openai-compatible",
      "name": "Fake LLM",
      "options": {{"baseURL": "{}/v1", "apiKey": "{{env:{KEY_VAR}}}"}},
      "models": {{"gpt-4.1": {{"name": "GPT-4.1 (fake)", "tool_call": true}}}}
    }}
  }}
}}
"#,
        llm.url()
    )
}

#[test]
fn opencode_writes_the_tasks_file_in_the_lane_and_baton_prices_its_tokens() {
    let baton = Baton::new();
    // OpenCode's `write` tool wants an absolute path.
    let target = first_lane(&baton).join("greeting.txt");
    // The title request offers no tools: an aside, so it takes no turn whenever it comes.
    let script = format!(
        "turns:\n  - text: \"Writing it.\"\n    tool_call:\n      name: write\n      input: {{filePath: {:?}, content: \"hello from opencode\\n\"}}\n    usage: {{input: 1000, output: 20}}\n  - text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\naside:\n  - when: {{has_tools: false}}\n    text: \"Greeting\"\n",
        target.to_str().unwrap()
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    // baton lets OpenCode write its XDG state directories under HOME, and Landlock can only
    // grant a directory that exists: a HOME where OpenCode has run before has them.
    for dir in [
        ".local/share/opencode",
        ".config/opencode",
        ".cache/opencode",
        ".local/state/opencode",
    ] {
        std::fs::create_dir_all(agent_home(&baton).join(dir)).unwrap();
    }
    let config = baton.repo.tmp().join("opencode.json");
    std::fs::write(&config, opencode_config(&llm)).unwrap();
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
    let env = [
        ("OPENCODE_CONFIG", config.to_str().unwrap().to_string()),
        (KEY_VAR, API_KEY.to_string()),
        ("OPENCODE_DISABLE_MODELS_FETCH", "1".to_string()),
        ("OPENCODE_DISABLE_AUTOUPDATE", "1".to_string()),
        ("OPENCODE_DISABLE_SHARE", "1".to_string()),
        ("OPENCODE_DISABLE_LSP_DOWNLOAD", "1".to_string()),
    ];
    let run = baton_with_agent(
        &baton,
        &client_bin("opencode", "opencode"),
        &env,
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
