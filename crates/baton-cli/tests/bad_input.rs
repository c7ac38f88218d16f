#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input is refused with exit code 2, a message that names the problem and where it is,
//! and no trace: no run in the database and no `baton/` refs in the repository.

mod support;

use std::path::Path;
use support::{BAD_INPUT, Baton, OK};

/// Fails the test if anything of a run was written.
fn assert_nothing_written(baton: &Baton) {
    let runs = baton.baton(&["status", "--json"]).expect_code(OK).json();
    assert_eq!(runs, serde_json::json!([]), "no run may be recorded");
    assert_eq!(baton.baton_refs(), Vec::<String>::new(), "no baton refs");
}

/// Runs `baton plan validate PLAN` and `baton run --plan PLAN EXTRA...`; both must exit 2 with
/// every `wanted` text in their error output, and leave nothing behind.
fn assert_refused(baton: &Baton, plan: &Path, extra: &[&str], wanted: &[&str]) {
    let plan = plan.to_string_lossy().into_owned();
    let mut run = vec!["run", "--plan", plan.as_str()];
    run.extend_from_slice(extra);
    let home_existed = baton.home.exists();
    for args in [vec!["plan", "validate", plan.as_str()], run] {
        let finished = baton.baton(&args);
        finished.expect_code(BAD_INPUT);
        assert_eq!(
            baton.home.exists(),
            home_existed,
            "`{}` must not create BATON_HOME ({})",
            finished.what,
            baton.home.display()
        );
        for text in wanted {
            assert!(
                finished.stderr.contains(text),
                "`{}` should say {text:?}; it said:\n{}",
                finished.what,
                finished.stderr
            );
        }
    }
    assert_nothing_written(baton);
}

/// Writes `yaml` as `plan.yaml` and checks that it is refused with every `wanted` text.
fn assert_plan_refused(yaml: &str, wanted: &[&str]) {
    let baton = Baton::new();
    let plan = baton.plan("plan.yaml", yaml);
    assert_refused(&baton, &plan, &[], wanted);
}

const VALID: &str = r#"version: 1
goal: "a valid plan"
tasks:
  - id: a
    run: "echo a > a.txt"
"#;

#[test]
fn malformed_yaml_is_refused_with_its_place() {
    assert_plan_refused(
        "version: 1\ntasks:\n  - id: a\n    run: \"true\"\ngoal: \"unclosed\n",
        &["plan.yaml:5:", "invalid YAML"],
    );
}

#[test]
fn an_unknown_field_is_refused_with_a_did_you_mean() {
    assert_plan_refused(
        r#"version: 1
goal: "typo"
tasks:
  - id: a
    agnet: exec
    run: "true"
"#,
        &["plan.yaml:5:5:", "agnet", "did you mean \"agent\""],
    );
}

#[test]
fn an_unknown_dep_is_refused_with_a_did_you_mean() {
    assert_plan_refused(
        r#"version: 1
goal: "unknown dep"
tasks:
  - id: parser
    run: "true"
  - id: lexer
    run: "true"
    deps: [parsr]
"#,
        &["plan.yaml:8:", "parsr", "did you mean \"parser\""],
    );
}

#[test]
fn a_duplicate_task_id_is_refused_at_the_second_one() {
    assert_plan_refused(
        r#"version: 1
goal: "duplicate"
tasks:
  - id: twin
    run: "true"
  - id: twin
    run: "false"
"#,
        &["plan.yaml:6:", "twin", "line 4"],
    );
}

#[test]
fn a_dependency_cycle_is_refused_and_printed() {
    assert_plan_refused(
        r#"version: 1
goal: "cycle"
tasks:
  - id: a
    run: "true"
    deps: [b]
  - id: b
    run: "true"
    deps: [c]
  - id: c
    run: "true"
    deps: [a]
"#,
        &["plan.yaml:", "cycle", "a -> b -> c -> a"],
    );
}

#[test]
fn an_invalid_claim_glob_is_refused() {
    assert_plan_refused(
        r#"version: 1
goal: "bad glob"
tasks:
  - id: a
    run: "true"
    claims: ["src/[ab"]
"#,
        &["plan.yaml:6:", "src/[ab", "not a valid glob"],
    );
}

#[test]
fn zero_lanes_in_the_plan_is_refused() {
    assert_plan_refused(
        r#"version: 1
goal: "no lanes"
lanes: 0
tasks:
  - id: a
    run: "true"
"#,
        &["plan.yaml:3:", "lanes"],
    );
}

