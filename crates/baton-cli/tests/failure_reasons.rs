#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A failure is shown whole wherever a person reads it: the live output of `baton run`,
//! `baton status RUN`, and `baton report` in Markdown and JSON. The case that taught us: a
//! pre-commit hook that refuses baton's commit, whose own message came after the first line.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::{Baton, FAILED, OK, task};

const HOOK_SAYS: &str = "hook says: a.txt has trailing whitespace on line 1";

/// A repository whose pre-commit hook refuses every commit, explaining why on stderr.
fn refusing_hook() -> Baton {
    let baton = Baton::new();
    let hook = baton.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        format!("#!/bin/sh\necho 'checking whitespace' >&2\necho '{HOOK_SAYS}' >&2\nexit 1\n"),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    baton
}

const PLAN: &str = r#"version: 1
goal: "write a file the hook refuses"
tasks:
  - id: a
    run: "echo 'x ' > a.txt"
"#;

#[test]
fn a_pre_commit_hooks_own_message_reaches_every_place_a_person_reads() {
    let baton = refusing_hook();
    let (run, id) = baton.run_plan(PLAN, &[]);
    run.expect_code(FAILED);
    assert!(
        run.stderr.contains(HOOK_SAYS),
        "the live output of `baton run` does not show the hook's message:\n{}",
        run.stderr
    );

    let status = baton.baton(&["status", &id]);
    status.expect_code(OK);
    assert!(
        status.stdout.contains(HOOK_SAYS),
        "`baton status` does not show the hook's message:\n{}",
        status.stdout
    );
    let json = baton.status(&id);
    let last = task(&json, "a")["last_failure"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains(HOOK_SAYS), "status --json: {last}");

    let md = baton.baton(&["report", &id]);
    md.expect_code(OK);
    assert!(
        md.stdout.contains(HOOK_SAYS),
        "the Markdown report does not show the hook's message:\n{}",
        md.stdout
    );
    let report = baton.report(&id);
    let failure = task(&report, "a")["attempts"][0]["failure"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(failure.contains(HOOK_SAYS), "report json: {failure}");
}

#[test]
fn a_silence_warning_under_a_second_is_said_in_milliseconds() {
    let baton = Baton::new();
    let (run, _) = baton.run_plan(
        r#"version: 1
goal: "a task that goes quiet"
tasks:
  - id: quiet
    run: "sleep 5"
    silence: 1s
"#,
        &[],
    );
    run.expect_code(FAILED);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("has printed nothing for"))
        .unwrap_or_else(|| panic!("no silence warning:\n{}", run.stderr));
    let said = warning.rsplit("for ").next().unwrap();
    assert!(
        said.ends_with("ms") && said != "0ms",
        "the warning at half of 1s should say how many milliseconds: {warning}"
    );
}
