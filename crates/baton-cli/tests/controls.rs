#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A person's controls on a run, from another terminal: `baton pause|resume`, `skip`,
//! `retry`, `reassign`, `force-complete`, `reset`, and the `needs_human` end of the
//! escalation ladder. Each is refused (exit 2, nothing written) in the wrong state, and each
//! that is applied leaves a `control.applied` audit event with who and why.

mod support;

use support::{BAD_INPUT, Baton, FAILED, OK, POLL_LIMIT, poll, task};

/// The run paused for a person.
const PAUSED: i32 = 4;

fn the_run(baton: &Baton) -> String {
    poll("the run to be created", POLL_LIMIT, || {
        baton.run_ids().into_iter().next()
    })
}

fn wait_for_start(baton: &Baton, run: &str, task: &str) {
    poll("the task to start", POLL_LIMIT, || {
        baton
            .events(run)
            .iter()
            .any(|e| e["type"] == "attempt.process" && e["task"] == task)
            .then_some(())
    });
}

/// The `control.applied` events of a run.
fn audit(baton: &Baton, run: &str) -> Vec<serde_json::Value> {
    baton
        .events(run)
        .into_iter()
        .filter(|e| e["type"] == "control.applied")
        .collect()
}

fn status_of(baton: &Baton, run: &str, id: &str) -> String {
    task(&baton.report(run), id)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `baton ARGS` as the OS user `who`.
fn as_user(baton: &Baton, who: &str, args: &[&str]) -> support::Finished {
    baton.baton_with_env(baton.path(), args, &[("USER", std::path::Path::new(who))])
}

/// A plan whose first task waits for `go` in `gate_dir` before it writes, and a second task
/// that can only start after it (one lane).
fn waiting_plan(baton: &Baton, gate_dir: &std::path::Path) -> std::path::PathBuf {
    baton.plan(
        "wait.yaml",
        &format!(
            r#"version: 1
goal: "pause between two tasks"
lanes: 1
tasks:
  - id: first
    run: "while [ ! -f {dir}/go ]; do sleep 0.05; done; echo first > first.txt"
    claims: ["first.txt"]
  - id: second
    run: "echo second > second.txt"
    claims: ["second.txt"]
"#,
            dir = gate_dir.display()
        ),
    )
}

#[test]
fn a_paused_run_finishes_what_runs_starts_nothing_new_and_resume_continues_it() {
    let baton = Baton::new();
    let go = baton.writable_scratch("go");
    let plan = waiting_plan(&baton, &go);
    let mut run = baton.spawn_baton(&["run", "--plan", plan.to_str().unwrap()]);
    let id = the_run(&baton);
    wait_for_start(&baton, &id, "first");

    let paused = as_user(&baton, "ada", &["pause", &id, "--why", "lunch", "--json"]);
    paused.expect_code(OK);
    assert_eq!(paused.json()["command"], "pause");
    assert_eq!(paused.json()["live"], true);
    // A second pause while it is pausing is refused.
    as_user(&baton, "ada", &["pause", &id]).expect_code(BAD_INPUT);

    std::fs::write(go.join("go"), "").unwrap();
    assert_eq!(baton.wait_child(&mut run, "baton run"), PAUSED);
    assert_eq!(baton.status(&id)["status"], "paused");
    assert_eq!(status_of(&baton, &id, "first"), "merged");
    assert_eq!(status_of(&baton, &id, "second"), "pending");
    let audit = audit(&baton, &id);
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["data"]["command"], "pause");
    assert_eq!(audit[0]["data"]["who"], "ada");
    assert_eq!(audit[0]["data"]["why"], "lunch");
    assert!(audit[0]["time"].as_str().is_some_and(|t| !t.is_empty()));

    let resumed = as_user(&baton, "bob", &["resume", &id]);
    resumed.expect_code(OK);
    assert_eq!(status_of(&baton, &id, "second"), "merged");
    let audit = self::audit(&baton, &id);
    assert_eq!(audit.last().unwrap()["data"]["command"], "resume");
    assert_eq!(audit.last().unwrap()["data"]["who"], "bob");
    let head = baton.integration(&id);
    assert_eq!(
        baton.read_at(&head, "second.txt").as_deref(),
        Some("second\n")
    );
}

#[test]
fn resume_while_a_live_run_is_pausing_lets_it_go_on() {
    let baton = Baton::new();
    let go = baton.writable_scratch("go");
    let plan = waiting_plan(&baton, &go);
    let mut run = baton.spawn_baton(&["run", "--plan", plan.to_str().unwrap()]);
    let id = the_run(&baton);
    wait_for_start(&baton, &id, "first");
    baton.baton(&["pause", &id]).expect_code(OK);
    let resumed = baton.baton(&["resume", &id, "--json"]);
    resumed.expect_code(OK);
    assert_eq!(resumed.json()["command"], "resume");
    assert_eq!(resumed.json()["live"], true);
    std::fs::write(go.join("go"), "").unwrap();
    assert_eq!(baton.wait_child(&mut run, "baton run"), OK);
    assert_eq!(status_of(&baton, &id, "second"), "merged");
}

