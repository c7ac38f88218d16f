#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton scan`: markers in tracked files, linter diagnostics, candidate tasks, the plan it
//! writes, and bad input — on real repositories with the real tools.

mod support;

use std::path::Path;
use support::{BAD_INPUT, Baton, Finished, OK};

/// A call of the `todo!` macro, spelled in two pieces so that this file is no finding itself.
const TODO_CALL: &str = concat!("todo", "!(");

const LIB_WITH_MARKERS: &str = concat!(
    "pub fn parse() {\n    // TODO: handle empty input\n    let _x = 1;\n    todo",
    "!(\"write the parser\")\n}\n"
);

fn repo_with_markers() -> Baton {
    repo_with_markers_and(&[])
}

/// A repository with `src/lib.rs` (two markers) and `files` committed, and an untracked file
/// with a marker.
fn repo_with_markers_and(files: &[(&str, &str)]) -> Baton {
    let baton = Baton::new();
    baton.commit_file("src/lib.rs", LIB_WITH_MARKERS, "lib with markers");
    for (path, content) in files {
        baton.commit_file(path, content, path);
    }
    // Untracked: never scanned.
    baton.repo.write("notes.txt", "FIXME: not mine\n").unwrap();
    baton
}

/// `baton scan ARGS` in the fixture's repository with extra environment variables.
fn scan_with_env(baton: &Baton, args: &[&str], env: &[(&str, &Path)]) -> Finished {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    baton.baton_with_env(baton.path(), &all, env)
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

/// Whether `program` is on PATH. Without it a developer's run skips the test with a notice,
/// but CI (`CI=true`, where scripts/scan-tools.sh installs the tools) fails it.
fn require_tool(program: &str) -> bool {
    if on_path(program) {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !in_ci,
        "{program} is not on PATH: CI must have it (scripts/test.sh installs it with \
         scripts/scan-tools.sh)"
    );
    eprintln!("skipped: {program} is not on PATH (scripts/scan-tools.sh installs it)");
    false
}

#[test]
fn markers_in_tracked_files_are_listed_with_file_and_line_and_untracked_files_are_not_read() {
    let baton = repo_with_markers();
    let out = baton.baton(&["scan"]);
    out.expect_code(OK);
    assert!(
        out.stdout
            .contains("src/lib.rs:2 TODO // TODO: handle empty input"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "src/lib.rs:4 todo! {TODO_CALL}\"write the parser\")"
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("src-lib-rs"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("notes.txt"),
        "an untracked file was scanned:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("clippy: skipped (no Cargo.toml"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 finding(s) in 1 file(s)"),
        "{}",
        out.stdout
    );
}

#[test]
fn json_output_holds_findings_candidate_tasks_and_tools() {
    let baton = repo_with_markers();
    let doc = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc:#}");
    assert_eq!(findings[0]["file"], "src/lib.rs");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["kind"], "todo");
    assert_eq!(findings[0]["text"], "// TODO: handle empty input");
    assert_eq!(findings[1]["kind"], "todo_macro");
    let tasks = doc["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["id"], "src-lib-rs");
    assert_eq!(tasks[0]["files"], serde_json::json!(["src/lib.rs"]));
    assert_eq!(tasks[0]["needs_person"], false);
    assert!(tasks[0]["complexity"].as_u64().unwrap() >= 3, "{doc:#}");
    assert!(tasks[0].get("fixer").is_none());
    let tools = doc["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(names, ["clippy", "ruff", "eslint", "mypy", "rustfmt"]);
    assert!(tools.iter().all(|t| t["outcome"] == "skipped"), "{doc:#}");
    assert!(doc["files_scanned"].as_u64().unwrap() >= 2);
}

#[test]
fn the_plan_written_parses_and_holds_one_agent_task_per_file() {
    let baton = repo_with_markers_and(&[(
        "app/main.py",
        "def main():\n    raise NotImplementedError\n",
    )]);
    let plan = baton.scratch("plans").join("scan.yaml");
    let plan_arg = plan.to_str().unwrap();
    let out = baton.baton(&["scan", "--plan", plan_arg]);
    out.expect_code(OK);
    assert!(
        out.stdout.contains("plan with 2 tasks written to"),
        "{}",
        out.stdout
    );
    let yaml = std::fs::read_to_string(&plan).unwrap();
    let parsed = baton_core::parse_plan(&yaml, plan_arg).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let ids: Vec<&str> = parsed.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["app-main-py", "src-lib-rs"]);
    for task in &parsed.tasks {
        assert_eq!(task.agent, baton_core::AgentKind::Auto);
    }
    let Some(baton_core::Prompt::Text(prompt)) = &parsed.tasks[1].prompt else {
        panic!("no prompt in {yaml}");
    };
    assert!(
        prompt.contains(&format!(
            "src/lib.rs:4 [todo!] {TODO_CALL}\"write the parser\")"
        )),
        "{prompt}"
    );
    // And baton itself accepts it against the repository.
    baton.baton(&["plan", "validate", plan_arg]).expect_code(OK);
    // No temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(plan.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn a_security_sensitive_file_is_flagged_for_a_person() {
    let baton = Baton::new();
    baton.commit_file(
        "src/auth/session.rs",
        "// XXX: tokens never expire\n",
        "auth",
    );
    let doc = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    let task = &doc["tasks"][0];
    assert_eq!(task["files"][0], "src/auth/session.rs");
    assert_eq!(task["needs_person"], true);
    assert!(task["reason"].as_str().unwrap().contains("auth"), "{doc:#}");
    let plan = baton.scratch("plans").join("scan.yaml");
    let out = baton.baton(&["scan", "--plan", plan.to_str().unwrap()]);
    out.expect_code(OK);
    assert!(out.stdout.contains("needs a person"), "{}", out.stdout);
    let yaml = std::fs::read_to_string(&plan).unwrap();
    assert!(
        yaml.contains("# A person should look at this task before it runs: src/auth/session.rs"),
        "{yaml}"
    );
}

/// `baton scan --json` on a repository holding `files`, cargo building into a target directory
/// of its own (not the test build's); `None` (with a notice) when cargo clippy is not on PATH.
fn clippy_scan(files: &[(&str, &str)]) -> Option<serde_json::Value> {
    if !require_tool("cargo-clippy") {
        return None;
    }
    let baton = Baton::new();
    for (path, content) in files {
        baton.commit_file(path, content, path);
    }
    let target = baton.scratch("target");
    let out = scan_with_env(&baton, &["--json"], &[("CARGO_TARGET_DIR", &target)]);
    Some(out.expect_code(OK).json())
}

#[test]
fn clippy_diagnostics_of_a_tiny_crate_become_a_fixer_task() {
    let Some(doc) = clippy_scan(&[
        (
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
        ),
        (
            "src/lib.rs",
            "pub fn double(x: u32) -> u32 {\n    return x * 2;\n}\n",
        ),
    ]) else {
        return;
    };
    let clippy = &doc["tools"][0];
    assert_eq!(clippy["tool"], "clippy");
    assert_eq!(clippy["outcome"], "ran", "{doc:#}");
    assert_eq!(clippy["findings"], 1, "{doc:#}");
    let finding = &doc["findings"][0];
    assert_eq!(finding["file"], "src/lib.rs");
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["kind"], "clippy");
    assert_eq!(finding["code"], "clippy::needless_return");
    assert_eq!(finding["fixable"], true);
    let task = &doc["tasks"][0];
    assert_eq!(task["id"], "clippy-fix");
    assert_eq!(task["fixer"], "clippy");
    assert_eq!(task["files"], serde_json::json!(["src/lib.rs"]));
    assert_eq!(doc["tasks"].as_array().unwrap().len(), 1, "{doc:#}");
}

#[test]
fn a_clippy_that_cannot_build_the_crate_is_reported_with_its_exit_and_stderr() {
    // A manifest cargo refuses: no diagnostics, only an error on stderr.
    let Some(doc) = clippy_scan(&[("Cargo.toml", "[package]\nname = \n")]) else {
        return;
    };
    let clippy = &doc["tools"][0];
    assert_eq!(clippy["outcome"], "failed", "{doc:#}");
    assert_eq!(clippy["exit"], 101, "{doc:#}");
    assert!(
        clippy["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("Cargo.toml"),
        "{doc:#}"
    );
}

#[test]
fn ruff_diagnostics_become_a_fixer_task() {
    if !require_tool("ruff") {
        return;
    }
    let baton = Baton::new();
    baton.commit_file(
        "app/mod.py",
        "import os\n\n\ndef f():\n    return 1\n",
        "py",
    );
    let doc = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    let ruff = &doc["tools"][1];
    assert_eq!(ruff["outcome"], "ran", "{doc:#}");
    let finding = &doc["findings"][0];
    assert_eq!(finding["file"], "app/mod.py");
    assert_eq!(finding["line"], 1);
    assert_eq!(finding["code"], "F401");
    assert_eq!(finding["fixable"], true);
    assert_eq!(doc["tasks"][0]["id"], "ruff-fix");
}

#[test]
fn a_directory_that_is_not_a_repository_is_bad_input_naming_it() {
    let baton = Baton::new();
    let elsewhere = baton.scratch("not-a-repo");
    let plan = baton.scratch("plans").join("scan.yaml");
    let out = baton.baton(&[
        "scan",
        "--repo",
        elsewhere.to_str().unwrap(),
        "--plan",
        plan.to_str().unwrap(),
    ]);
    out.expect_code(BAD_INPUT);
    assert!(
        out.stderr.contains(elsewhere.to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not a git repository"),
        "{}",
        out.stderr
    );
    assert!(!plan.exists());
}

#[test]
fn an_existing_plan_file_is_not_overwritten_without_force() {
    let baton = repo_with_markers();
    let plan = baton.scratch("plans").join("scan.yaml");
    std::fs::write(&plan, "mine\n").unwrap();
    let plan_arg = plan.to_str().unwrap();
    let out = baton.baton(&["scan", "--plan", plan_arg]);
    out.expect_code(BAD_INPUT);
    assert!(out.stderr.contains(plan_arg), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), "mine\n");
    baton
        .baton(&["scan", "--plan", plan_arg, "--force"])
        .expect_code(OK);
    let yaml = std::fs::read_to_string(&plan).unwrap();
    baton_core::parse_plan(&yaml, plan_arg).unwrap();
}

#[test]
fn a_plan_path_that_cannot_be_written_is_bad_input_and_nothing_is_written() {
    let baton = repo_with_markers();
    let missing = baton.repo.tmp().join("no-such-dir").join("scan.yaml");
    let out = baton.baton(&["scan", "--plan", missing.to_str().unwrap()]);
    out.expect_code(BAD_INPUT);
    assert!(
        out.stderr.contains(missing.to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert!(!missing.parent().unwrap().exists());
}

#[test]
fn a_linked_worktree_is_scanned_as_it_is_checked_out_not_the_main_one() {
    let baton = Baton::new();
    let linked = baton.scratch("linked");
    let linked_arg = linked.to_str().unwrap();
    baton.git(&["worktree", "add", "-q", "-b", "side", linked_arg]);
    std::fs::write(linked.join("side.rs"), "// HACK: only on the side branch\n").unwrap();
    support::git_at(&linked, &["add", "side.rs"]);
    let doc = baton
        .baton(&["scan", "--json", "--repo", linked_arg])
        .expect_code(OK)
        .json();
    assert_eq!(doc["findings"][0]["file"], "side.rs", "{doc:#}");
    assert_eq!(doc["findings"][0]["kind"], "hack");
    let main = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    assert_eq!(main["findings"], serde_json::json!([]), "{main:#}");
}

const TINY_MANIFEST: &str =
    "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// The Cargo.lock cargo writes for [`TINY_MANIFEST`]: committed, clippy and cargo test leave
/// the checkout as it was (without it clippy writes one there, as `cargo clippy` does).
const TINY_LOCK: &str = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"tiny\"\nversion = \"0.1.0\"\n";

/// A Python module mypy faults at line 6 (`arg-type`) that ruff finds nothing in, and a test
/// file whose `test_add` fails at line 5.
const CALC_PY: &str = "def add(a: int, b: int) -> int:\n    return a + b\n\n\ndef bad() -> int:\n    return add(1, \"2\")\n";
const TEST_CALC_PY: &str = "from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 4\n\n\ndef test_ok():\n    assert add(1, 1) == 2\n";

fn python_repo() -> Baton {
    let baton = Baton::new();
    baton.commit_file("app/__init__.py", "", "app");
    baton.commit_file("app/calc.py", CALC_PY, "calc");
    baton.commit_file("tests/__init__.py", "", "tests");
    baton.commit_file("tests/test_calc.py", TEST_CALC_PY, "tests");
    baton
}

fn tool<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc:#}"))
}

fn findings_of<'a>(doc: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

#[test]
fn mypy_errors_are_findings_with_file_line_and_code() {
    if !require_tool("mypy") {
        return;
    }
    let baton = python_repo();
    let doc = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    assert_eq!(tool(&doc, "mypy")["outcome"], "ran", "{doc:#}");
    let mypy = findings_of(&doc, "mypy");
    assert_eq!(mypy.len(), 1, "{doc:#}");
    assert_eq!(mypy[0]["file"], "app/calc.py");
    assert_eq!(mypy[0]["line"], 6);
    assert_eq!(mypy[0]["code"], "arg-type");
    assert_eq!(mypy[0]["level"], "error");
    let task = &doc["tasks"][0];
    assert_eq!(task["id"], "app-calc-py", "{doc:#}");
    assert!(task.get("fixer").is_none());
    // The scan leaves no cache behind.
    assert!(!baton.path().join(".mypy_cache").exists());
}

#[test]
fn eslint_messages_are_findings_with_file_line_and_rule() {
    if !require_tool("eslint") {
        return;
    }
    let baton = Baton::new();
    baton.commit_file(
        "eslint.config.mjs",
        "export default [\n  {\n    rules: {\n      \"no-unused-vars\": \"error\",\n      \"prefer-const\": \"warn\",\n    },\n  },\n];\n",
        "eslint config",
    );
    baton.commit_file(
        "src/index.js",
        "const unused = 1;\nlet x = 2;\nexport function f() {\n  return x;\n}\n",
        "js",
    );
    let doc = baton.baton(&["scan", "--json"]).expect_code(OK).json();
    assert_eq!(tool(&doc, "eslint")["outcome"], "ran", "{doc:#}");
    let eslint = findings_of(&doc, "eslint");
    let got: Vec<(&str, u64, &str, &str)> = eslint
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap(),
                f["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("src/index.js", 1, "no-unused-vars", "error"),
            ("src/index.js", 2, "prefer-const", "warning"),
        ]
    );
    assert_eq!(doc["tasks"][0]["id"], "src-index-js");
}

#[test]
fn an_unformatted_rust_file_becomes_a_cargo_fmt_fixer_task() {
    if !require_tool("cargo-fmt") {
        return;
    }
    let Some(doc) = clippy_scan(&[
        ("Cargo.toml", TINY_MANIFEST),
        ("src/lib.rs", "pub fn   double(x:u32)->u32{x*2}\n"),
    ]) else {
        return;
    };
    assert_eq!(tool(&doc, "rustfmt")["outcome"], "ran", "{doc:#}");
    let fmt = findings_of(&doc, "rustfmt");
    assert_eq!(fmt.len(), 1, "{doc:#}");
    assert_eq!(fmt[0]["file"], "src/lib.rs");
    assert_eq!(fmt[0]["line"], 1);
    assert_eq!(fmt[0]["fixable"], true);
    let task = &doc["tasks"][0];
    assert_eq!(task["id"], "rustfmt-fix");
    assert_eq!(task["fixer"], "rustfmt");
    assert_eq!(doc["tasks"].as_array().unwrap().len(), 1, "{doc:#}");
}

#[test]
fn failing_cargo_tests_are_findings_at_their_panic_and_the_checkout_is_untouched() {
    if !require_tool("cargo") {
        return;
    }
    let baton = Baton::new();
    baton.commit_file("Cargo.toml", TINY_MANIFEST, "manifest");
    baton.commit_file("Cargo.lock", TINY_LOCK, "lock");
    baton.commit_file(
        "src/lib.rs",
        "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n        assert_eq!(add(2, 2), 5);\n    }\n\n    #[test]\n    fn fine() {\n        assert_eq!(add(1, 1), 2);\n    }\n}\n",
        "lib",
    );
    baton.commit_file(
        "tests/outer.rs",
        "#[test]\nfn returns_err() -> Result<(), String> {\n    Err(\"nope\".into())\n}\n",
        "outer",
    );
    let target = baton.scratch("target");
    let doc = scan_with_env(
        &baton,
        &["--json", "--tests", "cargo test --no-fail-fast"],
        &[("CARGO_TARGET_DIR", &target)],
    )
    .expect_code(OK)
    .json();
    let tests = tool(&doc, "tests");
    assert_eq!(tests["outcome"], "ran", "{doc:#}");
    assert_eq!(tests["exit"], 101, "{doc:#}");
    let failing = findings_of(&doc, "failing_test");
    let got: Vec<(&str, u64, &str)> = failing
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap(),
            )
        })
        .collect();
    // returns_err has no panic: its line is its function's, found in its target's file.
    assert_eq!(
        got,
        [
            ("src/lib.rs", 11, "tests::adds"),
            ("tests/outer.rs", 2, "returns_err")
        ]
    );
    assert_eq!(failing[0]["text"], "assertion `left == right` failed");
    assert_eq!(failing[1]["text"], "the test failed");
    let ids: Vec<&str> = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["src-lib-rs", "tests-outer-rs"]);
    // The tests ran in a temporary worktree: the user's checkout has no build output and git
    // knows no worktree but the main one.
    assert_eq!(baton.worktrees(), [baton.path().canonicalize().unwrap()]);
    assert!(!baton.path().join("target").exists());
    assert_eq!(baton.git(&["status", "--porcelain"]), "");
}

