#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Approvals by risk, through real runs of `baton` with exec tasks: a high-risk task (it
//! claims `migrations/**`, a built-in rule) waits before it starts while independent tasks
//! merge; a medium-risk task runs and passes its gates, then waits, and its change is not on
//! the integration branch until approved; `[risk] approval_timeout` with `on_timeout =
//! "reject"`; `baton approvals`; who, what, when and why in the events; bad input.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{BAD_INPUT, Baton, FAILED, OK, POLL_LIMIT, task};

const PAUSED: i32 = 4;

/// An independent low task, a high one (a migration) and a task that depends on it.
const HIGH_PLAN: &str = r#"version: 1
goal: g
tasks:
  - id: notes
    run: "echo notes > notes.txt"
    claims: ["notes.txt"]
  - id: migrate
    run: "mkdir -p migrations && echo 'create table t;' > migrations/0001.sql"
    claims: ["migrations/**"]
  - id: after
    run: "echo after > after.txt"
    claims: ["after.txt"]
    deps: [migrate]
"#;

/// A medium task (stated in the plan) with a gate, and an independent low task.
const MEDIUM_PLAN: &str = r#"version: 1
goal: g
gates:
  check: "test -f docs.txt || test -f other.txt"
tasks:
  - id: docs
    run: "echo docs > docs.txt"
    claims: ["docs.txt"]
    risk: medium
    gates: [check]
  - id: other
    run: "echo other > other.txt"
    claims: ["other.txt"]
"#;

