//! Linters' output into findings: `cargo clippy --message-format=json`, `ruff check
//! --output-format=json`, `eslint -f json`, `mypy --output json` (or its text lines) and
//! `cargo fmt --check`.

use baton_protocol::scan::{Finding, FindingKind};
use serde_json::Value;

use super::shorten;

/// Output a linter printed that is not the JSON it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tool} printed output that is not its JSON report: {problem}")]
pub struct LintParseError {
    /// The linter.
    pub tool: &'static str,
    /// What was wrong.
    pub problem: String,
}

/// The diagnostics of `cargo clippy --message-format=json`: each `compiler-message` line of
/// level `warning` or `error` that has a primary span, once (cargo reports a file's lint once
/// per target that compiles it). Other lines (artifacts, build results) are not diagnostics.
/// Paths are as cargo gives them: relative to the workspace root for its own files.
pub fn parse_clippy(stdout: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for line in stdout.lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if record["reason"] != "compiler-message" {
            continue;
        }
        if let Some(finding) = clippy_finding(&record["message"])
            && !found.contains(&finding)
        {
            found.push(finding);
        }
    }
    found
}

fn clippy_finding(message: &Value) -> Option<Finding> {
    let level = message["level"].as_str()?;
    if level != "warning" && level != "error" {
        return None;
    }
    let span = message["spans"]
        .as_array()?
        .iter()
        .find(|span| span["is_primary"] == true)?;
    Some(Finding {
        file: span["file_name"].as_str()?.to_owned(),
        line: u32::try_from(span["line_start"].as_u64()?).unwrap_or(u32::MAX),
        kind: FindingKind::Clippy,
        text: shorten(message["message"].as_str().unwrap_or_default().trim()),
        code: message["code"]["code"].as_str().map(str::to_owned),
        level: Some(level.to_owned()),
        fixable: machine_applicable(message),
    })
}

/// Whether a message or one of its children carries a suggestion rustfix applies by itself.
fn machine_applicable(message: &Value) -> bool {
    let in_spans = message["spans"].as_array().is_some_and(|spans| {
        spans
            .iter()
            .any(|span| span["suggestion_applicability"] == "MachineApplicable")
    });
    in_spans
        || message["children"]
            .as_array()
            .is_some_and(|children| children.iter().any(machine_applicable))
}

/// The diagnostics of `ruff check --output-format=json` (one JSON array). Ruff names files by
/// absolute path; those under `root` are made relative to it. A fix counts as one ruff applies
/// by itself when its applicability is `safe` (`Automatic` in ruff before 0.1.0): `ruff check
/// --fix` leaves unsafe fixes alone.
pub fn parse_ruff(stdout: &str, root: &str) -> Result<Vec<Finding>, LintParseError> {
    let records: Vec<Value> =
        serde_json::from_str(stdout.trim()).map_err(|error| LintParseError {
            tool: "ruff",
            problem: error.to_string(),
        })?;
    let mut found = Vec::new();
    for record in &records {
        let Some(filename) = record["filename"].as_str() else {
            continue;
        };
        let file = relative_to(filename, root);
        let applicability = record["fix"]["applicability"].as_str().unwrap_or_default();
        found.push(Finding {
            file,
            line: line_of(&record["location"]["row"]),
            kind: FindingKind::Ruff,
            text: shorten(record["message"].as_str().unwrap_or_default().trim()),
            code: record["code"].as_str().map(str::to_owned),
            level: Some("warning".to_owned()),
            fixable: applicability.eq_ignore_ascii_case("safe")
                || applicability.eq_ignore_ascii_case("automatic"),
        });
    }
    Ok(found)
}

/// `path` relative to `root` when it lies under it (tools that print absolute paths).
fn relative_to(path: &str, root: &str) -> String {
    let prefix = format!("{}/", root.trim_end_matches('/'));
    path.strip_prefix(&prefix).unwrap_or(path).to_owned()
}

fn line_of(value: &Value) -> u32 {
    u32::try_from(value.as_u64().unwrap_or(1).max(1)).unwrap_or(u32::MAX)
}

