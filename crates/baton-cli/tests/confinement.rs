#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Agents and gates are confined: a task may write in its lane, its private `TMPDIR` and (to
//! commit) the repository's git directory, but not into the user's checkout, another lane or
//! `$HOME`. `baton.toml` adds writable directories or turns confinement off, and a bad
//! `baton.toml` is refused with its place.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{BAD_INPUT, Baton, FAILED, Finished, OK, run_with_deadline, sh_path, statuses, task};

/// Whether this kernel confines; prints why a test is skipped when it does not.
fn landlock_or_skip(test: &str) -> bool {
    let support = baton_exec::landlock_support();
    if !support.confines() {
        eprintln!("skipping {test}: this kernel has no Landlock ({support})");
    }
    support.confines()
}

/// `baton run --plan PLAN` with `HOME` pointing at `home` (and this fixture's `BATON_HOME`).
fn run_with_home(baton: &Baton, plan: &Path, home: &Path) -> Finished {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(["run", "--plan"])
        .arg(plan)
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("BATON_LOG")
        .env_remove("BATON_CONFINE")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    run_with_deadline(
        command,
        "baton run (HOME set)".into(),
        &baton.repo.tmp().join("output"),
    )
}

/// The lane directories of the repository's pool.
fn lanes(baton: &Baton) -> Vec<PathBuf> {
    let pool = baton
        .home
        .join("lanes")
        .join(baton_engine::repo_key(baton.path()));
    let mut lanes: Vec<PathBuf> = std::fs::read_dir(&pool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    lanes.sort();
    lanes
}

fn failure_of(status: &serde_json::Value, id: &str) -> String {
    task(status, id)["last_failure"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn tasks_cannot_write_into_the_checkout_another_lane_or_home_while_a_normal_task_completes() {
    if !landlock_or_skip("tasks_cannot_write_into_the_checkout_another_lane_or_home...") {
        return;
    }
    let baton = Baton::new();
    let home = baton.scratch("home");
    // A first run fills the lane pool with two lanes (`one` holds lane-1 until `two` has
    // lane-2); its tasks commit in their lanes themselves and use TMPDIR, which confinement
    // must allow.
    let warm = r#"version: 1
goal: "normal work under confinement"
lanes: 2
tasks:
  - id: one
    claims: ["one.txt"]
    run: |
      until [ -d "$BATON_LANE_DIR/../lane-2" ]; do sleep 0.05; done
      echo 1 > one.txt && git add one.txt && git -c user.name=a -c user.email=a@a commit -q -m one && f=$(mktemp) && echo t > $f
  - id: two
    claims: ["two.txt"]
    run: "echo 2 > two.txt && python3 -c 'import tempfile; tempfile.NamedTemporaryFile().write(b\"x\")'"
"#;
    let plan = baton.plan("warm.yaml", warm);
    let finished = run_with_home(&baton, &plan, &home);
    finished.expect_code(OK);
    let pool = lanes(&baton);
    assert!(pool.len() >= 2, "the pool should hold two lanes: {pool:?}");

    let checkout_target = baton.path().join("escaped-into-checkout.txt");
    let plan = format!(
        r#"version: 1
goal: "escapes"
lanes: 1
tasks:
  - id: checkout
    run: "echo x > {checkout}"
  - id: lane
    run: |
      for d in "$BATON_LANE_DIR"/../*/; do
        [ "$d" -ef "$BATON_LANE_DIR" ] || echo x > "$d/escaped-into-lane.txt" || exit 1
      done
  - id: home
    run: "echo x > \"$HOME/escaped-into-home.txt\""
  - id: normal
    run: "echo ok > ok.txt"
"#,
        checkout = sh_path(&checkout_target)
    );
    let plan = baton.plan("escapes.yaml", &plan);
    let finished = run_with_home(&baton, &plan, &home);
    finished.expect_code(FAILED);
    let run = baton.run_ids()[0].clone();
    let status = baton.status(&run);
    assert_eq!(
        statuses(&status),
        [
            "checkout=failed",
            "home=failed",
            "lane=failed",
            "normal=merged"
        ]
    );
    assert!(!checkout_target.exists());
    assert!(!home.join("escaped-into-home.txt").exists());
    for lane in lanes(&baton) {
        assert!(!lane.join("escaped-into-lane.txt").exists(), "{lane:?}");
    }
    for id in ["checkout", "lane", "home"] {
        let failure = failure_of(&status, id);
        assert!(
            failure.contains("the sandbox refused a write outside the lane:")
                && failure.contains("Permission denied"),
            "{id}: {failure}"
        );
    }
    assert_eq!(
        baton.read_at(&baton.integration(&run), "ok.txt").as_deref(),
        Some("ok\n")
    );
}

#[test]
fn a_gate_is_confined_like_an_agent() {
    if !landlock_or_skip("a_gate_is_confined_like_an_agent") {
        return;
    }
    let baton = Baton::new();
    let outside = baton.scratch("gate-outside").join("gate.txt");
    let plan = format!(
        r#"version: 1
goal: "a gate that writes outside"
gates:
  sneaky: "echo x > {outside}"
tasks:
  - id: a
    run: "echo a > a.txt"
    gates: [sneaky]
"#,
        outside = sh_path(&outside)
    );
    let (finished, run) = baton.run_plan(&plan, &[]);
    finished.expect_code(FAILED);
    assert_eq!(statuses(&baton.status(&run)), ["a=failed"]);
    assert!(!outside.exists());
}

#[test]
fn writable_dirs_from_baton_toml_are_writable_and_confine_false_lets_every_write_through() {
    if !landlock_or_skip("writable_dirs_from_baton_toml_are_writable...") {
        return;
    }
    let baton = Baton::new();
    let allowed = baton.scratch("cache");
    let denied = baton.scratch("elsewhere");
    let toml = format!("[sandbox]\nwritable = [{:?}]\n", allowed.to_str().unwrap());
    baton.commit_file("baton.toml", &toml, "sandbox config");
    let plan = format!(
        r#"version: 1
goal: "an extra writable dir"
tasks:
  - id: cache
    run: "echo c > {allowed}/c.txt"
  - id: elsewhere
    run: "echo e > {denied}/e.txt"
"#,
        allowed = sh_path(&allowed),
        denied = sh_path(&denied)
    );
    let (finished, run) = baton.run_plan(&plan, &[]);
    finished.expect_code(FAILED);
    assert_eq!(
        statuses(&baton.status(&run)),
        ["cache=merged", "elsewhere=failed"]
    );
    assert!(allowed.join("c.txt").exists());
    assert!(!denied.join("e.txt").exists());

    baton.commit_file("baton.toml", "[sandbox]\nconfine = false\n", "no sandbox");
    let (finished, run) = baton.run_plan(&plan, &[]);
    finished.expect_code(OK);
    assert_eq!(
        statuses(&baton.status(&run)),
        ["cache=merged", "elsewhere=merged"]
    );
    assert!(denied.join("e.txt").exists());
}

#[test]
fn a_bad_baton_toml_is_refused_with_file_line_and_column() {
    let cases = [
        (
            "[sandbox]\nconfine = true\nwriteable = []\n",
            "baton.toml:3:1:",
            "unknown field `writeable`",
        ),
        ("[sandbox]\nconfine = \"yes\"\n", "baton.toml:2:11:", "bool"),
    ];
    for (text, place, what) in cases {
        let baton = Baton::new();
        baton.commit_file("baton.toml", text, "bad config");
        let plan = baton.plan(
            "plan.yaml",
            "version: 1\ngoal: g\ntasks:\n  - id: a\n    run: \"true\"\n",
        );
        let finished = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
        finished.expect_code(BAD_INPUT);
        assert!(
            finished.stderr.contains(place) && finished.stderr.contains(what),
            "should say {place} {what}: {}",
            finished.stderr
        );
        assert!(baton.run_ids().is_empty(), "no run may be recorded");
    }
}
