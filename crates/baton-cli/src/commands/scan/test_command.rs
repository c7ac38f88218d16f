//! `baton scan --tests CMD`: the repository's test command, run in a temporary worktree of
//! HEAD (never in the user's checkout), its failing tests read from its output.

use baton_agents::detect::find_on_path;
use baton_core::scan::{parse_test_failures, rust_fn_line};
use baton_exec::{CommandSpec, EndReason, run_captured};
use baton_git::{Git, LanePool};
use baton_protocol::scan::{Finding, ToolOutcome, ToolRun};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::tools::{STDERR_TAIL_LINES, tail};
use crate::Exit;

/// How long the test command may run.
const TESTS_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// The lane name of the temporary checkout.
const CHECKOUT: &str = "checkout";

/// Checks, before any work, that the program `command` starts with exists: on PATH, or (a
/// path) in the checkout. Leading `NAME=value` words are variables, not the program.
pub(super) fn check_program(command: &str, root: &Path, path: &OsStr) -> Result<(), String> {
    let Some(program) = command.split_whitespace().find(|word| !is_assignment(word)) else {
        return Err("--tests: the command is empty".to_owned());
    };
    let found = if program.contains('/') {
        let candidate = root.join(program);
        candidate.is_file()
    } else {
        find_on_path(program, path).is_some() || is_shell_builtin(program)
    };
    if found {
        Ok(())
    } else {
        Err(format!(
            "--tests {command:?}: the program {program:?} is not on PATH{}",
            if program.contains('/') {
                format!(" nor in {}", root.display())
            } else {
                String::new()
            }
        ))
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_shell_builtin(word: &str) -> bool {
    matches!(word, "cd" | "exec" | "env" | "(" | "{" | "set" | "export")
}

/// Runs `command` with `sh -c` in a temporary detached worktree of the commit checked out at
/// `root` (uncommitted changes are not tested), stderr joined to stdout so that cargo's
/// `Running TARGET` lines stay beside their results, and reads its failing tests. The worktree
/// is removed afterwards.
pub(super) async fn run_tests(
    git: &Git,
    root: &Path,
    command: &str,
    tracked: &BTreeSet<String>,
) -> Result<(ToolRun, Vec<Finding>), Exit> {
    let head = git.head(root).await?;
    let dir = tempfile::Builder::new()
        .prefix("baton-scan-tests-")
        .tempdir()?;
    let pool = LanePool::new(git.clone(), dir.path().to_path_buf());
    let lane = pool.prepare(CHECKOUT, None, &head).await?;
    let spec = CommandSpec::new("sh", &lane.path)
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .deadline(TESTS_DEADLINE);
    let out = run_captured(spec).await;
    let findings = match &out {
        Ok(out) => findings(&out.stdout_text(), &lane.path, tracked),
        Err(_) => (Vec::new(), Vec::new()),
    };
    // Removed whatever happened; a worktree that cannot be removed is pruned by the next
    // `git worktree prune` once its directory (a temporary one) is gone.
    let _ = pool.remove(CHECKOUT).await;
    drop(dir);
    let out = out?;
    let (found, unplaced) = findings;
    let mut run = ToolRun {
        tool: "tests".to_owned(),
        outcome: ToolOutcome::Ran,
        detail: None,
        exit: out.code(),
        stderr_tail: None,
        findings: found.len(),
    };
    let failing = found.len() + unplaced.len();
    let timed_out = matches!(out.status, EndReason::TimedOut { .. });
    if timed_out || (!out.success() && failing == 0) {
        run.outcome = ToolOutcome::Failed;
        run.detail = Some(format!(
            "`{command}` ended: {} and no failing test was read from its output",
            out.status
        ));
        run.stderr_tail = Some(tail(&out.stdout_text(), STDERR_TAIL_LINES));
        return Ok((run, Vec::new()));
    }
    let mut detail = format!("`{command}`: {failing} failing test(s)");
    if !unplaced.is_empty() {
        let _ = write!(detail, "; not in a tracked file: {}", unplaced.join(", "));
    }
    run.detail = Some(detail);
    Ok((run, found))
}

/// The findings of the failing tests in `output`, each at its file and line in the checkout
/// (`checkout`); the names of those whose file is not a tracked one.
fn findings(
    output: &str,
    checkout: &Path,
    tracked: &BTreeSet<String>,
) -> (Vec<Finding>, Vec<String>) {
    let mut found = Vec::new();
    let mut unplaced = Vec::new();
    for test in parse_test_failures(output) {
        let file = test.file.clone().filter(|file| tracked.contains(file));
        let Some(file) = file else {
            unplaced.push(test.name.clone());
            continue;
        };
        let line = test.line.or_else(|| {
            let text = std::fs::read_to_string(checkout.join(&file)).ok()?;
            rust_fn_line(&text, &test.name)
        });
        let finding = test.finding(file, line.unwrap_or(1));
        if !found.contains(&finding) {
            found.push(finding);
        }
    }
    (found, unplaced)
}
