#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Reviews by a model (`[review]`), against the scripted fake LLM server speaking the
//! Anthropic Messages dialect over real HTTP: a rejected change goes back to its implementer
//! with the report as feedback without using a retry, an approved one merges, a task rejected
//! `max_iterations` times fails, and the whole run's change is reviewed before delivery.

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script};
use std::path::Path;
use support::{BAD_INPUT, Baton, FAILED, OK, task};

const KEY: &str = "sk-ant-fake-review-31";

fn reject(message: &str) -> String {
    format!(
        "  - text: '{{\"approved\": false, \"summary\": \"The greeting is wrong.\", \"issues\": [{{\"severity\": \"high\", \"file\": \"greeting.txt\", \"line\": 1, \"message\": \"{message}\", \"suggestion\": \"write hello\"}}]}}'\n    usage: {{input: 500, output: 40}}\n"
    )
}

fn approve() -> String {
    "  - text: '```json\n{\"approved\": true, \"summary\": \"Looks right.\", \"issues\": []}\n```'\n    usage: {input: 500, output: 20}\n".to_string()
}

/// A repository whose `baton.toml` (untracked) is `toml`.
fn repo_with_config(toml: &str) -> Baton {
    let baton = Baton::new();
    baton.write_config(toml);
    baton
}

/// A repository whose `baton.toml` asks `[review]` of the fake server, with `extra` lines.
fn reviewed_repo(extra: &str) -> Baton {
    repo_with_config(&format!(
        "[review]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nmax_iterations = 2\n{extra}"
    ))
}

fn run_against(baton: &Baton, llm: &FakeLlm, args: &[&str]) -> support::Finished {
    let url = llm.url();
    baton.baton_with_env(
        baton.path(),
        args,
        &[
            ("BATON_ANTHROPIC_BASE_URL", Path::new(&url)),
            ("ANTHROPIC_API_KEY", Path::new(KEY)),
        ],
    )
}

/// Attempt 1 writes the wrong greeting; later ones keep the feedback they got and write the
/// right one.
const GREET: &str = r#"version: 1
goal: "Greet"
tasks:
  - id: greet
    run: "if [ $BATON_ATTEMPT = 1 ]; then echo wrong > greeting.txt; else cp $BATON_FEEDBACK_FILE feedback.txt; echo hello > greeting.txt; fi"
    claims: ["greeting.txt", "feedback.txt"]
"#;

