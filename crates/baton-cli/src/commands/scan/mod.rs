//! `baton scan`: find work in a repository offline, without a model: markers in tracked files,
//! the diagnostics of the linters present (clippy, ruff), grouped into candidate tasks, shown
//! as a table or JSON, or written as a plan file.

use super::{print_json, repo_dir};
use crate::cli::ScanArgs;
use crate::{Exit, exit, style};
use baton_agents::detect::find_on_path;
use baton_core::scan::{
    MAX_SCANNED_BYTES, find_markers, group_findings, looks_binary, parse_clippy, parse_ruff,
    plan_yaml,
};
use baton_exec::{CommandSpec, EndReason, run_captured};
use baton_protocol::scan::{CandidateTask, Finding, ScanReport, ToolOutcome, ToolRun};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one linter may run (clippy compiles the crate first).
const LINTER_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// How many stderr lines a failed linter's report keeps.
const STDERR_TAIL_LINES: usize = 20;

/// How many findings the table lists under each task.
const FINDINGS_SHOWN: usize = 5;

/// `baton scan`.
pub async fn scan(cli_repo: &Option<PathBuf>, args: &ScanArgs, json: bool) -> Result<u8, Exit> {
    let dir = repo_dir(cli_repo);
    let git = baton_git::Git::discover(&dir)
        .await
        .map_err(|error| match error {
            baton_git::GitError::NotARepository { .. } => bad_input(format!(
                "{} is not a git repository (baton scan reads the files git tracks; give one with \
             --repo DIR)",
                dir.display()
            )),
            other => Exit::from(other),
        })?;
    // Before any work: a plan file that cannot be written is bad input, found at once.
    let pending = match &args.plan {
        Some(path) => Some(PendingPlan::create(path, args.force)?),
        None => None,
    };
    // The checkout the user is in, a linked worktree included (git.root() is the main one).
    let root = git.worktree_top(&dir).await?;
    let tracked = git.tracked_files(&root).await?;
    let (files_scanned, mut findings) = {
        let root = root.clone();
        let tracked = tracked.clone();
        tokio::task::spawn_blocking(move || scan_markers(&root, &tracked)).await?
    };
    let tracked: BTreeSet<String> = tracked.into_iter().collect();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut tools = Vec::new();
    for linter in [Linter::Clippy, Linter::Ruff] {
        let (run, found) = linter.run(&root, &tracked, &path).await?;
        tools.push(run);
        // Diagnostics of files git does not track (dependencies, generated code) are not ours.
        findings.extend(found.into_iter().filter(|f| tracked.contains(&f.file)));
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.kind).cmp(&(&b.file, b.line, b.kind)));
    let tasks = group_findings(&findings);
    let report = ScanReport {
        repo: root.display().to_string(),
        files_scanned,
        findings,
        tasks,
        tools,
    };
    let written = match pending {
        Some(pending) => pending.finish(&report)?,
        None => None,
    };
    if json {
        print_json(&report)?;
    } else {
        print!("{}", render_table(&report));
    }
    if let (Some(path), Some(tasks)) = (&args.plan, written) {
        let path = path.display();
        let plural = if tasks == 1 { "" } else { "s" };
        let line =
            format!("plan with {tasks} task{plural} written to {path} (baton run --plan {path})");
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    } else if let Some(path) = &args.plan {
        eprintln!("nothing found: no plan written to {}", path.display());
    }
    Ok(exit::OK)
}

fn bad_input(message: String) -> Exit {
    Exit {
        code: exit::BAD_INPUT,
        error: anyhow::anyhow!(message),
    }
}

/// Markers in every tracked regular file of at most [`MAX_SCANNED_BYTES`] that is not binary
/// (symbolic links and submodules are not followed). Returns how many files were read.
fn scan_markers(root: &Path, tracked: &[String]) -> (usize, Vec<Finding>) {
    let mut scanned = 0;
    let mut findings = Vec::new();
    for file in tracked {
        let path = root.join(file);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // deleted in the worktree but still in the index
        };
        if !meta.is_file() || meta.len() > MAX_SCANNED_BYTES {
            continue;
        }
        let Ok(content) = std::fs::read(&path) else {
            continue;
        };
        if looks_binary(&content) {
            continue;
        }
        scanned += 1;
        findings.extend(find_markers(file, &String::from_utf8_lossy(&content)));
    }
    (scanned, findings)
}