#[test]
fn zero_lanes_on_the_command_line_is_refused() {
    let baton = Baton::new();
    let plan = baton.plan("plan.yaml", VALID);
    let finished = baton.baton(&["run", "--plan", &plan.to_string_lossy(), "--lanes", "0"]);
    finished.expect_code(BAD_INPUT);
    assert!(finished.stderr.contains("--lanes"), "{}", finished.stderr);
    assert_nothing_written(&baton);
}

#[test]
fn an_unknown_gate_in_a_task_is_refused_with_a_did_you_mean() {
    assert_plan_refused(
        r#"version: 1
goal: "unknown gate"
gates:
  test: "true"
tasks:
  - id: a
    run: "true"
    gates: [tset]
"#,
        &["plan.yaml:8:", "tset", "did you mean \"test\""],
    );
}

#[test]
fn an_unknown_merge_gate_is_refused_with_a_did_you_mean() {
    assert_plan_refused(
        r#"version: 1
goal: "unknown merge gate"
gates:
  build: "true"
merge_gates: [biuld]
tasks:
  - id: a
    run: "true"
"#,
        &["plan.yaml:5:", "biuld", "did you mean \"build\""],
    );
}

#[test]
fn a_base_branch_that_does_not_exist_is_refused() {
    assert_plan_refused(
        r#"version: 1
goal: "no such base"
base: nosuchbranch
tasks:
  - id: a
    run: "true"
"#,
        &["nosuchbranch", "does not exist"],
    );
}