#[test]
fn a_rejected_change_goes_back_with_the_report_and_the_approved_one_merges() {
    let baton = reviewed_repo("");
    let script = format!(
        "turns:\n{}{}{}",
        reject("it says wrong"),
        approve(),
        approve()
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan("greet.yaml", GREET);
    let run = run_against(&baton, &llm, &["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let greet = task(&report, "greet");
    let attempts: Vec<&str> = greet["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    // The rejection used no retry (the task has none).
    assert_eq!(attempts, ["failed", "succeeded"], "{greet:#}");
    let head = baton.integration(&id);
    assert_eq!(
        baton.read_at(&head, "greeting.txt").as_deref(),
        Some("hello\n")
    );
    let feedback = baton.read_at(&head, "feedback.txt").unwrap();
    assert!(
        feedback.contains("functional review: The greeting is wrong."),
        "{feedback}"
    );
    assert!(
        feedback.contains("[high] greeting.txt:1: it says wrong"),
        "{feedback}"
    );

    // Three reviews: the two attempts and the whole run, each an event.
    let reviews: Vec<serde_json::Value> = baton
        .events(&id)
        .into_iter()
        .filter(|e| e["type"] == "review.finished")
        .collect();
    let verdicts: Vec<(serde_json::Value, bool)> = reviews
        .iter()
        .map(|e| (e["task"].clone(), e["data"]["approved"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("greet".into(), false),
            ("greet".into(), true),
            (serde_json::Value::Null, true)
        ],
        "{reviews:#?}"
    );
    // The reviewer saw the attempt's diff, and its tokens are in the ledger.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    assert_eq!(first.path, "/v1/messages");
    let asked = first.last_user_text.as_deref().unwrap();
    assert!(asked.contains("+wrong"), "{asked}");
    let usage = report["usage"]["by_task"].to_string();
    assert!(usage.contains("greet/review-functional"), "{usage}");
    assert!(
        report["reviews"].as_array().unwrap().len() == 3,
        "{report:#}"
    );

    // Every report is an artifact, beside the passing diff and the final report.
    let listed = baton.baton(&["artifacts", &id, "--json"]).json();
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["review", "review", "diff", "review", "report"],
        "{listed:#}"
    );
    let first = listed[0]["id"].as_str().unwrap();
    let shown = baton.baton(&["artifact", "show", first]);
    shown.expect_code(OK);
    assert!(
        shown.stdout.contains("# functional review of greet"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("- [high] greeting.txt:1: it says wrong"),
        "{}",
        shown.stdout
    );
}

#[test]
fn a_change_rejected_max_iterations_times_fails_its_task() {
    let baton = reviewed_repo("final = false\n");
    let script = format!("turns:\n{}{}", reject("still wrong"), reject("still wrong"));
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "always.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    run: \"echo wrong > greeting.txt\"\n    claims: [greeting.txt]\n",
    );
    let run = run_against(&baton, &llm, &["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(FAILED);
    let id = baton.run_ids()[0].clone();
    let greet = task(&baton.report(&id), "greet").clone();
    assert_eq!(greet["status"], "failed", "{greet:#}");
    assert_eq!(greet["attempts"].as_array().unwrap().len(), 2, "{greet:#}");
    let failure = greet["attempts"][1]["failure"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(failure.contains("rejected 2 times"), "{failure}");
}

#[test]
fn a_rejected_whole_change_is_not_delivered_into_the_branch() {
    let baton = reviewed_repo("");
    let script = format!(
        "turns:\n{}{}",
        approve(),
        reject("the run as a whole is wrong")
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "one.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    run: \"echo hello > greeting.txt\"\n    claims: [greeting.txt]\n",
    );
    let main_before = baton.rev("main").unwrap();
    let run = run_against(
        &baton,
        &llm,
        &["run", "--plan", plan.to_str().unwrap(), "--into", "main"],
    );
    run.expect_code(OK);
    assert!(run.stderr.contains("did not approve"), "{}", run.stderr);
    assert_eq!(baton.rev("main").unwrap(), main_before, "main moved");
}

#[test]
fn a_bad_review_setting_or_a_reviewer_without_a_key_is_refused() {
    let baton = reviewed_repo("kinds = [\"vibes\"]\n");
    let plan = baton.plan(
        "g.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: t\n    run: \"true\"\n",
    );
    let out = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    out.expect_code(BAD_INPUT);
    assert!(out.stderr.contains("baton.toml"), "{}", out.stderr);
    assert!(
        out.stderr.contains("review.kinds has \"vibes\""),
        "{}",
        out.stderr
    );
    assert!(baton.run_ids().is_empty());
}

#[test]
fn claude_code_in_plan_mode_can_be_the_reviewer() {
    use baton_testkit::agent_clients::Client;
    let baton = repo_with_config("[review]\ncli = \"claude\"\nmodel = \"claude-sonnet-4-5\"\n");
    let script = format!(
        "turns:\n{}{}{}",
        reject("it says wrong"),
        approve(),
        approve()
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan("greet.yaml", GREET);
    let run = support::agents::baton_with_client(
        &baton,
        Client::Claude,
        &llm,
        KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let head = baton.integration(&id);
    assert_eq!(
        baton.read_at(&head, "greeting.txt").as_deref(),
        Some("hello\n")
    );
    let feedback = baton.read_at(&head, "feedback.txt").unwrap();
    assert!(
        feedback.contains("[high] greeting.txt:1: it says wrong"),
        "{feedback}"
    );
    // Claude Code was asked, through its own client, with the attempt's diff.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    let asked = first.last_user_text.as_deref().unwrap_or_default();
    assert!(asked.contains("+wrong"), "{asked}");
    let report = baton.report(&id);
    let reviews = report["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 3, "{report:#}");
    assert_eq!(reviews[0]["provider"], "claude-code");
    assert_eq!(reviews[0]["approved"], false);
}

#[test]
fn codex_in_its_read_only_sandbox_can_be_the_reviewer() {
    use baton_testkit::agent_clients::Client;
    let baton = repo_with_config("[review]\ncli = \"codex\"\nmodel = \"gpt-5\"\n");
    let script = format!("turns:\n{}{}", approve(), approve());
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "one.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    run: \"echo hello > greeting.txt\"\n    claims: [greeting.txt]\n",
    );
    let run = support::agents::baton_with_client(
        &baton,
        Client::Codex,
        &llm,
        KEY,
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let reviews = baton.report(&id)["reviews"].clone();
    let by: Vec<(&str, bool)> = reviews
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap(),
                r["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(by, [("codex", true), ("codex", true)], "{reviews:#}");
    let first = llm
        .requests()
        .into_iter()
        .find(|r| r.turn == Some(1))
        .unwrap();
    assert_eq!(first.path, "/v1/responses");
    assert!(
        first
            .last_user_text
            .as_deref()
            .unwrap_or_default()
            .contains("+hello"),
        "{first:#?}"
    );
}
