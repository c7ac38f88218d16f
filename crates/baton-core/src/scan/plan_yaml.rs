//! Candidate tasks into a plan file (format version 1, see docs/plan.md) that `baton run`
//! accepts: `exec` tasks for the fixers, `agent: auto` tasks for the rest.

use std::fmt::Write as _;

use baton_protocol::scan::{CandidateTask, Fixer};

/// The plan file for `tasks` with the goal `goal`; `None` when there is no task (a plan must
/// have one). Strings are written as JSON strings, which YAML reads as double-quoted scalars,
/// so no path or message can break the document.
pub fn plan_yaml(tasks: &[CandidateTask], goal: &str) -> Option<String> {
    if tasks.is_empty() {
        return None;
    }
    let mut out = String::new();
    out.push_str("# Written by `baton scan`: review it, then `baton run --plan FILE`.\n");
    out.push_str("version: 1\n");
    let _ = writeln!(out, "goal: {}", quote(goal));
    out.push_str("tasks:\n");
    for task in tasks {
        write_task(&mut out, task, tasks);
    }
    Some(out)
}

fn write_task(out: &mut String, task: &CandidateTask, all: &[CandidateTask]) {
    if let Some(reason) = &task.reason {
        let reason: String = reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let _ = writeln!(
            out,
            "  # A person should look at this task before it runs: {reason}"
        );
    }
    let _ = writeln!(out, "  - id: {}", quote(&task.id));
    let _ = writeln!(out, "    title: {}", quote(&task.title));
    let mut claims: Vec<String> = task.files.iter().map(|f| escape_glob(f)).collect();
    match task.fixer {
        Some(fixer) => {
            out.push_str("    agent: exec\n");
            let _ = writeln!(out, "    run: {}", quote(&fix_command(fixer, &task.files)));
            if fixer == Fixer::Clippy {
                // cargo writes Cargo.lock when the repository has none yet.
                claims.push("shared:Cargo.lock".to_owned());
            }
            if fixer == Fixer::Rustfmt
                && let Some(clippy) = all.iter().find(|t| t.fixer == Some(Fixer::Clippy))
            {
                // clippy's fixes may need formatting: cargo fmt goes after them.
                let _ = writeln!(out, "    deps: [{}]", quote(&clippy.id));
            }
        }
        None => {
            out.push_str("    agent: auto\n");
            let _ = writeln!(out, "    complexity: {}", task.complexity.clamp(1, 10));
            let _ = writeln!(out, "    prompt: {}", quote(&prompt(task)));
            // A fixer touching the same file goes first: the agent then sees its fixes.
            let deps: Vec<String> = all
                .iter()
                .filter(|other| {
                    other.fixer.is_some() && other.files.iter().any(|f| task.files.contains(f))
                })
                .map(|other| quote(&other.id))
                .collect();
            if !deps.is_empty() {
                let _ = writeln!(out, "    deps: [{}]", deps.join(", "));
            }
        }
    }
    let claims: Vec<String> = claims.iter().map(|c| quote(c)).collect();
    let _ = writeln!(out, "    claims: [{}]", claims.join(", "));
}

/// The shell command an `exec` task runs to let `fixer` fix what it can.
fn fix_command(fixer: Fixer, files: &[String]) -> String {
    match fixer {
        Fixer::Clippy => "cargo clippy --fix --allow-dirty --allow-staged --quiet".to_owned(),
        Fixer::Rustfmt => "cargo fmt --all".to_owned(),
        Fixer::Ruff => {
            // --exit-zero: findings ruff cannot fix are the agent tasks' business.
            let mut command = "ruff check --fix --exit-zero --".to_owned();
            for file in files {
                command.push(' ');
                command.push_str(&shell_quote(file));
            }
            command
        }
    }
}

fn prompt(task: &CandidateTask) -> String {
    let file = task.files.join(", ");
    let mut text = format!("Resolve these findings in {file}:\n");
    for finding in &task.findings {
        let code = finding
            .code
            .as_deref()
            .map(|code| format!(" {code}"))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "- {}:{} [{}{code}] {}",
            finding.file,
            finding.line,
            finding.kind.label(),
            finding.text
        );
    }
    text.push_str(
        "Where a marker asks for work, do the work and remove the marker; where it only \
         notes something, settle it or turn it into a clear comment. Fix each linter \
         diagnostic in the code. Keep the existing tests passing and change only this file.",
    );
    text
}

/// A double-quoted scalar YAML reads back as `text`.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A claim glob matching exactly the path `path`.
fn escape_glob(path: &str) -> String {
    let mut glob = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            glob.push('\\');
        }
        glob.push(c);
    }
    glob
}

/// `text` as one word for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
