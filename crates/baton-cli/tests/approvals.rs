#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Premium approvals: an AI attempt estimated past `[budget] approval_threshold_usd` waits as
//! `awaiting_approval` while the other tasks go on; the run pauses (exit 4) when nothing else
//! can; `baton approve` (optionally onto another agent) or `baton reject`, then `baton
//! resume`. `--auto-approve` skips it. Stand-in agents print Claude Code's stream.

mod support;

use std::path::{Path, PathBuf};
use support::agents::baton_with_agent;
use support::{BAD_INPUT, Baton, FAILED, Finished, OK, task};

const PAUSED: i32 = 4;

/// A stand-in agent named `name` that writes `$BATON_TASK_ID.txt` saying who wrote it.
fn stand_in(dir: &Path, name: &str) {
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 1.0.0; exit 0; fi\necho \"by {name}\" > \"$BATON_TASK_ID.txt\"\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":1,\"result\":\"ok\",\"total_cost_usd\":0.01,\"usage\":{{\"input_tokens\":10,\"output_tokens\":2}}}}'\n"
    );
    support::write_program(&dir.join(name), script);
}

struct Setup {
    baton: Baton,
    bin: PathBuf,
    plan: PathBuf,
}

impl Setup {
    /// A repository whose approval threshold is $0.50, and a plan with an exec task, a Claude
    /// task (Sonnet: estimated $0.90) and an exec task that depends on it.
    fn new() -> Setup {
        let baton = Baton::new();
        let bin = baton.scratch("bin");
        stand_in(&bin, "claude");
        stand_in(&bin, "qwen");
        std::fs::write(
            baton.path().join("baton.toml"),
            "[budget]\napproval_threshold_usd = 0.50\n",
        )
        .unwrap();
        std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
        let plan = baton.plan(
            "plan.yaml",
            r#"version: 1
goal: g
tasks:
  - id: fmt
    run: "echo formatted > fmt.txt"
    claims: ["fmt.txt"]
  - id: write
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write write.txt."
    claims: ["write.txt"]
  - id: after
    run: "echo after > after.txt"
    claims: ["after.txt"]
    deps: [write]
"#,
        );
        Setup { baton, bin, plan }
    }

    fn baton(&self, args: &[&str]) -> Finished {
        baton_with_agent(&self.baton, &self.bin, &[], args)
    }

    fn run(&self, extra: &[&str]) -> (Finished, String) {
        let mut args = vec!["run", "--plan", self.plan.to_str().unwrap()];
        args.extend(extra);
        let run = self.baton(&args);
        let id = self.baton.run_ids()[0].clone();
        (run, id)
    }

    fn status_of(&self, id: &str, name: &str) -> String {
        let report = self.baton.report(id);
        task(&report, name)["status"].as_str().unwrap().to_owned()
    }
}

#[test]
fn a_task_past_the_threshold_waits_while_the_others_go_on_then_is_approved() {
    let setup = Setup::new();
    let (run, id) = setup.run(&[]);
    run.expect_code(PAUSED);
    assert!(run.stderr.contains("baton approve"), "{}", run.stderr);
    assert_eq!(
        setup.status_of(&id, "fmt"),
        "merged",
        "the other tasks go on"
    );
    assert_eq!(setup.status_of(&id, "write"), "awaiting_approval");
    assert_eq!(setup.status_of(&id, "after"), "pending");
    let status = setup.baton.baton(&["status", &id, "--json"]).json();
    assert_eq!(status["status"], "awaiting_approval", "{status:#}");
    let requested: Vec<_> = setup
        .baton
        .events(&id)
        .into_iter()
        .filter(|e| e["type"] == "approval.requested")
        .collect();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0]["data"]["estimate"], 900_000);
    assert_eq!(requested[0]["data"]["threshold"], 500_000);
    assert!(
        !setup.baton.path().join("write.txt").exists()
            && setup
                .baton
                .read_at(&setup.baton.integration(&id), "write.txt")
                .is_none(),
        "the agent did not run"
    );

    // Approving a task that waits for nothing is refused; so is an agent that cannot take it.
    let wrong = setup.baton(&["approve", &id, "fmt"]);
    wrong.expect_code(BAD_INPUT);
    assert!(
        wrong.stderr.contains("waits for no approval"),
        "{}",
        wrong.stderr
    );
    let unknown = setup.baton(&["approve", &id, "nope"]);
    unknown.expect_code(BAD_INPUT);
    assert!(
        unknown.stderr.contains("no task nope"),
        "{}",
        unknown.stderr
    );
    let exec = setup.baton(&["approve", &id, "write", "--agent", "exec"]);
    exec.expect_code(BAD_INPUT);
    assert_eq!(
        setup.status_of(&id, "write"),
        "awaiting_approval",
        "nothing written"
    );

    // The approval survives until the run is resumed by another process.
    setup.baton(&["approve", &id, "write"]).expect_code(OK);
    setup.baton(&["resume", &id]).expect_code(OK);
    let integration = setup.baton.integration(&id);
    assert_eq!(
        setup.baton.read_at(&integration, "write.txt").as_deref(),
        Some("by claude\n")
    );
    assert_eq!(
        setup.baton.read_at(&integration, "after.txt").as_deref(),
        Some("after\n")
    );
}

