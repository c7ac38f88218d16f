//! Findings into candidate tasks: one per tool that fixes findings by itself, one per file for
//! the rest, with a complexity estimate and a flag on security-sensitive paths.

use std::collections::{BTreeMap, BTreeSet};

use baton_protocol::scan::{CandidateTask, Finding, FindingKind, Fixer};

/// The longest task id `group_findings` makes from a path.
const MAX_ID_CHARS: usize = 48;

/// Words of a path (split at anything but letters and digits) that make it security-sensitive.
/// Whole words, so `tokenizer.rs` or `authors.md` are not flagged but `auth/`, `login.py` and
/// `api_token.rs` are.
const SENSITIVE_WORDS: [&str; 20] = [
    "auth",
    "authn",
    "authz",
    "authentication",
    "authorization",
    "login",
    "password",
    "passwords",
    "passwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "crypto",
    "cryptography",
    "payment",
    "payments",
    "billing",
    "oauth",
    "credentials",
];

/// Why a person should look at changes to `path` (repository-relative, `/` separators), or
/// `None` when it is not security-sensitive.
pub fn sensitive_reason(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    if lower.starts_with(".github/workflows/") {
        return Some("a CI workflow (.github/workflows/)".to_owned());
    }
    if dirs.contains(&"migrations") {
        return Some("a database migration (migrations/)".to_owned());
    }
    if dirs.contains(&"infra") {
        return Some("infrastructure (infra/)".to_owned());
    }
    if dirs.contains(&"terraform") && name.ends_with(".tf") {
        return Some("infrastructure (terraform/*.tf)".to_owned());
    }
    if name.starts_with("dockerfile") {
        return Some("a Dockerfile".to_owned());
    }
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| SENSITIVE_WORDS.contains(word))
        .map(|word| format!("a security-sensitive path (\"{word}\")"))
}

/// The candidate tasks of `findings`: first one per fixer whose tool can fix some findings by
/// itself (its files are every file with such a finding), then one per file for the findings
/// left, in path order. Ids are unique and valid plan task ids.
pub fn group_findings(findings: &[Finding]) -> Vec<CandidateTask> {
    let mut tasks = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for fixer in [Fixer::Clippy, Fixer::Ruff, Fixer::Rustfmt] {
        let fixed: Vec<Finding> = findings
            .iter()
            .filter(|f| f.fixable && fixer_of(f.kind) == Some(fixer))
            .cloned()
            .collect();
        if fixed.is_empty() {
            continue;
        }
        let files: BTreeSet<&str> = fixed.iter().map(|f| f.file.as_str()).collect();
        let files: Vec<String> = files.into_iter().map(str::to_owned).collect();
        let id = unique_id(&format!("{}-fix", fixer.name()), &mut taken);
        let title = format!(
            "Apply {}'s own fixes ({} in {} file{})",
            fixer.name(),
            fixed.len(),
            files.len(),
            plural(files.len())
        );
        tasks.push(task(id, title, files, fixed, 1, Some(fixer)));
    }
    let mut by_file: BTreeMap<&str, Vec<Finding>> = BTreeMap::new();
    for finding in findings.iter().filter(|f| !is_fixed_by_tool(f)) {
        by_file
            .entry(finding.file.as_str())
            .or_default()
            .push(finding.clone());
    }
    for (file, mut found) in by_file {
        found.sort_by_key(|f| (f.line, f.kind));
        let id = unique_id(&slug(file), &mut taken);
        let title = format!(
            "Resolve {} finding{} in {file}",
            found.len(),
            plural(found.len())
        );
        let complexity = complexity(&found);
        tasks.push(task(
            id,
            title,
            vec![file.to_owned()],
            found,
            complexity,
            None,
        ));
    }
    tasks
}

fn task(
    id: String,
    title: String,
    files: Vec<String>,
    findings: Vec<Finding>,
    complexity: u8,
    fixer: Option<Fixer>,
) -> CandidateTask {
    let reasons: Vec<String> = files
        .iter()
        .filter_map(|file| sensitive_reason(file).map(|why| format!("{file}: {why}")))
        .collect();
    CandidateTask {
        id,
        title,
        files,
        findings,
        complexity,
        fixer,
        needs_person: !reasons.is_empty(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

fn fixer_of(kind: FindingKind) -> Option<Fixer> {
    match kind {
        FindingKind::Clippy => Some(Fixer::Clippy),
        FindingKind::Ruff => Some(Fixer::Ruff),
        FindingKind::Rustfmt => Some(Fixer::Rustfmt),
        _ => None,
    }
}

fn is_fixed_by_tool(finding: &Finding) -> bool {
    finding.fixable && fixer_of(finding.kind).is_some()
}

/// 1 to 10 from what a file holds: code that is not written yet weighs most, then a failing
/// test, a comment marker, a lint least (counted in half points).
fn complexity(findings: &[Finding]) -> u8 {
    let half_points: usize = findings
        .iter()
        .map(|f| match f.kind {
            FindingKind::TodoMacro
            | FindingKind::Unimplemented
            | FindingKind::NotImplementedError
            | FindingKind::NotImplementedThrow => 6,
            FindingKind::FailingTest => 4,
            FindingKind::Fixme | FindingKind::Hack => 3,
            FindingKind::Todo | FindingKind::Xxx => 2,
            FindingKind::Clippy
            | FindingKind::Ruff
            | FindingKind::Eslint
            | FindingKind::Mypy
            | FindingKind::Rustfmt
                if f.level.as_deref() == Some("error") =>
            {
                2
            }
            FindingKind::Clippy
            | FindingKind::Ruff
            | FindingKind::Eslint
            | FindingKind::Mypy
            | FindingKind::Rustfmt => 1,
        })
        .sum();
    u8::try_from((half_points / 2).clamp(1, 10)).unwrap_or(10)
}

/// A task id from a path: lowercase letters and digits, other runs of characters as one `-`.
fn slug(path: &str) -> String {
    let mut id = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    if id.len() > MAX_ID_CHARS {
        // Keep the end: the file name says more than the first directories.
        id = id[id.len() - MAX_ID_CHARS..].to_owned();
    }
    let id = id.trim_matches('-').to_owned();
    if id.is_empty() { "file".to_owned() } else { id }
}

/// `base`, or `base-2`, `base-3`, ... whichever is not taken yet; marks it taken.
fn unique_id(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut id = base.to_owned();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