#[test]
fn a_directory_that_is_not_a_git_repository_is_refused() {
    let baton = Baton::new();
    let plan = baton.plan("plan.yaml", VALID);
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_string_lossy().into_owned();
    let plan = plan.to_string_lossy().into_owned();
    for args in [
        vec!["--repo", dir.as_str(), "plan", "validate", plan.as_str()],
        vec!["--repo", dir.as_str(), "run", "--plan", plan.as_str()],
    ] {
        let finished = baton.baton(&args);
        finished.expect_code(BAD_INPUT);
        assert!(
            finished.stderr.contains(dir.as_str()),
            "`{}` should name the directory:\n{}",
            finished.what,
            finished.stderr
        );
        assert!(
            finished.stderr.contains("not inside a git repository"),
            "`{}`:\n{}",
            finished.what,
            finished.stderr
        );
    }
    assert_nothing_written(&baton);
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_plan_file_is_refused() {
    let baton = Baton::new();
    let missing = baton.repo.tmp().join("no-such-plan.yaml");
    assert_refused(
        &baton,
        &missing,
        &[],
        &["cannot read the plan", "no-such-plan.yaml"],
    );
    let finished = baton.baton(&["plan", "validate", &missing.to_string_lossy()]);
    assert_eq!(
        finished.stderr.matches("No such file or directory").count(),
        1,
        "the reason once, not repeated: {}",
        finished.stderr
    );
}

#[test]
fn status_of_an_unknown_run_is_refused() {
    let baton = Baton::new();
    let finished = baton.baton(&["status", "NOSUCHRUN"]);
    finished.expect_code(BAD_INPUT);
    assert!(finished.stderr.contains("NOSUCHRUN"), "{}", finished.stderr);
    assert_nothing_written(&baton);
}

/// A completed run, and its events before anything was refused.
fn completed_run(baton: &Baton) -> (String, String) {
    let (run, id) = baton.run_plan(VALID, &[]);
    run.expect_code(OK);
    let events = baton.baton(&["events", &id]).expect_code(OK).stdout.clone();
    (id, events)
}

/// Fails the test if the refused command changed the run.
fn assert_run_unchanged(baton: &Baton, id: &str, events_before: &str) {
    let after = baton.baton(&["events", id]).expect_code(OK).stdout.clone();
    assert_eq!(events_before, after, "refusing must not change the run");
    assert_eq!(baton.status(id)["status"], "completed");
    assert_eq!(baton.run_ids(), vec![id.to_string()]);
}

#[test]
fn logs_of_an_unknown_task_are_refused() {
    let baton = Baton::new();
    let (id, before) = completed_run(&baton);
    let logs = baton.baton(&["logs", &id, "nosuchtask"]);
    logs.expect_code(BAD_INPUT);
    assert!(logs.stderr.contains("nosuchtask"), "{}", logs.stderr);
    assert!(
        logs.stderr.contains("its tasks: a"),
        "it lists the run's tasks: {}",
        logs.stderr
    );
    assert_run_unchanged(&baton, &id, &before);
}

#[test]
fn resuming_a_completed_run_is_refused() {
    let baton = Baton::new();
    let (id, before) = completed_run(&baton);
    let resume = baton.baton(&["resume", &id]);
    resume.expect_code(BAD_INPUT);
    assert!(resume.stderr.contains(&id), "{}", resume.stderr);
    assert!(resume.stderr.contains("complete"), "{}", resume.stderr);
    assert_run_unchanged(&baton, &id, &before);
}

#[test]
fn an_unknown_subcommand_or_flag_is_a_usage_error() {
    let baton = Baton::new();
    let sub = baton.baton(&["frobnicate"]);
    sub.expect_code(BAD_INPUT);
    assert!(sub.stderr.contains("frobnicate"), "{}", sub.stderr);
    assert!(sub.stderr.contains("Usage"), "{}", sub.stderr);
    let flag = baton.baton(&["status", "--no-such-flag"]);
    flag.expect_code(BAD_INPUT);
    assert!(flag.stderr.contains("--no-such-flag"), "{}", flag.stderr);
    assert_nothing_written(&baton);
}

#[test]
fn a_refused_plan_leaves_no_baton_home_behind() {
    let baton = Baton::new();
    let plan = baton.plan(
        "plan.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: A\n    run: x\n",
    );
    let plan = plan.to_string_lossy().into_owned();
    baton
        .baton(&["run", "--plan", &plan])
        .expect_code(BAD_INPUT);
    assert!(
        !baton.home.exists(),
        "a refused `baton run` created {}",
        baton.home.display()
    );
}

/// `baton status` and `baton run` with this home both exit 2, naming `path` and saying each of
/// `wanted` exactly once.
fn assert_home_refused(baton: &Baton, path: &Path, wanted: &[&str]) {
    let plan = baton.plan("plan.yaml", VALID);
    let plan = plan.to_string_lossy().into_owned();
    for args in [vec!["status"], vec!["run", "--plan", plan.as_str()]] {
        let finished = baton.baton(&args);
        finished.expect_code(BAD_INPUT);
        let said = &finished.stderr;
        assert!(
            said.contains(&path.display().to_string()),
            "`{}` should name {}; it said:\n{said}",
            finished.what,
            path.display()
        );
        for text in wanted {
            assert_eq!(
                said.matches(text).count(),
                1,
                "`{}` should say {text:?} once; it said:\n{said}",
                finished.what
            );
        }
    }
}

#[test]
fn a_baton_home_that_is_a_file_is_refused_naming_it() {
    let mut baton = Baton::new();
    baton.home = baton.scratch("home").join("not-a-dir");
    std::fs::write(&baton.home, "a file\n").unwrap();
    assert_home_refused(
        &baton,
        &baton.home,
        &[
            "it exists and is not a directory",
            "set BATON_HOME to a directory you can write",
        ],
    );
}

#[test]
fn a_baton_home_that_cannot_be_created_is_refused_naming_it() {
    // Tests may run as root, which ignores permission bits: a parent that is a file makes the
    // home impossible to create for anyone.
    let mut baton = Baton::new();
    let file = baton.scratch("home").join("a-file");
    std::fs::write(&file, "a file\n").unwrap();
    baton.home = file.join("baton-home");
    assert_home_refused(
        &baton,
        &baton.home,
        &[
            "Not a directory",
            "set BATON_HOME to a directory you can write",
        ],
    );
}

#[test]
fn a_corrupt_database_is_refused_with_the_file_to_move_aside() {
    let baton = Baton::new();
    std::fs::create_dir_all(&baton.home).unwrap();
    let db = baton.home.join("baton.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    assert_home_refused(
        &baton,
        &db,
        &[
            "file is not a database",
            &format!("mv {} {}.broken", db.display(), db.display()),
        ],
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the file must be kept"
    );
}

#[test]
fn a_database_path_that_is_a_directory_is_refused() {
    let baton = Baton::new();
    let db = baton.home.join("baton.db");
    std::fs::create_dir_all(&db).unwrap();
    assert_home_refused(
        &baton,
        &db,
        &["unable to open database file", "regular file"],
    );
}

#[test]
fn a_claim_that_can_never_match_is_refused_with_the_claim_to_write() {
    assert_plan_refused(
        r#"version: 1
goal: "dot claims"
tasks:
  - id: a
    run: "true"
    claims: ["./src/**"]
"#,
        &["plan.yaml:6:14:", "write \"src/**\""],
    );
}
