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
    assert_eq!(names, ["clippy", "ruff"]);
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
    if !on_path("cargo-clippy") {
        eprintln!("skipped: cargo clippy is not on PATH");
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
    if !on_path("ruff") {
        eprintln!("skipped: ruff is not on PATH (its JSON is tested in baton-core's scan tests)");
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
    assert_eq!(finding["code"], "F401");
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