/// A linter `baton scan` runs when it is installed and the repository is its kind.
#[derive(Debug, Clone, Copy)]
enum Linter {
    Clippy,
    Ruff,
}

impl Linter {
    fn name(self) -> &'static str {
        match self {
            Linter::Clippy => "clippy",
            Linter::Ruff => "ruff",
        }
    }

    /// Why it is not run, if it is not.
    fn skip_reason(
        self,
        root: &Path,
        tracked: &BTreeSet<String>,
        path: &std::ffi::OsStr,
    ) -> Option<String> {
        match self {
            Linter::Clippy => {
                if !tracked.contains("Cargo.toml") && !root.join("Cargo.toml").is_file() {
                    Some("no Cargo.toml at the repository's root".to_owned())
                } else if find_on_path("cargo", path).is_none()
                    || find_on_path("cargo-clippy", path).is_none()
                {
                    Some("cargo clippy is not on PATH".to_owned())
                } else {
                    None
                }
            }
            Linter::Ruff => {
                let manifests = ["pyproject.toml", "ruff.toml", ".ruff.toml", "setup.py"];
                let python = manifests.iter().any(|m| tracked.contains(*m))
                    || tracked.iter().any(|f| f.ends_with(".py"));
                if !python {
                    Some("no Python files or pyproject.toml/ruff.toml/setup.py".to_owned())
                } else if find_on_path("ruff", path).is_none() {
                    Some("ruff is not on PATH".to_owned())
                } else {
                    None
                }
            }
        }
    }

    fn spec(self, root: &Path) -> CommandSpec {
        let spec = match self {
            Linter::Clippy => {
                CommandSpec::new("cargo", root).args(["clippy", "--message-format=json", "--quiet"])
            }
            // --no-cache: a scan leaves no .ruff_cache behind.
            Linter::Ruff => {
                CommandSpec::new("ruff", root).args(["check", "--output-format=json", "--no-cache"])
            }
        };
        spec.deadline(LINTER_DEADLINE)
    }

    /// Runs it (or says why not) and reads its diagnostics.
    async fn run(
        self,
        root: &Path,
        tracked: &BTreeSet<String>,
        path: &std::ffi::OsStr,
    ) -> Result<(ToolRun, Vec<Finding>), Exit> {
        let mut run = ToolRun {
            tool: self.name().to_owned(),
            outcome: ToolOutcome::Skipped,
            detail: None,
            exit: None,
            stderr_tail: None,
            findings: 0,
        };
        if let Some(reason) = self.skip_reason(root, tracked, path) {
            run.detail = Some(reason);
            return Ok((run, Vec::new()));
        }
        let spec = self.spec(root);
        let command = spec.display();
        let out = run_captured(spec).await?;
        run.exit = out.code();
        let stdout = out.stdout_text();
        let parsed = match self {
            Linter::Clippy => Ok(parse_clippy(&stdout)),
            Linter::Ruff => parse_ruff(&stdout, &root.to_string_lossy()),
        };
        // clippy exits non-zero when the code does not compile, and ruff exits 1 when it
        // finds something: what counts is whether its report was read.
        let understood = match self {
            Linter::Clippy => out.success() || parsed.as_ref().is_ok_and(|f| !f.is_empty()),
            Linter::Ruff => matches!(out.code(), Some(0 | 1)) && parsed.is_ok(),
        };
        if matches!(out.status, EndReason::TimedOut { .. }) || !understood {
            run.outcome = ToolOutcome::Failed;
            let why = match parsed {
                Err(error) if matches!(out.code(), Some(0 | 1)) => error.to_string(),
                _ => format!("`{command}` ended: {}", out.status),
            };
            run.detail = Some(why);
            run.stderr_tail = Some(tail(&out.stderr, STDERR_TAIL_LINES));
            return Ok((run, Vec::new()));
        }
        let found = parsed.unwrap_or_default();
        run.outcome = ToolOutcome::Ran;
        run.findings = found.iter().filter(|f| tracked.contains(&f.file)).count();
        Ok((run, found))
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A plan file about to be written: a temporary file beside it, renamed over it at the end,
/// so the file is either whole or absent.
struct PendingPlan {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
    force: bool,
}

impl PendingPlan {
    fn create(path: &Path, force: bool) -> Result<PendingPlan, Exit> {
        if !force && (path.exists() || path.is_symlink()) {
            return Err(bad_input(format!(
                "{} already exists; baton scan does not overwrite it (--force does)",
                path.display()
            )));
        }
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".baton-scan-")
            .suffix(".tmp")
            .tempfile_in(&parent)
            .map_err(|error| {
                bad_input(format!(
                    "cannot write the plan file {}: {error} (in {})",
                    path.display(),
                    parent.display()
                ))
            })?;
        Ok(PendingPlan {
            path: path.to_path_buf(),
            temp,
            force,
        })
    }

    /// Writes the plan of `report`'s tasks; the number of tasks, or `None` when there are
    /// none (nothing is written: a plan needs a task).
    fn finish(self, report: &ScanReport) -> Result<Option<usize>, Exit> {
        let files: BTreeSet<&str> = report.findings.iter().map(|f| f.file.as_str()).collect();
        let goal = format!(
            "Resolve what baton scan found: {} finding{} in {} file{}",
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
        let Some(yaml) = plan_yaml(&report.tasks, &goal) else {
            return Ok(None);
        };
        let origin = self.path.display().to_string();
        // What baton scan writes, baton run must read: checked before it lands.
        baton_core::parse_plan(&yaml, &origin).map_err(|errors| {
            anyhow::anyhow!("baton scan made a plan it cannot read (a bug): {errors}")
        })?;
        let PendingPlan { path, temp, force } = self;
        let cannot = |error: &dyn std::fmt::Display| {
            bad_input(format!(
                "cannot write the plan file {}: {error}",
                path.display()
            ))
        };
        let mut temp = temp;
        temp.write_all(yaml.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| cannot(&e))?;
        let persisted = if force {
            temp.persist(&path)
        } else {
            temp.persist_noclobber(&path)
        };
        persisted.map_err(|e| cannot(&e.error))?;
        Ok(Some(report.tasks.len()))
    }
}

/// The table of candidate tasks, the linters' outcomes and a summary line.
fn render_table(report: &ScanReport) -> String {
    let mut out = String::new();
    let id_width = report
        .tasks
        .iter()
        .map(|t| t.id.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    let file_width = report
        .tasks
        .iter()
        .map(|t| file_column(t).len())
        .chain([4])
        .max()
        .unwrap_or(4)
        .min(40);
    if !report.tasks.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style::bold(&format!(
                "{:<id_width$}  {:<file_width$}  {:>2}  {:<12}  FINDINGS",
                "TASK", "FILE", "CX", "BY"
            ))
        );
    }
    for task in &report.tasks {
        let by = match task.fixer {
            Some(fixer) => format!("{} --fix", fixer.name()),
            None => "agent".to_owned(),
        };
        let flag = if task.needs_person {
            format!("  {}", style::warn("needs a person"))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<file_width$}  {:>2}  {:<12}  {}{flag}",
            task.id,
            file_column(task),
            task.complexity,
            by,
            counts(&task.findings)
        );
        for finding in task.findings.iter().take(FINDINGS_SHOWN) {
            let _ = writeln!(
                out,
                "    {}",
                style::dim(&format!(
                    "{}:{} {}{} {}",
                    finding.file,
                    finding.line,
                    finding.kind.label(),
                    finding
                        .code
                        .as_deref()
                        .map(|code| format!(" {code}"))
                        .unwrap_or_default(),
                    finding.text
                ))
            );
        }
        if task.findings.len() > FINDINGS_SHOWN {
            let more = task.findings.len() - FINDINGS_SHOWN;
            let _ = writeln!(out, "    {}", style::dim(&format!("… and {more} more")));
        }
        if let Some(reason) = &task.reason {
            let _ = writeln!(
                out,
                "    {}",
                style::warn(&format!("a person should look: {reason}"))
            );
        }
    }
    for tool in &report.tools {
        let outcome = match tool.outcome {
            ToolOutcome::Ran => style::good("ran"),
            ToolOutcome::Skipped => style::dim("skipped"),
            ToolOutcome::Failed => style::bad("failed"),
        };
        let detail = match (&tool.outcome, &tool.detail) {
            (ToolOutcome::Ran, _) => format!("{} finding(s)", tool.findings),
            (_, Some(detail)) => detail.clone(),
            (_, None) => String::new(),
        };
        let _ = writeln!(out, "{}: {outcome} ({detail})", tool.tool);
        if let Some(stderr) = tool.stderr_tail.as_deref().filter(|s| !s.is_empty()) {
            for line in stderr.lines() {
                let _ = writeln!(out, "    {}", style::dim(line));
            }
        }
    }
    let files: BTreeSet<&str> = report.findings.iter().map(|f| f.file.as_str()).collect();
    let fixers = report.tasks.iter().filter(|t| t.fixer.is_some()).count();
    let flagged = report.tasks.iter().filter(|t| t.needs_person).count();
    let _ = writeln!(
        out,
        "{} finding(s) in {} file(s) of {} scanned: {} candidate task(s), {} by a fixer, {} for \
         agents, {} flagged for a person",
        report.findings.len(),
        files.len(),
        report.files_scanned,
        report.tasks.len(),
        fixers,
        report.tasks.len() - fixers,
        flagged
    );
    out
}

