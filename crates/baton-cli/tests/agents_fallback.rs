#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `agent: auto` with two real clients installed: Claude Code hits a rate limit (HTTP 429 from
//! the fake LLM server), so the attempt is not counted as a failure and the next attempt runs on
//! Codex, which does the work.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::baton_with_clients;
use support::{Baton, OK, task};

/// `baton run --plan PLAN` with two real clients first on PATH, both pointed at `llm` with
/// fake keys, and `extra` variables on top.
fn run_with_clients(
    baton: &Baton,
    llm: &FakeLlm,
    clients: [Client; 2],
    extra: &[(&str, &str)],
    plan: &std::path::Path,
) -> support::Finished {
    let servers = clients.map(|client| (client, llm));
    baton_with_clients(
        baton,
        &servers,
        extra,
        &["run", "--plan", plan.to_str().unwrap()],
    )
}

#[test]
fn a_rate_limited_agent_hands_an_auto_task_to_the_next_agent_without_using_a_retry() {
    let baton = Baton::new();
    // Every Anthropic request gets a 429; Codex's turns write the file.
    let script = format!(
        "aside:\n  - when: {{dialect: anthropic_messages}}\n    error: {{status: 429, retry_after: 1, body: \"rate limited, slow down\"}}\n{}",
        Client::Codex.script_yaml(&[FileWrite {
            path: "greeting.txt",
            line: "hello from the fallback",
        }])
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "auto.yaml",
        r#"version: 1
goal: "Greet"
tasks:
  - id: greet
    agent: auto
    model: gpt-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
"#,
    );
    // No retry of the 429 inside Claude Code: baton sees the limit at once.
    let extra = [("CLAUDE_CODE_MAX_RETRIES", "0")];
    let run = run_with_clients(&baton, &llm, [Client::Claude, Client::Codex], &extra, &plan);
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello from the fallback\n")
    );
    let report = baton.report(&id);
    let greet = task(&report, "greet");
    let statuses: Vec<&str> = greet["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["interrupted", "succeeded"], "{report:#}");
    let why = greet["attempts"][0]["failure"].as_str().unwrap_or_default();
    assert!(
        why.contains("agent claude") && why.contains("rate limited"),
        "{why}"
    );
    let usage = &report["usage"];
    assert!(usage["by_agent"]["codex"]["attempts"] == 1, "{usage:#}");
    let warned = baton.events(&id).iter().any(|e| {
        e["type"] == "warning"
            && e["data"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("agent claude reached a rate or usage limit")
    });
    assert!(warned);
}

#[test]
fn a_named_agent_that_is_rate_limited_hands_over_to_its_configured_fallback() {
    let baton = Baton::new();
    // Codex's Responses requests get 429; Gemini CLI's requests get the turns.
    let script = format!(
        "aside:\n  - when: {{dialect: openai_responses}}\n    error: {{status: 429, retry_after: 1, body: \"rate limited, slow down\"}}\n{}",
        Client::Gemini.script_yaml(&[FileWrite {
            path: "greeting.txt",
            line: "hello from gemini",
        }])
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    std::fs::write(
        baton.path().join("baton.toml"),
        format!(
            "[agents.codex]\nfallback = [\"gemini\"]\n\n[agents.gemini]\nmodel = {:?}\n",
            Client::Gemini.model()
        ),
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    let plan = baton.plan(
        "named.yaml",
        r#"version: 1
goal: "Greet"
tasks:
  - id: greet
    agent: codex
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
"#,
    );
    let run = run_with_clients(&baton, &llm, [Client::Codex, Client::Gemini], &[], &plan);
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello from gemini\n")
    );
    let report = baton.report(&id);
    let greet = task(&report, "greet");
    let statuses: Vec<&str> = greet["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["interrupted", "succeeded"], "{report:#}");
    let why = greet["attempts"][0]["failure"].as_str().unwrap_or_default();
    assert!(
        why.contains("agent codex") && why.contains("rate limited"),
        "{why}"
    );
    assert_eq!(
        report["usage"]["by_agent"]["gemini"]["attempts"], 1,
        "{report:#}"
    );
}
