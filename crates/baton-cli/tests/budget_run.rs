#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Run budgets with the real Claude Code against the fake LLM server: an attempt whose
//! estimate does not fit does not start; a running agent whose reported usage crosses the
//! budget is stopped mid-attempt and the run pauses (exit 4); `baton resume --budget` finishes
//! it; the 80% warning; a token budget.

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script};
use serde_json::Value;
use support::agents::{baton_with_agent, client_bin, first_lane};
use support::{Baton, Finished, OK, task};

/// `baton run` and `baton resume` exit 4 when the run pauses for its budget.
const PAUSED: i32 = 4;

fn baton_with_claude(baton: &Baton, llm: &FakeLlm, args: &[&str]) -> Finished {
    let env = [
        ("ANTHROPIC_BASE_URL", llm.url()),
        ("ANTHROPIC_API_KEY", "sk-ant-fake-budget".to_string()),
        ("CLAUDE_CODE_MAX_RETRIES", "0".to_string()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_string()),
        ("DISABLE_AUTOUPDATER", "1".to_string()),
        ("DISABLE_TELEMETRY", "1".to_string()),
    ];
    baton_with_agent(baton, &client_bin("claude", "claude"), &env, args)
}

const PLAN: &str = r#"version: 1
goal: "Greet"
tasks:
  - id: greet
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
"#;

/// Turns in which Claude writes `greeting.txt` then says it is done, with `input` tokens
/// reported for the first.
fn writing_script(baton: &Baton, content: &str, input: u64) -> Script {
    let target = first_lane(baton).join("greeting.txt");
    Script::parse(&format!(
        "turns:\n  - text: \"Writing it.\"\n    tool_call:\n      name: Write\n      input: {{file_path: {:?}, content: {content:?}}}\n    usage: {{input: {input}, output: 20}}\n  - delay_ms: 3000\n    text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\n",
        target.to_str().unwrap()
    ))
    .unwrap()
}

fn events_of(baton: &Baton, run: &str, kind: &str) -> Vec<Value> {
    baton
        .events(run)
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

#[test]
fn an_attempt_whose_estimate_does_not_fit_does_not_start_and_resume_with_more_finishes() {
    let baton = Baton::new();
    let llm = FakeLlm::start(writing_script(&baton, "hello\n", 1000)).unwrap();
    let plan = baton.plan("greet.yaml", PLAN);
    // Claude Sonnet's estimate for a long session is $0.90 (200k in, 20k out): $0.50 is short.
    let run = baton_with_claude(
        &baton,
        &llm,
        &["run", "--plan", plan.to_str().unwrap(), "--budget", "0.50"],
    );
    run.expect_code(PAUSED);
    assert!(run.stderr.contains("--budget"), "{}", run.stderr);
    let id = baton.run_ids()[0].clone();
    assert!(llm.requests().is_empty(), "the agent never started");
    let exceeded = events_of(&baton, &id, "budget.exceeded");
    assert_eq!(exceeded.len(), 1, "{exceeded:#?}");
    let message = exceeded[0]["data"]["message"].as_str().unwrap();
    assert!(message.contains("the run's budget of $0.50"), "{message}");
    assert!(message.contains("claude-sonnet-4-5's prices"), "{message}");
    let status = baton.baton(&["status", &id, "--json"]).json();
    assert_eq!(status["status"], "budget_exceeded", "{status:#}");

    let resumed = baton_with_claude(&baton, &llm, &["resume", &id, "--budget", "2"]);
    resumed.expect_code(OK);
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello\n")
    );
    // $0.90 of $2 is under 80%: no warning.
    assert!(events_of(&baton, &id, "budget.warning").is_empty());
    let report = baton.report(&id);
    let attempts = task(&report, "greet")["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts[0]["status"], "interrupted", "{report:#}");
    assert_eq!(
        attempts.last().unwrap()["status"],
        "succeeded",
        "{report:#}"
    );
}

#[test]
fn an_agent_that_spends_past_the_budget_is_stopped_mid_attempt_and_resume_finishes() {
    let baton = Baton::new();
    // The first turn reports 2M input tokens: $6 at Sonnet's $3 per million, past $1.
    let llm = FakeLlm::start(writing_script(&baton, "partial\n", 2_000_000)).unwrap();
    let plan = baton.plan("greet.yaml", PLAN);
    let run = baton_with_claude(
        &baton,
        &llm,
        &["run", "--plan", plan.to_str().unwrap(), "--budget", "1"],
    );
    run.expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    // $0.90 reserved of $1: the 80% warning came first.
    let warnings = events_of(&baton, &id, "budget.warning");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0]["data"]["scope"], "run");
    let exceeded = events_of(&baton, &id, "budget.exceeded");
    assert_eq!(exceeded.len(), 1, "{exceeded:#?}");
    assert_eq!(exceeded[0]["data"]["unit"], "dollars");
    let report = baton.report(&id);
    let attempts = task(&report, "greet")["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 1, "{report:#}");
    assert_eq!(attempts[0]["status"], "interrupted", "{report:#}");
    let why = attempts[0]["failure"].as_str().unwrap_or_default();
    assert!(why.contains("stopped mid-attempt by the budget"), "{why}");
    // The money it spent is in the ledger (never lost because it was stopped).
    let spent = report["usage"]["total"]["cost"].as_u64().unwrap();
    assert!(spent >= 6_000_000, "{:#}", report["usage"]);
    assert!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .is_none(),
        "nothing was merged"
    );

    // A fresh model answer, and more money: the task finishes.
    let second = FakeLlm::start(writing_script(&baton, "hello\n", 1000)).unwrap();
    let resumed = baton_with_claude(&baton, &second, &["resume", &id, "--budget", "20"]);
    resumed.expect_code(OK);
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello\n")
    );
    let status = baton.baton(&["budget", "status", "--json"]).json();
    assert_eq!(status, serde_json::json!([]), "no project or global limit");
}