/// The diagnostics of `eslint -f json` (one JSON array of files, each with its `messages`).
/// ESLint names files by absolute path; those under `root` are made relative to it. Severity 2
/// is an error, 1 a warning; a message with a `fix` (not only `suggestions`) is one `eslint
/// --fix` applies by itself. A file ESLint could not parse has one message with no `ruleId`.
pub fn parse_eslint(stdout: &str, root: &str) -> Result<Vec<Finding>, LintParseError> {
    let files: Vec<Value> =
        serde_json::from_str(stdout.trim()).map_err(|error| LintParseError {
            tool: "eslint",
            problem: error.to_string(),
        })?;
    let mut found = Vec::new();
    for file in &files {
        let Some(path) = file["filePath"].as_str() else {
            continue;
        };
        let path = relative_to(path, root);
        for message in file["messages"].as_array().into_iter().flatten() {
            let level = if message["severity"].as_u64() == Some(2) {
                "error"
            } else {
                "warning"
            };
            found.push(Finding {
                file: path.clone(),
                line: line_of(&message["line"]),
                kind: FindingKind::Eslint,
                text: shorten(message["message"].as_str().unwrap_or_default().trim()),
                code: message["ruleId"].as_str().map(str::to_owned),
                level: Some(level.to_owned()),
                fixable: message["fix"].is_object(),
            });
        }
    }
    Ok(found)
}

/// The errors of `mypy`: its JSON lines (`--output json`, mypy 1.11 and later: `file`,
/// `line`, `message`, `code`, `severity`) or, from an older mypy, its text lines
/// `file:line[:col]: error: message  [code]`. Notes (`severity` `note`) only explain an
/// error and are dropped, as are summary lines. Paths are as mypy gives them: relative to the
/// directory it ran in.
pub fn parse_mypy(stdout: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    for line in stdout.lines() {
        let line = line.trim_end();
        let finding = if line.starts_with('{') {
            serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|record| mypy_json_finding(&record))
        } else {
            mypy_text_finding(line)
        };
        found.extend(finding);
    }
    found
}

fn mypy_json_finding(record: &Value) -> Option<Finding> {
    let severity = record["severity"].as_str()?;
    if severity == "note" {
        return None;
    }
    Some(Finding {
        file: record["file"].as_str()?.to_owned(),
        line: line_of(&record["line"]),
        kind: FindingKind::Mypy,
        text: shorten(record["message"].as_str().unwrap_or_default().trim()),
        code: record["code"].as_str().map(str::to_owned),
        level: Some(severity.to_owned()),
        fixable: false,
    })
}

/// `app/calc.py:5:17: error: Argument 2 ... "int"  [arg-type]` (the column is optional).
fn mypy_text_finding(line: &str) -> Option<Finding> {
    let (location, rest) = line.split_once(": error: ")?;
    let mut parts = location.split(':');
    let file = parts.next()?.to_owned();
    let line_number: u32 = parts.next()?.parse().ok()?;
    let (message, code) = match rest.trim_end().strip_suffix(']') {
        Some(head) => match head.rsplit_once("  [") {
            Some((message, code)) => (message, Some(code.to_owned())),
            None => (rest, None),
        },
        None => (rest, None),
    };
    Some(Finding {
        file,
        line: line_number.max(1),
        kind: FindingKind::Mypy,
        text: shorten(message.trim()),
        code,
        level: Some("error".to_owned()),
        fixable: false,
    })
}

/// The files `cargo fmt --check` would reformat: each `Diff in FILE:LINE:` (rustfmt 1.5 and
/// later; `Diff in FILE at line LINE:` before) once per file, at its first differing line.
/// rustfmt names files by absolute path; those under `root` are made relative to it.
pub fn parse_rustfmt_check(stdout: &str, root: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.trim_end().strip_prefix("Diff in ") else {
            continue;
        };
        let Some(rest) = rest.strip_suffix(':') else {
            continue;
        };
        let (path, number) = match rest.rsplit_once(" at line ") {
            Some(split) => split,
            None => match rest.rsplit_once(':') {
                Some(split) => split,
                None => continue,
            },
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        let file = relative_to(path, root);
        if found.iter().any(|f| f.file == file) {
            continue;
        }
        found.push(Finding {
            file,
            line: number.max(1),
            kind: FindingKind::Rustfmt,
            text: "not formatted as cargo fmt formats it".to_owned(),
            code: None,
            level: Some("warning".to_owned()),
            fixable: true,
        });
    }
    found
}