#[test]
fn failing_pytest_tests_are_findings_in_their_test_file() {
    if !require_tool("pytest") {
        return;
    }
    let baton = python_repo();
    let doc = baton
        .baton(&["scan", "--json", "--tests", "pytest -p no:cacheprovider"])
        .expect_code(OK)
        .json();
    assert_eq!(tool(&doc, "tests")["outcome"], "ran", "{doc:#}");
    let failing = findings_of(&doc, "failing_test");
    assert_eq!(failing.len(), 1, "{doc:#}");
    assert_eq!(failing[0]["file"], "tests/test_calc.py");
    assert_eq!(failing[0]["line"], 5);
    assert_eq!(failing[0]["code"], "tests/test_calc.py::test_add");
    assert_eq!(failing[0]["text"], "assert 3 == 4");
    let task = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "tests-test-calc-py")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(task["files"], serde_json::json!(["tests/test_calc.py"]));
    assert_eq!(baton.worktrees().len(), 1);
}

#[test]
fn a_tests_command_whose_program_does_not_exist_is_bad_input_naming_it() {
    let baton = repo_with_markers();
    let plan = baton.scratch("plans").join("scan.yaml");
    let out = baton.baton(&[
        "scan",
        "--tests",
        "no-such-test-runner --all",
        "--plan",
        plan.to_str().unwrap(),
    ]);
    out.expect_code(BAD_INPUT);
    assert!(
        out.stderr
            .contains("\"no-such-test-runner\" is not on PATH"),
        "{}",
        out.stderr
    );
    assert!(!plan.exists());
    assert_eq!(baton.worktrees().len(), 1);
    let out = baton.baton(&["scan", "--tests", "  "]);
    out.expect_code(BAD_INPUT);
    assert!(
        out.stderr.contains("--tests: the command is empty"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_tests_command_that_fails_without_failing_tests_is_reported_as_failed() {
    let baton = repo_with_markers();
    let doc = baton
        .baton(&["scan", "--json", "--tests", "echo cannot build >&2; exit 3"])
        .expect_code(OK)
        .json();
    let tests = tool(&doc, "tests");
    assert_eq!(tests["outcome"], "failed", "{doc:#}");
    assert_eq!(tests["exit"], 3);
    assert!(
        tests["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("cannot build"),
        "{doc:#}"
    );
    // The markers are still found.
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn run_scan_conflicts_with_plan_and_needs_a_repository() {
    let baton = repo_with_markers();
    let out = baton.baton(&["run", "--scan", "--plan", "x.yaml"]);
    out.expect_code(BAD_INPUT);
    assert!(out.stderr.contains("--scan"), "{}", out.stderr);
    let elsewhere = baton.scratch("not-a-repo");
    let out = baton.baton(&["--repo", elsewhere.to_str().unwrap(), "run", "--scan"]);
    out.expect_code(BAD_INPUT);
    assert!(
        out.stderr.contains("not a git repository"),
        "{}",
        out.stderr
    );
    assert!(!baton.home.exists(), "nothing was written to BATON_HOME");
}

#[test]
fn run_scan_plans_from_the_scan_and_merges_the_cargo_fmt_fix() {
    if !require_tool("cargo-fmt") || !require_tool("cargo-clippy") {
        return;
    }
    let baton = Baton::new();
    baton.commit_file("Cargo.toml", TINY_MANIFEST, "manifest");
    baton.commit_file("src/lib.rs", "pub fn   double(x:u32)->u32{x*2}\n", "lib");
    baton.commit_file("Cargo.lock", TINY_LOCK, "lock");
    let target = baton.writable_scratch("target");
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    let dry = baton.baton_with_env(baton.path(), &["run", "--scan", "--dry-run"], &env);
    dry.expect_code(OK);
    assert!(dry.stdout.contains("rustfmt-fix"), "{}", dry.stdout);
    assert!(baton.run_ids().is_empty(), "a dry run starts no run");
    let run = baton.baton_with_env(baton.path(), &["run", "--scan"], &env);
    run.expect_code(OK);
    assert!(
        run.stderr.contains("planned as 1 task(s)"),
        "{}",
        run.stderr
    );
    let ids = baton.run_ids();
    assert_eq!(ids.len(), 1);
    let status = baton.status(&ids[0]);
    assert_eq!(status["status"], "completed", "{status:#}");
    let formatted = baton
        .read_at(&baton.integration(&ids[0]), "src/lib.rs")
        .unwrap();
    assert_eq!(formatted, "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n");
}
