#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton budget set|status|history`: limits per project and globally, their status, and bad
//! input refused with exit 2 and nothing written.

mod support;

use support::{BAD_INPUT, Baton, OK};

#[test]
fn limits_are_set_per_scope_and_shown_with_what_is_left() {
    let baton = Baton::new();
    baton
        .baton(&[
            "budget",
            "set",
            "--scope",
            "project",
            "--daily",
            "20",
            "--monthly-tokens",
            "5000000",
        ])
        .expect_code(OK);
    baton
        .baton(&["budget", "set", "--scope", "global", "--monthly", "$300"])
        .expect_code(OK);
    // A later set keeps the limits it does not name.
    baton
        .baton(&["budget", "set", "--scope", "project", "--daily", "12.50"])
        .expect_code(OK);
    let status = baton.baton(&["budget", "status", "--json"]);
    status.expect_code(OK);
    let uses = status.json();
    let uses = uses.as_array().unwrap();
    assert_eq!(uses.len(), 3, "{uses:#?}");
    assert_eq!(uses[0]["limit"]["scope"], "project");
    assert_eq!(uses[0]["limit"]["period"], "day");
    assert_eq!(uses[0]["limit"]["usd"], 12_500_000);
    assert_eq!(uses[1]["limit"]["period"], "month");
    assert_eq!(uses[1]["limit"]["tokens"], 5_000_000);
    assert_eq!(uses[2]["limit"]["scope"], "global");
    assert_eq!(uses[2]["limit"]["usd"], 300_000_000);
    let table = baton.baton(&["budget", "status"]);
    table.expect_code(OK);
    assert!(table.stdout.contains("$12.50"), "{}", table.stdout);
    assert!(table.stdout.contains("$300.00"), "{}", table.stdout);

    baton
        .baton(&["budget", "set", "--scope", "project", "--clear"])
        .expect_code(OK);
    let uses = baton.baton(&["budget", "status", "--json"]).json();
    assert_eq!(uses.as_array().unwrap().len(), 1, "{uses:#?}");
    let history = baton.baton(&["budget", "history", "--days", "7", "--json"]);
    history.expect_code(OK);
    assert_eq!(history.json(), serde_json::json!([]));
}

#[test]
fn bad_budgets_are_refused_with_exit_2_and_nothing_written() {
    let baton = Baton::new();
    for (args, said) in [
        (
            vec!["--scope", "project", "--daily", "-3"],
            "0 dollars or more",
        ),
        (
            vec!["--scope", "project", "--daily", "lots"],
            "is not an amount of dollars",
        ),
        (
            vec!["--scope", "team", "--daily", "3"],
            "unknown scope \"team\"",
        ),
        (vec!["--scope", "run", "--daily", "3"], "baton run --budget"),
        (vec!["--scope", "global"], "say what to limit"),
        (
            vec!["--scope", "global", "--daily-tokens", "many"],
            "--daily-tokens",
        ),
    ] {
        let mut all = vec!["budget", "set"];
        all.extend(args.iter().copied());
        let run = baton.baton(&all);
        run.expect_code(BAD_INPUT);
        assert!(run.stderr.contains(said), "{args:?}: {}", run.stderr);
    }
    let uses = baton.baton(&["budget", "status", "--json"]).json();
    assert_eq!(uses, serde_json::json!([]), "nothing was written");
    // A project limit needs a repository.
    let outside = baton.scratch("not-a-repo");
    let run = baton.baton_in(
        &outside,
        &["budget", "set", "--scope", "project", "--daily", "3"],
    );
    run.expect_code(BAD_INPUT);
    assert!(run.stderr.contains("--scope project"), "{}", run.stderr);
}

#[test]
fn a_dry_run_estimates_each_tasks_cost_with_its_basis_and_writes_nothing() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    support::write_program(
        &bin.join("claude"),
        "#!/bin/sh\necho '2.1.197 (Claude Code)'\n",
    );
    let plan = baton.plan(
        "costs.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: write\n    agent: claude\n    model: claude-sonnet-4-5\n    prompt: \"Write it.\"\n    retries: 1\n  - id: fmt\n    run: \"true\"\n  - id: mystery\n    agent: claude\n    model: no-such-model-9\n    prompt: \"Do it.\"\n",
    );
    let dry = support::agents::baton_with_agent(
        &baton,
        &bin,
        &[],
        &[
            "run",
            "--plan",
            plan.to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    );
    dry.expect_code(OK);
    let costs = &dry.json()["costs"];
    let tasks = costs["tasks"].as_array().unwrap();
    let by = |id: &str| tasks.iter().find(|t| t["task"] == id).unwrap().clone();
    // 200k input at $3/M and 20k output at $15/M.
    assert_eq!(by("write")["usd"], 900_000, "{costs:#}");
    assert_eq!(by("write")["agent"], "claude");
    assert_eq!(by("write")["attempts"], 2);
    assert!(
        by("write")["basis"]
            .as_str()
            .unwrap()
            .contains("claude-sonnet-4-5's prices")
    );
    assert_eq!(by("fmt")["usd"], 0);
    assert!(
        by("mystery")["usd"].is_null(),
        "unknown, never 0: {costs:#}"
    );
    assert_eq!(costs["total_first_attempts"]["usd"], 900_000);
    assert_eq!(costs["total_every_attempt"]["usd"], 1_800_000);
    assert_eq!(costs["total_first_attempts"]["unknown_tasks"], 1);
    assert!(!baton.home.exists(), "a dry run writes nothing");

    let text = support::agents::baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap(), "--dry-run"],
    );
    text.expect_code(OK);
    assert!(
        text.stdout.contains("estimated cost per attempt"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("$0.90"), "{}", text.stdout);
    assert!(text.stdout.contains("unknown"), "{}", text.stdout);
}

#[test]
fn a_bad_run_budget_is_refused_before_anything_is_written() {
    let baton = Baton::new();
    let plan = baton.plan(
        "p.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    run: \"true\"\n",
    );
    for (flag, value, said) in [
        ("--budget", "-1", "0 dollars or more"),
        ("--budget", "ten", "is not an amount of dollars"),
        ("--budget-tokens", "-5", "--budget-tokens"),
    ] {
        let run = baton.baton(&["run", "--plan", plan.to_str().unwrap(), flag, value]);
        run.expect_code(BAD_INPUT);
        assert!(run.stderr.contains(said), "{flag} {value}: {}", run.stderr);
    }
    assert!(!baton.home.exists(), "nothing was written");
    let resume = baton.baton(&["resume", "r-nope", "--budget", "abc"]);
    resume.expect_code(BAD_INPUT);
    assert!(
        resume.stderr.contains("is not an amount of dollars"),
        "{}",
        resume.stderr
    );
}
