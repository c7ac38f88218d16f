#![allow(clippy::unwrap_used, clippy::expect_used)]
//! baton drives the real Claude Code CLI (installed by `scripts/agent-clients.sh`) in a lane,
//! against the scripted fake LLM server: the task's file lands through the gates, a retry gets
//! the failure in its prompt, the usage lands in the ledger, and the API key leaks nowhere.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::FakeLlm;
use support::agents::{assert_key_leaks_nowhere, baton_with_client, first_lane};
use support::{Baton, OK, task};

/// A key the test can search for everywhere baton writes.
const API_KEY: &str = "sk-ant-fake-4c1d9e7b20aa";

#[test]
fn claude_writes_the_tasks_file_a_retry_gets_the_failure_and_its_cost_is_in_the_ledger() {
    let baton = Baton::new();
    let target = first_lane(&baton).join("greeting.txt");
    let path = target.to_str().unwrap();
    // Two attempts: the first writes the wrong line, the retry the right one.
    let script = Client::Claude
        .script(&[
            FileWrite {
                path,
                line: "wrong",
            },
            FileWrite {
                path,
                line: "hello from claude",
            },
        ])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    let plan = baton.plan(
        "claude.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q hello greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
    retries: 1
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Claude,
        &llm,
        API_KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    // The second attempt's answer is what merged.
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello from claude\n")
    );
    let report = baton.report(&id);
    let attempts = task(&report, "greet")["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 2, "{report:#}");
    assert!(
        attempts[0]["failure"]
            .as_str()
            .unwrap()
            .contains("gate `greeting` failed"),
        "{report:#}"
    );

    // Baton's prompt reached Claude, and the retry's prompt carried the failure.
    let requests = llm.requests();
    let firsts: Vec<&str> = requests
        .iter()
        .filter(|r| r.turn == Some(1) || r.turn == Some(3))
        .filter_map(|r| r.last_user_text.as_deref())
        .collect();
    assert_eq!(firsts.len(), 2, "{requests:#?}");
    assert!(
        firsts[0].contains("Write greeting.txt saying hello."),
        "{}",
        firsts[0]
    );
    assert!(
        firsts[0].contains("Change only these paths"),
        "{}",
        firsts[0]
    );
    assert!(firsts[1].contains("previous attempt"), "{}", firsts[1]);
    assert!(firsts[1].contains("greeting"), "{}", firsts[1]);

    // The retry resumed the first attempt's session (`claude --resume ID` in the same lane):
    // Claude sent the first attempt's conversation along with the new prompt.
    let retry = requests.iter().find(|r| r.turn == Some(3)).unwrap();
    assert!(
        retry.roles.len() >= 5,
        "the retry carries the first conversation: {retry:#?}"
    );

    // Usage: both attempts in the ledger, Claude's own dollars (reported), per agent and model.
    let usage = &report["usage"];
    assert_eq!(usage["total"]["attempts"], 2, "{usage:#}");
    assert_eq!(usage["total"]["unknown_cost_attempts"], 0, "{usage:#}");
    assert!(usage["total"]["cost"].as_u64().unwrap() > 0, "{usage:#}");
    assert!(
        usage["by_agent"]["claude"]["tokens"]["input"]
            .as_u64()
            .unwrap()
            >= 2000
    );
    let events = baton.events(&id);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "attempt.agent" && e["data"]["event"]["type"] == "usage"),
        "usage events are stored"
    );

    // The key is in no file baton wrote, no event, no commit.
    assert_key_leaks_nowhere(&baton, &run, API_KEY);
}