/// A plan where `broken` fails once (attempt 1) and passes on any later attempt, `after`
/// depends on it and `alone` does not.
const FAILING_ONCE: &str = r#"version: 1
goal: "one task fails"
lanes: 2
tasks:
  - id: broken
    run: "test $BATON_ATTEMPT -ge 2 && echo fixed > broken.txt"
    claims: ["broken.txt"]
  - id: after
    run: "echo after > after.txt"
    claims: ["after.txt"]
    deps: [broken]
  - id: alone
    run: "echo alone > alone.txt"
    claims: ["alone.txt"]
"#;

#[test]
fn skip_takes_the_dependents_along_and_a_run_of_merged_and_skipped_tasks_completes() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(FAILED);
    assert_eq!(status_of(&baton, &id, "after"), "blocked");

    let skipped = as_user(
        &baton,
        "ada",
        &["skip", &id, "broken", "--why", "not needed", "--json"],
    );
    skipped.expect_code(OK);
    let moved = skipped.json()["moved"].clone();
    assert_eq!(
        moved,
        serde_json::json!([
            ["broken", "failed", "skipped"],
            ["after", "blocked", "skipped"]
        ])
    );
    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(baton.status(&id)["status"], "completed");
    assert_eq!(status_of(&baton, &id, "broken"), "skipped");
    assert_eq!(status_of(&baton, &id, "after"), "skipped");
    let head = baton.integration(&id);
    assert_eq!(
        baton.read_at(&head, "alone.txt").as_deref(),
        Some("alone\n")
    );
    assert_eq!(baton.read_at(&head, "broken.txt"), None);
    let audit = audit(&baton, &id);
    assert_eq!(audit[0]["task"], "broken");
    assert_eq!(audit[0]["data"]["why"], "not needed");
}

#[test]
fn force_complete_lets_the_dependents_run_and_needs_a_reason() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(FAILED);
    // Without --why clap refuses it; with an empty one the engine does.
    baton
        .baton(&["force-complete", &id, "broken"])
        .expect_code(BAD_INPUT);
    let empty = baton.baton(&["force-complete", &id, "broken", "--why", " "]);
    empty.expect_code(BAD_INPUT);
    assert!(empty.stderr.contains("needs --why"), "{}", empty.stderr);
    assert!(audit(&baton, &id).is_empty());

    baton
        .baton(&[
            "force-complete",
            &id,
            "broken",
            "--why",
            "fixed by hand on main",
        ])
        .expect_code(OK);
    assert_eq!(status_of(&baton, &id, "after"), "pending");
    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(status_of(&baton, &id, "broken"), "force_completed");
    assert_eq!(status_of(&baton, &id, "after"), "merged");
    assert_eq!(baton.status(&id)["status"], "completed");
}

#[test]
fn retry_and_reset_bring_a_failed_task_and_its_blocked_dependents_back() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(FAILED);
    let retried = baton.baton(&["retry", &id, "broken"]);
    retried.expect_code(OK);
    assert!(
        retried.stdout.contains("baton resume"),
        "{}",
        retried.stdout
    );
    assert_eq!(status_of(&baton, &id, "broken"), "pending");
    assert_eq!(status_of(&baton, &id, "after"), "pending");
    // A second retry of a task that has not failed again is refused.
    let again = baton.baton(&["retry", &id, "broken"]);
    again.expect_code(BAD_INPUT);
    assert!(again.stderr.contains("it is pending"), "{}", again.stderr);
    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(status_of(&baton, &id, "after"), "merged");

    // Reset: a skipped task starts over with its dependents.
    let (run, other) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(FAILED);
    baton.baton(&["skip", &other, "broken"]).expect_code(OK);
    let reset = baton.baton(&["reset", &other, "broken", "--json"]);
    reset.expect_code(OK);
    assert_eq!(
        reset.json()["moved"],
        serde_json::json!([
            ["broken", "skipped", "pending"],
            ["after", "skipped", "pending"]
        ])
    );
    baton.baton(&["resume", &other]).expect_code(OK);
    assert_eq!(status_of(&baton, &other, "broken"), "merged");
}