fn status_of(baton: &Baton, run: &str, id: &str) -> String {
    task(&baton.report(run), id)["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn events_of(baton: &Baton, run: &str, kind: &str) -> Vec<Value> {
    baton
        .events(run)
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// `baton ARGS` as the OS user `user`.
fn as_user(baton: &Baton, user: &str, args: &[&str]) -> support::Finished {
    baton.baton_with_env(baton.path(), args, &[("USER", Path::new(user))])
}

#[test]
fn a_high_risk_task_waits_before_it_starts_while_a_low_one_merges_then_runs_once_approved() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(HIGH_PLAN, &[]);
    run.expect_code(PAUSED);
    assert_eq!(status_of(&baton, &id, "notes"), "merged");
    assert_eq!(status_of(&baton, &id, "migrate"), "awaiting_approval");
    assert_eq!(status_of(&baton, &id, "after"), "pending");
    let integration = baton.integration(&id);
    assert!(baton.read_at(&integration, "migrations/0001.sql").is_none());
    assert!(
        task(&baton.report(&id), "migrate")["attempts"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "its command did not run"
    );
    let requested = events_of(&baton, &id, "approval.requested");
    assert_eq!(requested.len(), 1, "{requested:#?}");
    assert_eq!(requested[0]["data"]["risk"], "high");
    assert_eq!(requested[0]["data"]["point"], "start");
    assert!(
        requested[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("risk high: matches migrations (**/migrations/**)"),
        "{requested:#?}"
    );

    // `baton approvals` lists it across runs, and for the run.
    let listed = baton.baton(&["approvals", "--json"]).expect_code(OK).json();
    let waits = listed.as_array().unwrap();
    assert_eq!(waits.len(), 1, "{listed:#}");
    assert_eq!(waits[0]["run"], id.as_str());
    assert_eq!(waits[0]["task"], "migrate");
    assert_eq!(waits[0]["point"], "start");
    assert_eq!(waits[0]["risk"], "high");
    assert_eq!(
        waits[0]["reason"],
        "risk high: matches migrations (**/migrations/**)"
    );
    assert_eq!(waits[0]["on_approve"], "its agent starts");
    assert!(waits[0]["since"].as_str().unwrap().ends_with('Z'));
    let human = baton.baton(&["approvals", &id]);
    human.expect_code(OK);
    assert!(
        human.stdout.contains("migrate waits before start since")
            && human
                .stdout
                .contains("why:     risk high: matches migrations"),
        "{}",
        human.stdout
    );

    // TASK may be left out: exactly one task waits. Who, what, when and why are kept.
    as_user(
        &baton,
        "alice",
        &["approve", &id, "--why", "reviewed the schema change"],
    )
    .expect_code(OK);
    let decided = events_of(&baton, &id, "approval.decided");
    assert_eq!(decided.len(), 1);
    let data = &decided[0]["data"];
    assert_eq!(data["approved"], true);
    assert_eq!(data["by"], "alice");
    assert_eq!(data["why"], "reviewed the schema change");
    assert_eq!(data["point"], "start");
    assert_eq!(
        data["waited_for"],
        "risk high: matches migrations (**/migrations/**)"
    );
    assert!(decided[0]["time"].as_str().unwrap().ends_with('Z'));
    let nothing = baton.baton(&["approvals", "--json"]).expect_code(OK).json();
    assert_eq!(nothing, serde_json::json!([]));

    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(
        baton
            .read_at(&integration, "migrations/0001.sql")
            .as_deref(),
        Some("create table t;\n")
    );
    assert_eq!(
        baton.read_at(&integration, "after.txt").as_deref(),
        Some("after\n")
    );
}

#[test]
fn a_rejected_high_risk_task_fails_and_blocks_its_dependents() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(HIGH_PLAN, &[]);
    run.expect_code(PAUSED);
    as_user(
        &baton,
        "bob",
        &[
            // TASK left out: exactly one task waits.
            "reject",
            &id,
            "--why",
            "no schema changes this week",
        ],
    )
    .expect_code(OK);
    baton.baton(&["resume", &id]).expect_code(FAILED);
    assert_eq!(status_of(&baton, &id, "migrate"), "failed");
    assert_eq!(status_of(&baton, &id, "after"), "blocked");
    assert_eq!(status_of(&baton, &id, "notes"), "merged");
    let decided = events_of(&baton, &id, "approval.decided");
    assert_eq!(decided[0]["data"]["approved"], false);
    assert_eq!(decided[0]["data"]["by"], "bob");
    assert_eq!(decided[0]["data"]["why"], "no schema changes this week");
    assert!(
        baton
            .read_at(&baton.integration(&id), "migrations/0001.sql")
            .is_none()
    );
}

#[test]
fn a_medium_risk_task_passes_its_gates_then_waits_and_is_not_delivered_until_approved() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(MEDIUM_PLAN, &[]);
    run.expect_code(PAUSED);
    let report = baton.report(&id);
    let docs = task(&report, "docs");
    assert_eq!(docs["status"], "awaiting_approval", "{report:#}");
    assert_eq!(docs["attempts"][0]["status"], "succeeded", "{report:#}");
    assert_eq!(status_of(&baton, &id, "other"), "merged");
    let integration = baton.integration(&id);
    assert!(
        baton.read_at(&integration, "docs.txt").is_none(),
        "the change waits outside the integration branch"
    );
    let gates: Vec<Value> = events_of(&baton, &id, "gate.finished");
    assert!(
        gates
            .iter()
            .any(|g| g["task"] == "docs" && g["data"]["passed"] == true),
        "{gates:#?}"
    );
    let listed = baton
        .baton(&["approvals", &id, "--json"])
        .expect_code(OK)
        .json();
    assert_eq!(listed[0]["point"], "delivery", "{listed:#}");
    assert_eq!(listed[0]["risk"], "medium");
    assert_eq!(
        listed[0]["reason"],
        "risk medium: the plan says risk: medium"
    );
    assert_eq!(
        listed[0]["on_approve"],
        "its gate-passed change enters the merge queue"
    );

    // `--agent` is for a task waiting to start; nothing is written.
    let moved = baton.baton(&["approve", &id, "docs", "--agent", "claude"]);
    moved.expect_code(BAD_INPUT);
    assert!(
        moved.stderr.contains("--agent applies only"),
        "{}",
        moved.stderr
    );
    assert_eq!(status_of(&baton, &id, "docs"), "awaiting_approval");

    as_user(&baton, "carol", &["approve", &id, "docs"]).expect_code(OK);
    assert_eq!(status_of(&baton, &id, "docs"), "queued");
    let decided = events_of(&baton, &id, "approval.decided");
    assert_eq!(decided[0]["data"]["point"], "delivery");
    assert_eq!(decided[0]["data"]["by"], "carol");
    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(
        baton.read_at(&integration, "docs.txt").as_deref(),
        Some("docs\n")
    );
    // Delivered as it was gated: the agent did not run again.
    let report = baton.report(&id);
    assert_eq!(
        task(&report, "docs")["attempts"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn auto_approve_lets_high_and_medium_risk_through_without_waiting() {
    for plan in [HIGH_PLAN, MEDIUM_PLAN] {
        let baton = Baton::new();
        let (run, id) = baton.run_plan(plan, &["--auto-approve"]);
        run.expect_code(OK);
        assert!(events_of(&baton, &id, "approval.requested").is_empty());
        let report = baton.report(&id);
        assert!(
            report["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["status"] == "merged"),
            "{report:#}"
        );
    }
}

#[test]
fn an_exec_task_without_claims_that_writes_a_migration_waits_before_delivery() {
    let baton = Baton::new();
    let plan = r#"version: 1
goal: g
tasks:
  - id: sneaky
    run: "mkdir -p db/migrations && echo x > db/migrations/2.sql"
"#;
    let (run, id) = baton.run_plan(plan, &[]);
    run.expect_code(PAUSED);
    let listed = baton
        .baton(&["approvals", &id, "--json"])
        .expect_code(OK)
        .json();
    assert_eq!(listed[0]["point"], "delivery", "{listed:#}");
    assert_eq!(
        listed[0]["reason"],
        "risk high: matches migrations (**/migrations/** on db/migrations/2.sql)"
    );
    assert!(
        baton
            .read_at(&baton.integration(&id), "db/migrations/2.sql")
            .is_none()
    );
}

#[test]
fn a_live_engine_rejects_a_task_whose_approval_times_out() {
    let baton = Baton::new();
    baton.write_config("[risk]\napproval_timeout = \"1s\"\non_timeout = \"reject\"\n");
    let started = Instant::now();
    let (run, id) = baton.run_plan(HIGH_PLAN, &[]);
    run.expect_code(FAILED);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(status_of(&baton, &id, "migrate"), "failed");
    assert_eq!(status_of(&baton, &id, "after"), "blocked");
    assert_eq!(status_of(&baton, &id, "notes"), "merged");
    let decided = events_of(&baton, &id, "approval.decided");
    assert_eq!(decided.len(), 1, "{decided:#?}");
    assert_eq!(decided[0]["data"]["approved"], false);
    assert_eq!(decided[0]["data"]["by"], "baton");
    assert_eq!(decided[0]["data"]["why"], "approval timed out after 1s");
}

#[test]
fn with_the_wait_policy_an_overdue_task_keeps_waiting_and_a_warning_says_so() {
    let baton = Baton::new();
    baton.write_config("[risk]\napproval_timeout = \"1s\"\non_timeout = \"wait\"\n");
    let (run, id) = baton.run_plan(HIGH_PLAN, &[]);
    run.expect_code(PAUSED);
    let listed = baton.baton(&["approvals", "--json"]).expect_code(OK).json();
    let due = listed[0]["times_out_at"].as_str().unwrap().to_owned();
    // The timeout is the thing under test: let it pass.
    let start = Instant::now();
    while baton.baton(&["approvals", "--json"]).expect_code(OK).json()[0]["times_out_at"]
        .as_str()
        .is_some_and(|at| at >= now_text().as_str())
    {
        assert!(start.elapsed() < POLL_LIMIT, "{due} never passed");
        std::thread::sleep(Duration::from_millis(100));
    }
    baton.baton(&["resume", &id]).expect_code(PAUSED);
    assert_eq!(status_of(&baton, &id, "migrate"), "awaiting_approval");
    let warnings = events_of(&baton, &id, "warning");
    assert!(
        warnings.iter().any(|w| w["data"]["message"]
            .as_str()
            .unwrap()
            .contains("task migrate has waited for approval for more than 1s")),
        "{warnings:#?}"
    );
    assert!(events_of(&baton, &id, "approval.decided").is_empty());
}

/// Now, as baton writes times (RFC 3339, UTC, milliseconds).
fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn a_live_engine_delivers_a_medium_change_as_soon_as_it_is_approved() {
    let baton = Baton::new();
    baton.write_config("[risk]\napproval_timeout = \"60s\"\non_timeout = \"reject\"\n");
    let plan = baton.plan("medium.yaml", MEDIUM_PLAN);
    let mut child = baton.spawn_baton(&["run", "--plan", plan.to_str().unwrap()]);
    let start = Instant::now();
    let id = loop {
        let listed = baton.baton(&["approvals", "--json"]).expect_code(OK).json();
        if let Some(wait) = listed.as_array().unwrap().first() {
            assert_eq!(wait["point"], "delivery");
            assert!(wait["times_out_at"].is_string(), "{listed:#}");
            break wait["run"].as_str().unwrap().to_owned();
        }
        assert!(start.elapsed() < POLL_LIMIT, "nothing came to wait");
        std::thread::sleep(Duration::from_millis(50));
    };
    baton.baton(&["approve", &id]).expect_code(OK);
    assert_eq!(baton.wait_child(&mut child, "baton run"), OK);
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "docs.txt")
            .as_deref(),
        Some("docs\n")
    );
}

#[test]
fn approve_without_a_task_when_two_wait_names_them_and_writes_nothing() {
    let baton = Baton::new();
    let plan = r#"version: 1
goal: g
tasks:
  - id: schema
    run: "mkdir -p migrations && echo a > migrations/a.sql"
    claims: ["migrations/a.sql"]
  - id: deps
    run: "echo '[package]' > Cargo.toml"
    claims: ["Cargo.toml"]
"#;
    let (run, id) = baton.run_plan(plan, &[]);
    run.expect_code(PAUSED);
    let refused = baton.baton(&["approve", &id]);
    refused.expect_code(BAD_INPUT);
    assert!(
        refused.stderr.contains("2 tasks of run") && refused.stderr.contains("(schema, deps)"),
        "{}",
        refused.stderr
    );
    assert_eq!(status_of(&baton, &id, "schema"), "awaiting_approval");
    assert_eq!(status_of(&baton, &id, "deps"), "awaiting_approval");
    assert!(events_of(&baton, &id, "approval.decided").is_empty());
    let listed = baton
        .baton(&["approvals", &id, "--json"])
        .expect_code(OK)
        .json();
    let reasons: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"risk high: matches dependencies (**/Cargo.toml)"),
        "{reasons:?}"
    );
    // An unknown run is refused too, naming it.
    let unknown = baton.baton(&["reject", "nope-run", "--why", "x"]);
    unknown.expect_code(BAD_INPUT);
    assert!(unknown.stderr.contains("nope-run"), "{}", unknown.stderr);
}

#[test]
fn bad_risk_settings_and_plan_values_are_refused_with_where_they_are() {
    let baton = Baton::new();
    baton.write_config(
        "[[risk.rules]]\nname = \"docs\"\nlevel = \"severe\"\npaths = [\"docs/**\"]\n",
    );
    let plan = baton.plan("p.yaml", HIGH_PLAN);
    let bad_level = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    bad_level.expect_code(BAD_INPUT);
    assert!(
        bad_level.stderr.contains(
            "baton.toml:3:9: risk.rules[0].level = \"severe\" is not a risk level; write \
             \"low\", \"medium\" or \"high\""
        ),
        "{}",
        bad_level.stderr
    );

    baton
        .write_config("[[risk.rules]]\nname = \"docs\"\nlevel = \"low\"\npaths = [\"docs/[ab\"]\n");
    let bad_glob = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    bad_glob.expect_code(BAD_INPUT);
    assert!(
        bad_glob.stderr.contains(
            "baton.toml:4:10: risk.rules[0].paths: risk rule \"docs\": path \"docs/[ab\""
        ),
        "{}",
        bad_glob.stderr
    );

    std::fs::remove_file(baton.path().join("baton.toml")).unwrap();
    let bad_plan = baton.plan(
        "bad.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    run: \"true\"\n    risk: extreme\n",
    );
    let refused = baton.baton(&["run", "--plan", bad_plan.to_str().unwrap()]);
    refused.expect_code(BAD_INPUT);
    assert!(
        refused
            .stderr
            .contains(":6:11: task \"a\" has risk \"extreme\"; use low, medium or high"),
        "{}",
        refused.stderr
    );
    let listed = baton.baton(&["status", "--json"]).expect_code(OK).json();
    assert_eq!(listed, serde_json::json!([]), "no run was created");
}
