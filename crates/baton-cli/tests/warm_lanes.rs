#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Warm lanes: a pooled lane keeps the repository's ignored build caches (`target/`, ...)
//! between tasks, so the next task's build is incremental; every other ignored or untracked
//! file still goes. `[lanes] pristine = true` keeps nothing.

mod support;

use support::{Baton, FAILED, OK, task};

/// Task `a` leaves an ignored build cache and an ignored log; task `b`, in the same lane after
/// it, passes only when the cache is there and the log is not.
const PLAN: &str = r#"version: 1
goal: g
lanes: 1
tasks:
  - id: a
    run: "mkdir -p target && echo cached > target/cache && echo noise > build.log && echo a > a.txt"
    claims: ["a.txt"]
  - id: b
    run: "test -f target/cache && test ! -f build.log && echo b > b.txt"
    claims: ["b.txt"]
    deps: [a]
"#;

fn repo_with_ignores() -> Baton {
    let baton = Baton::new();
    baton.commit_file(".gitignore", "target/\n*.log\n", "ignore build outputs");
    baton
}

#[test]
fn the_next_task_in_a_lane_finds_the_build_cache_and_nothing_else() {
    let baton = repo_with_ignores();
    let plan = baton.plan("warm.yaml", PLAN);
    baton
        .baton(&["run", "--plan", plan.to_str().unwrap()])
        .expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton.read_at(&baton.integration(&id), "b.txt").as_deref(),
        Some("b\n")
    );
    // The cache never reaches a commit.
    assert!(
        baton
            .read_at(&baton.integration(&id), "target/cache")
            .is_none()
    );
}

#[test]
fn a_pristine_pool_keeps_nothing() {
    let baton = repo_with_ignores();
    std::fs::write(
        baton.path().join("baton.toml"),
        "[lanes]\npristine = true\n",
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    let plan = baton.plan("cold.yaml", PLAN);
    baton
        .baton(&["run", "--plan", plan.to_str().unwrap()])
        .expect_code(FAILED);
    let id = baton.run_ids()[0].clone();
    assert_eq!(task(&baton.report(&id), "b")["status"], "failed");
}

#[test]
fn a_bad_keep_entry_is_refused_with_its_file() {
    let baton = repo_with_ignores();
    std::fs::write(
        baton.path().join("baton.toml"),
        "[lanes]\nkeep = [\"*.o\"]\n",
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    let plan = baton.plan("bad.yaml", PLAN);
    let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
    run.expect_code(support::BAD_INPUT);
    assert!(
        run.stderr.contains("lanes.keep entry \"*.o\""),
        "{}",
        run.stderr
    );
    assert!(!baton.home.exists());
}
