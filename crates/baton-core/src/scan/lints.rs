//! Linters' JSON output into findings: `cargo clippy --message-format=json` and
//! `ruff check --output-format=json`.

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
    let prefix = format!("{}/", root.trim_end_matches('/'));
    let mut found = Vec::new();
    for record in &records {
        let Some(filename) = record["filename"].as_str() else {
            continue;
        };
        let file = filename.strip_prefix(&prefix).unwrap_or(filename);
        let applicability = record["fix"]["applicability"].as_str().unwrap_or_default();
        found.push(Finding {
            file: file.to_owned(),
            line: u32::try_from(record["location"]["row"].as_u64().unwrap_or(1))
                .unwrap_or(u32::MAX),
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
