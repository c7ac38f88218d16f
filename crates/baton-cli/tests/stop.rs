#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton stop RUN TASK` stops one attempt from another terminal; the task follows its retry
//! rules and the rest of the run goes on.

mod support;

use support::{BAD_INPUT, Baton, FAILED, OK, POLL_LIMIT, poll, task};

/// Waits until `task`'s agent process is running (its `attempt.process` event is stored).
fn wait_for_agent(baton: &Baton, run: &str, task: &str) {
    poll("the agent to start", POLL_LIMIT, || {
        baton
            .events(run)
            .iter()
            .any(|e| e["type"] == "attempt.process" && e["task"] == task)
            .then_some(())
    });
}

fn the_run(baton: &Baton) -> String {
    poll("the run to be created", POLL_LIMIT, || {
        baton.run_ids().into_iter().next()
    })
}

fn attempt_statuses(report: &serde_json::Value, id: &str) -> Vec<String> {
    task(report, id)["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_stopped_attempt_is_recorded_stopped_and_its_task_retries_while_the_run_goes_on() {
    let baton = Baton::new();
    let plan = baton.plan(
        "stop.yaml",
        r#"version: 1
goal: "stop one attempt"
lanes: 2
tasks:
  - id: slow
    run: "if [ $BATON_ATTEMPT = 1 ]; then sleep 60; fi; echo done > slow.txt"
    claims: ["slow.txt"]
    retries: 1
  - id: quick
    run: "echo quick > quick.txt"
    claims: ["quick.txt"]
"#,
    );
    let mut run = baton.spawn_baton(&["run", "--plan", plan.to_str().unwrap()]);
    let id = the_run(&baton);
    wait_for_agent(&baton, &id, "slow");

    let stopped = baton.baton(&["stop", &id, "slow", "--json"]);
    stopped.expect_code(OK);
    let outcome = stopped.json();
    assert_eq!(outcome["attempt"], 1, "{outcome:#}");
    assert_eq!(outcome["attempt_status"], "stopped", "{outcome:#}");
    assert_eq!(outcome["task_status"], "pending", "{outcome:#}");

    assert_eq!(baton.wait_child(&mut run, "baton run"), OK);
    let report = baton.report(&id);
    assert_eq!(attempt_statuses(&report, "slow"), ["stopped", "succeeded"]);
    assert_eq!(task(&report, "quick")["status"], "merged");
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "slow.txt")
            .as_deref(),
        Some("done\n")
    );
}

#[test]
fn stopping_the_last_allowed_attempt_fails_the_task_and_kills_its_processes() {
    let baton = Baton::new();
    let plan = baton.plan(
        "stop-last.yaml",
        r#"version: 1
goal: "stop the only attempt"
tasks:
  - id: only
    run: "sleep 60"
"#,
    );
    let mut run = baton.spawn_baton(&["run", "--plan", plan.to_str().unwrap()]);
    let id = the_run(&baton);
    wait_for_agent(&baton, &id, "only");
    let stopped = baton.baton(&["stop", &id, "only"]);
    stopped.expect_code(OK);
    assert!(stopped.stderr.contains("stopped"), "{}", stopped.stderr);
    assert_eq!(baton.wait_child(&mut run, "baton run"), FAILED);
    assert!(baton_exec::find_processes_with_env("BATON_RUN_ID", &id).is_empty());
    let report = baton.report(&id);
    assert_eq!(attempt_statuses(&report, "only"), ["stopped"]);
    assert_eq!(task(&report, "only")["status"], "failed");
}

#[test]
fn stopping_an_unknown_task_or_a_run_that_is_not_running_is_refused() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "done already"
tasks:
  - id: one
    run: "echo one > one.txt"
"#,
        &[],
    );
    run.expect_code(OK);
    let unknown = baton.baton(&["stop", &id, "nosuch"]);
    unknown.expect_code(BAD_INPUT);
    assert!(
        unknown.stderr.contains("no task nosuch"),
        "{}",
        unknown.stderr
    );
    let idle = baton.baton(&["stop", &id, "one"]);
    idle.expect_code(BAD_INPUT);
    assert!(idle.stderr.contains("no baton process"), "{}", idle.stderr);
    baton
        .baton(&["stop", "no-such-run", "one"])
        .expect_code(BAD_INPUT);
}