#[test]
fn a_task_out_of_attempts_needs_a_person_while_the_rest_goes_on_then_retry_finishes_it() {
    let baton = Baton::new();
    baton.write_config("[escalation]\nperson = true\n");
    let (run, id) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(PAUSED);
    assert!(run.stderr.contains("need a person"), "{}", run.stderr);
    assert_eq!(baton.status(&id)["status"], "needs_human");
    assert_eq!(status_of(&baton, &id, "broken"), "needs_human");
    // What does not depend on it went on; what does waits (not blocked).
    assert_eq!(status_of(&baton, &id, "alone"), "merged");
    assert_eq!(status_of(&baton, &id, "after"), "pending");

    baton
        .baton(&["retry", &id, "broken", "--why", "the flake is fixed"])
        .expect_code(OK);
    baton.baton(&["resume", &id]).expect_code(OK);
    assert_eq!(status_of(&baton, &id, "broken"), "merged");
    assert_eq!(status_of(&baton, &id, "after"), "merged");
}

#[test]
fn controls_in_the_wrong_state_or_with_bad_input_are_refused_and_write_nothing() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(FAILING_ONCE, &[]);
    run.expect_code(FAILED);
    let before = baton.events(&id).len();
    let prompt_missing = baton.path().parent().unwrap().join("no-such-prompt.txt");
    let refused: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["skip", &id, "alone"],
            "cannot skip task alone: it is merged",
        ),
        (
            vec!["reset", &id, "alone"],
            "cannot reset task alone: it is merged",
        ),
        (vec!["retry", &id, "after"], "retry that dependency instead"),
        (vec!["skip", &id, "nosuch"], "has no task nosuch"),
        (
            vec!["reassign", &id, "broken", "--agent", "codex"],
            "exec task",
        ),
        (
            vec![
                "retry",
                &id,
                "broken",
                "--prompt-file",
                prompt_missing.to_str().unwrap(),
            ],
            "no-such-prompt.txt",
        ),
        (
            vec!["pause", &id],
            "only a run a baton process is driving can be paused",
        ),
        (vec!["skip", "no-such-run", "broken"], "no-such-run"),
    ];
    for (args, message) in refused {
        let out = baton.baton(&args);
        out.expect_code(BAD_INPUT);
        assert!(
            out.stderr.contains(message),
            "baton {args:?} should say {message:?}:\n{}",
            out.stderr
        );
    }
    assert_eq!(
        baton.events(&id).len(),
        before,
        "a refused control wrote events"
    );
    assert_eq!(status_of(&baton, &id, "broken"), "failed");

    // A completed run takes no control at all.
    let (done, finished) = baton.run_plan(
        "version: 1\ngoal: done\ntasks:\n  - id: one\n    run: \"echo 1 > one.txt\"\n",
        &[],
    );
    done.expect_code(OK);
    let late = baton.baton(&["reset", &finished, "one"]);
    late.expect_code(BAD_INPUT);
    assert!(late.stderr.contains("complete"), "{}", late.stderr);
}

#[test]
fn a_bad_escalation_setting_is_refused_with_its_file() {
    let baton = Baton::new();
    baton.write_config("[escalation]\nperson = \"yes\"\n");
    let plan = baton.plan(
        "one.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: one\n    run: \"true\"\n",
    );
    let out = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    out.expect_code(BAD_INPUT);
    assert!(out.stderr.contains("baton.toml:2:10"), "{}", out.stderr);
    assert!(out.stderr.contains("expected a boolean"), "{}", out.stderr);
    assert!(baton.run_ids().is_empty(), "a run was created");
}

#[test]
fn a_task_cannot_steer_its_own_run_to_skip_the_gates() {
    let baton = Baton::new();
    let bin = env!("CARGO_BIN_EXE_baton");
    // The rogue task knows where baton lives and tries to declare its failing sibling done,
    // to pause the run and to skip a task, from inside its lane.
    let plan = format!(
        r#"version: 1
goal: "a task that steers its own run"
lanes: 2
tasks:
  - id: victim
    run: "exit 1"
    claims: ["victim.txt"]
  - id: rogue
    run: "sleep 2; export BATON_HOME={home}; {bin} force-complete $BATON_RUN_ID victim --why pwned; {bin} pause $BATON_RUN_ID; {bin} skip $BATON_RUN_ID victim; echo rogue > rogue.txt"
    claims: ["rogue.txt"]
  - id: after
    run: "echo after > after.txt"
    claims: ["after.txt"]
    deps: [victim]
"#,
        home = baton.home.display(),
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(FAILED);
    assert!(audit(&baton, &id).is_empty(), "{:#?}", audit(&baton, &id));
    assert_eq!(status_of(&baton, &id, "victim"), "failed");
    assert_eq!(status_of(&baton, &id, "after"), "blocked");
    assert_eq!(status_of(&baton, &id, "rogue"), "merged");
    // Its commands reached the database and were refused: the lane may not write it.
    let log = baton.baton(&["logs", &id, "rogue"]).stdout;
    assert_eq!(log.matches("readonly database").count(), 3, "{log}");
}