fn file_column(task: &CandidateTask) -> String {
    match task.files.as_slice() {
        [one] => one.clone(),
        many => format!("{} files", many.len()),
    }
}

/// `TODO×2 clippy×1`: how many findings of each kind.
fn counts(findings: &[Finding]) -> String {
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *by_kind.entry(finding.kind.label()).or_default() += 1;
    }
    by_kind
        .iter()
        .map(|(kind, n)| format!("{kind}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::scan::{FindingKind, Fixer};

    fn finding(file: &str, line: u32, kind: FindingKind, text: &str) -> Finding {
        Finding {
            file: file.to_owned(),
            line,
            kind,
            text: text.to_owned(),
            code: None,
            level: None,
            fixable: false,
        }
    }

    /// Without the colour codes a terminal would add, so the snapshot holds wherever it runs.
    fn plain(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn the_table_shows_each_task_its_findings_the_tools_and_a_summary() {
        let lint = Finding {
            code: Some("clippy::needless_return".to_owned()),
            level: Some("warning".to_owned()),
            fixable: true,
            ..finding(
                "src/lib.rs",
                2,
                FindingKind::Clippy,
                "unneeded `return` statement",
            )
        };
        let mut findings = vec![lint];
        findings.extend((1..=7).map(|n| finding("src/auth.rs", n, FindingKind::Todo, "// TODO")));
        let tasks = baton_core::scan::group_findings(&findings);
        assert_eq!(tasks[0].fixer, Some(Fixer::Clippy));
        let report = ScanReport {
            repo: "/repo".to_owned(),
            files_scanned: 12,
            findings,
            tasks,
            tools: vec![
                ToolRun {
                    tool: "clippy".to_owned(),
                    outcome: ToolOutcome::Ran,
                    detail: None,
                    exit: Some(0),
                    stderr_tail: None,
                    findings: 1,
                },
                ToolRun {
                    tool: "ruff".to_owned(),
                    outcome: ToolOutcome::Failed,
                    detail: Some("`ruff check` ended: exit code 2".to_owned()),
                    exit: Some(2),
                    stderr_tail: Some("error: bad config".to_owned()),
                    findings: 0,
                },
            ],
        };
        insta::assert_snapshot!(plain(&render_table(&report)));
    }
}
