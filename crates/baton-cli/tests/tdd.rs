#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Test-first work with a red gate (`expect: fail`): the tester's new tests must fail on the
//! code as it is, so a test that already passes is caught; the implementer then makes them
//! pass, and its claims keep it from touching the tests.

mod support;

use support::{BAD_INPUT, Baton, OK, task};

#[test]
fn the_red_gate_catches_tests_that_already_pass_and_green_makes_the_real_ones_pass() {
    let baton = Baton::new();
    baton.commit_file("greeting.txt", "hello\n", "a greeting");
    // red: attempt 1 writes a test the code passes already (caught); attempt 2 one it fails.
    // green: attempt 1 tries to weaken the test (refused by its claims); attempt 2 does the work.
    let plan = baton.plan(
        "tdd.yaml",
        r#"version: 1
goal: "Say goodbye, test first"
gates:
  red: {run: "sh tests.sh", expect: fail}
  test: "sh tests.sh"
merge_gates: []
tasks:
  - id: red
    run: "if [ $BATON_ATTEMPT = 1 ]; then echo 'grep -q hello greeting.txt' > tests.sh; else echo 'grep -q goodbye greeting.txt' > tests.sh; fi"
    claims: ["tests.sh"]
    gates: [red]
    retries: 1
  - id: green
    run: "if [ $BATON_ATTEMPT = 1 ]; then echo true > tests.sh; else echo goodbye >> greeting.txt; fi"
    claims: ["greeting.txt"]
    deps: [red]
    gates: [test]
    retries: 1
"#,
    );
    let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let red = task(&report, "red");
    let failure = red["attempts"][0]["failure"].as_str().unwrap();
    assert!(
        failure.contains("gate `red` must fail (`expect: fail`) but its command passed"),
        "{failure}"
    );
    assert_eq!(red["attempts"][1]["status"], "succeeded");
    // The red gate's second run failed as it must, and is recorded as passed.
    let red_gates: Vec<bool> = red["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(red_gates, [false, true], "{red:#}");
    let green = task(&report, "green");
    assert!(
        green["attempts"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("tests.sh"),
        "{green:#}"
    );
    let head = baton.integration(&id);
    assert_eq!(
        baton.read_at(&head, "tests.sh").as_deref(),
        Some("grep -q goodbye greeting.txt\n")
    );
    assert_eq!(
        baton.read_at(&head, "greeting.txt").as_deref(),
        Some("hello\ngoodbye\n")
    );
}

#[test]
fn a_gate_with_a_bad_expect_is_refused_where_it_is_written() {
    let baton = Baton::new();
    let plan = baton.plan(
        "bad.yaml",
        "version: 1\ngoal: g\ngates:\n  red: {run: \"true\", expect: maybe}\ntasks:\n  - id: t\n    run: \"true\"\n",
    );
    let out = baton.baton(&["plan", "validate", plan.to_str().unwrap()]);
    out.expect_code(BAD_INPUT);
    assert!(out.stderr.contains("bad.yaml:"), "{}", out.stderr);
    assert!(out.stderr.contains("gate \"red\""), "{}", out.stderr);
}
