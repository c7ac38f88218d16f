#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The end of the escalation ladder with a real agent: Codex (the real CLI, against the
//! scripted fake LLM server) fails its task's gate, the task becomes `needs_human`, and a
//! person's `baton retry --prompt-file` gives it a new prompt that reaches Codex in a fresh
//! conversation and lands; `baton stats agents` then counts Codex's two attempts.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::baton_with_client;
use support::{Baton, OK, task};

const API_KEY: &str = "sk-codex-fake-controls-41c2";
const PAUSED: i32 = 4;

#[test]
fn needs_human_then_retry_with_a_new_prompt_lands_the_task() {
    let baton = Baton::new();
    baton.write_config("[escalation]\nperson = true\n");
    let write = |line| FileWrite {
        path: "greeting.txt",
        line,
    };
    let script = Client::Codex.script_yaml(&[write("wrong"), write("hello")]);
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "codex.yaml",
        r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -qx hello greeting.txt"
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
    run.expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    assert_eq!(task(&baton.report(&id), "greet")["status"], "needs_human");

    let prompt = baton.path().parent().unwrap().join("new-prompt.txt");
    std::fs::write(
        &prompt,
        "Put exactly the word hello in greeting.txt, nothing else.\n",
    )
    .unwrap();
    baton
        .baton(&[
            "retry",
            &id,
            "greet",
            "--prompt-file",
            prompt.to_str().unwrap(),
        ])
        .expect_code(OK);
    let resumed = baton_with_client(&baton, Client::Codex, &llm, API_KEY, &["resume", &id]);
    resumed.expect_code(OK);
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello\n")
    );
    // The second attempt's first request is a new conversation carrying the person's prompt.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    let retry = requests.iter().find(|r| r.turn == Some(3)).unwrap();
    let text = retry.last_user_text.as_deref().unwrap_or_default();
    assert!(text.contains("Put exactly the word hello"), "{text}");
    assert!(!text.contains("Write greeting.txt saying hello."), "{text}");
    // Not the first attempt's thread resumed: the conversation is as long as the first one's.
    assert_eq!(
        retry.roles.len(),
        first.roles.len(),
        "{first:#?} then {retry:#?}"
    );

    // Codex's track record: two attempts on a general task, one passed; too few to steer.
    let stats = baton.baton(&["stats", "agents", "--json"]);
    stats.expect_code(OK);
    assert_eq!(
        stats.json(),
        serde_json::json!([{"agent": "codex", "kind": "general", "attempts": 2, "succeeded": 1,
            "success_rate": 0.5, "steers_routing": false, "council_seats": 0,
            "council_wins": 0, "win_rate": null}])
    );
    let table = baton.baton(&["stats", "agents"]);
    assert!(
        table.stdout.contains("too few attempts"),
        "{}",
        table.stdout
    );
}