#[test]
fn a_token_budget_stops_an_agent_that_uses_more_tokens() {
    let baton = Baton::new();
    let llm = FakeLlm::start(writing_script(&baton, "partial\n", 400_000)).unwrap();
    let plan = baton.plan("greet.yaml", PLAN);
    let run = baton_with_claude(
        &baton,
        &llm,
        &[
            "run",
            "--plan",
            plan.to_str().unwrap(),
            "--budget-tokens",
            "300000",
        ],
    );
    run.expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    let exceeded = events_of(&baton, &id, "budget.exceeded");
    assert_eq!(exceeded.len(), 1, "{exceeded:#?}");
    assert_eq!(exceeded[0]["data"]["unit"], "tokens");
    assert_eq!(exceeded[0]["data"]["limit"], 300_000);
}

/// Eight tasks on eight lanes, each a stand-in agent that reports $0.80 (under its $0.90
/// Sonnet estimate) after a second, against a run budget of $3.00: reservations admit three at
/// once, the fourth cannot reserve and the run pauses; together they never pass the limit.
#[test]
fn eight_concurrent_attempts_never_together_pass_the_limit() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    let stand_in = "#!/bin/sh\nsleep 1\necho \"$BATON_TASK_ID\" > \"$BATON_TASK_ID.txt\"\necho '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":1,\"result\":\"ok\",\"total_cost_usd\":0.8,\"usage\":{\"input_tokens\":1000,\"output_tokens\":10}}'\n";
    support::write_program(&bin.join("claude"), stand_in);
    let tasks: String = (1..=8)
        .map(|i| {
            format!(
                "  - id: t{i}\n    agent: claude\n    model: claude-sonnet-4-5\n    prompt: \"Write t{i}.txt.\"\n    claims: [\"t{i}.txt\"]\n"
            )
        })
        .collect();
    let plan = baton.plan(
        "eight.yaml",
        &format!("version: 1\ngoal: g\nlanes: 8\ntasks:\n{tasks}"),
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap(), "--budget", "3"],
    );
    run.expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let spent = report["usage"]["total"]["cost"].as_u64().unwrap();
    let limit = 3_000_000;
    let overshoot = spent.saturating_sub(limit);
    eprintln!("spent {spent} micro-dollars of {limit}: overshoot {overshoot}");
    assert_eq!(spent, 3 * 800_000, "three attempts fit: {report:#}");
    assert_eq!(overshoot, 0);
    let merged = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "merged")
        .count();
    assert_eq!(merged, 3, "{report:#}");

    // More money: the rest run, still within the new limit.
    let resumed = baton_with_agent(&baton, &bin, &[], &["resume", &id, "--budget", "10"]);
    resumed.expect_code(OK);
    let report = baton.report(&id);
    assert_eq!(report["usage"]["total"]["cost"], 8 * 800_000, "{report:#}");
}