#[test]
fn an_approval_can_move_the_task_to_a_cheaper_agent() {
    let setup = Setup::new();
    let (run, id) = setup.run(&[]);
    run.expect_code(PAUSED);
    setup
        .baton(&["approve", &id, "write", "--agent", "qwen"])
        .expect_code(OK);
    setup.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(
        setup
            .baton
            .read_at(&setup.baton.integration(&id), "write.txt")
            .as_deref(),
        Some("by qwen\n")
    );
    let report = setup.baton.report(&id);
    assert_eq!(
        report["usage"]["by_agent"]["qwen"]["attempts"], 1,
        "{report:#}"
    );
}

#[test]
fn a_rejected_task_fails_with_the_reason_and_blocks_its_dependents() {
    let setup = Setup::new();
    let (run, id) = setup.run(&[]);
    run.expect_code(PAUSED);
    setup
        .baton(&["reject", &id, "write", "--why", "too dear for this"])
        .expect_code(OK);
    setup.baton(&["resume", &id]).expect_code(FAILED);
    let report = setup.baton.report(&id);
    let write = task(&report, "write");
    assert_eq!(write["status"], "failed", "{report:#}");
    assert_eq!(setup.status_of(&id, "after"), "blocked");
    assert_eq!(setup.status_of(&id, "fmt"), "merged");
    let events = setup.baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "approval.decided"
            && e["data"]["approved"] == false
            && e["data"]["why"] == "too dear for this"),
        "{events:#?}"
    );
}

#[test]
fn auto_approve_runs_everything_without_waiting() {
    let setup = Setup::new();
    let (run, id) = setup.run(&["--auto-approve"]);
    run.expect_code(OK);
    assert_eq!(setup.status_of(&id, "write"), "merged");
    assert!(
        !setup
            .baton
            .events(&id)
            .iter()
            .any(|e| e["type"] == "approval.requested")
    );
}

#[test]
fn a_bad_threshold_is_refused_before_anything_runs() {
    let setup = Setup::new();
    std::fs::write(
        setup.baton.path().join("baton.toml"),
        "[budget]\napproval_threshold_usd = -1.0\n",
    )
    .unwrap();
    let run = setup.baton(&["run", "--plan", setup.plan.to_str().unwrap()]);
    run.expect_code(BAD_INPUT);
    assert!(
        run.stderr.contains("approval_threshold_usd"),
        "{}",
        run.stderr
    );
    assert!(!setup.baton.home.exists());
}

#[test]
fn the_plans_threshold_and_a_tasks_max_cost_decide_what_waits() {
    let setup = Setup::new();
    // No threshold in the configuration: the plan's is used. `cheap` says what it may cost.
    std::fs::remove_file(setup.baton.path().join("baton.toml")).unwrap();
    let plan = setup.baton.plan(
        "own.yaml",
        r#"version: 1
goal: g
approval_threshold_usd: 0.50
tasks:
  - id: cheap
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write cheap.txt."
    claims: ["cheap.txt"]
    max_cost: 0.20
  - id: dear
    agent: claude
    model: claude-sonnet-4-5
    prompt: "Write dear.txt."
    claims: ["dear.txt"]
"#,
    );
    let run = setup.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(PAUSED);
    let id = setup.baton.run_ids()[0].clone();
    assert_eq!(setup.status_of(&id, "cheap"), "merged");
    assert_eq!(setup.status_of(&id, "dear"), "awaiting_approval");
}

#[test]
fn with_the_real_claude_code_an_approved_task_runs_only_after_the_approval() {
    use baton_testkit::agent_clients::{Client, FileWrite};
    use baton_testkit::fake_llm::FakeLlm;
    use support::agents::baton_with_client;
    let setup = Setup::new();
    let script = Client::Claude
        .script(&[FileWrite {
            path: "write.txt",
            line: "by the real claude",
        }])
        .unwrap();
    let llm = FakeLlm::start(script).unwrap();
    let key = "sk-ant-fake-approval";
    let args = ["run", "--plan", setup.plan.to_str().unwrap()];
    baton_with_client(&setup.baton, Client::Claude, &llm, key, &args).expect_code(PAUSED);
    let id = setup.baton.run_ids()[0].clone();
    assert_eq!(setup.status_of(&id, "write"), "awaiting_approval");
    assert!(llm.requests().is_empty(), "Claude Code was not started");

    baton_with_client(
        &setup.baton,
        Client::Claude,
        &llm,
        key,
        &["approve", &id, "write"],
    )
    .expect_code(OK);
    baton_with_client(&setup.baton, Client::Claude, &llm, key, &["resume", &id]).expect_code(OK);
    assert_eq!(
        setup
            .baton
            .read_at(&setup.baton.integration(&id), "write.txt")
            .as_deref(),
        Some("by the real claude\n")
    );
    assert!(!llm.requests().is_empty());
}
