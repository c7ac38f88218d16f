#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A task's checklist comes from its agent's own plan: the real Claude Code CLI, against the
//! scripted fake LLM server, calls its `TodoWrite` tool, and `baton status RUN` shows the steps
//! and how many are done.
//!
//! (Codex reports its plan as a `todo_list` item, decoded the same way, but Codex 0.169 offers
//! no `update_plan` tool for a model it has no metadata for, so it cannot be scripted here.)

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::{FakeLlm, Script};
use support::agents::{baton_with_client, first_lane};
use support::{Baton, OK};

#[test]
fn claude_todo_steps_become_the_tasks_checklist_in_status() {
    let baton = Baton::new();
    let target = first_lane(&baton).join("greeting.txt");
    let write = Client::Claude.write_turns(&FileWrite {
        path: target.to_str().unwrap(),
        line: "hello",
    });
    let script = format!(
        r#"turns:
  - text: "Planning."
    tool_call:
      name: TodoWrite
      input: {{todos: [{{content: "Write greeting.txt", status: completed, activeForm: "Writing"}}, {{content: "Check the greeting", status: in_progress, activeForm: "Checking"}}, {{content: "Say done", status: pending, activeForm: "Saying"}}]}}
    usage: {{input: 900, output: 20}}
{write}"#
    );
    let llm = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "claude.yaml",
        r#"version: 1
goal: "Greet"
tasks:
  - id: greet
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
"#,
    );
    let run = baton_with_client(
        &baton,
        Client::Claude,
        &llm,
        "sk-ant-fake-checklist-77",
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let status = baton.status(&id);
    let greet = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "greet")
        .unwrap()
        .clone();
    let checklist = &greet["checklist"];
    assert_eq!(checklist["total"], 3, "{greet:#}");
    assert_eq!(checklist["done"], 1, "{greet:#}");
    assert_eq!(
        checklist["steps"][0]["text"], "Write greeting.txt",
        "{greet:#}"
    );
    assert_eq!(checklist["steps"][1]["done"], false, "{greet:#}");
    let text = baton.baton(&["status", &id]);
    text.expect_code(OK);
    assert!(text.stdout.contains("1/3"), "{}", text.stdout);
}

#[test]
fn the_plans_steps_are_the_checklist_until_an_agent_reports_one_and_empty_steps_are_refused() {
    let baton = Baton::new();
    let plan = r#"version: 1
goal: "Write notes"
tasks:
  - id: notes
    run: "echo notes > notes.txt"
    claims: ["notes.txt"]
    steps: ["Write the notes", "Check them"]
  - id: plain
    run: "echo plain > plain.txt"
    claims: ["plain.txt"]
"#;
    let (done, run) = baton.run_plan(plan, &[]);
    done.expect_code(OK);
    let status = baton.status(&run);
    let task = |id: &str| {
        status["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    let notes = task("notes");
    assert_eq!(notes["checklist"]["source"], "plan", "{status:#}");
    assert_eq!(notes["checklist"]["done"], 2);
    assert_eq!(notes["checklist"]["total"], 2);
    assert_eq!(notes["checklist"]["steps"][0]["text"], "Write the notes");
    assert!(task("plain")["checklist"].is_null(), "{status:#}");
    let table = baton.baton(&["status", &run]);
    table.expect_code(OK);
    assert!(table.stdout.contains("2/2"), "{}", table.stdout);

    let bad = baton.plan("bad.yaml", &plan.replace("\"Check them\"", "\"  \""));
    let refused = baton.baton(&["plan", "validate", bad.to_str().unwrap()]);
    refused.expect_code(support::BAD_INPUT);
    assert!(
        refused
            .stderr
            .contains("bad.yaml:7:32: task \"notes\": step 2 is empty"),
        "{}",
        refused.stderr
    );
}
