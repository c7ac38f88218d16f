//! `baton scan`: find work in a repository offline, without a model: markers in tracked files,
//! the diagnostics of the linters present (clippy, ruff, eslint, mypy), `cargo fmt --check`'s
//! differences and, with `--tests CMD`, the failing tests, grouped into candidate tasks, shown
//! as a table or JSON, or written as a plan file (which `baton run --scan` runs).

mod test_command;
mod tools;

use super::{print_json, repo_dir};
use crate::cli::ScanArgs;
use crate::{Exit, exit, style};
use baton_core::scan::{MAX_SCANNED_BYTES, find_markers, group_findings, looks_binary, plan_yaml};
use baton_protocol::scan::{CandidateTask, Finding, Fixer, ScanReport, ToolOutcome};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How many findings the table lists under each task.
const FINDINGS_SHOWN: usize = 5;

/// `baton scan`.
pub async fn scan(cli_repo: &Option<PathBuf>, args: &ScanArgs, json: bool) -> Result<u8, Exit> {
    let dir = repo_dir(cli_repo);
    // Before any work: a plan file that cannot be written is bad input, found at once.
    let pending = match &args.plan {
        Some(path) => Some(PendingPlan::create(path, args.force)?),
        None => None,
    };
    let report = collect(&dir, args.tests.as_deref()).await?;
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

/// `baton run --scan`: scans the repository around `cli_repo` and writes the plan of its
/// candidate tasks to a temporary file, which lives as long as the value returned; `None`
/// (said on stderr) when the scan found nothing to do.
pub async fn plan_for_run(
    cli_repo: &Option<PathBuf>,
) -> Result<Option<tempfile::NamedTempFile>, Exit> {
    let Some(yaml) = scan_plan_text(cli_repo).await? else {
        return Ok(None);
    };
    let mut file = tempfile::Builder::new()
        .prefix("baton-scan-plan-")
        .suffix(".yaml")
        .tempfile()?;
    file.write_all(yaml.as_bytes())?;
    file.as_file().sync_all()?;
    Ok(Some(file))
}

/// The plan of what a scan of the repository around `cli_repo` finds, as YAML; `None` (said
/// on stderr) when it found nothing to do.
pub async fn scan_plan_text(cli_repo: &Option<PathBuf>) -> Result<Option<String>, Exit> {
    let report = collect(&repo_dir(cli_repo), None).await?;
    let Some(yaml) = plan_yaml(&report.tasks, &goal(&report)) else {
        eprintln!(
            "baton scan found nothing to do in {} ({} files scanned): nothing to run",
            report.repo, report.files_scanned
        );
        return Ok(None);
    };
    let fixers = report.tasks.iter().filter(|t| t.fixer.is_some()).count();
    eprintln!(
        "baton scan: {} finding(s) in {}, planned as {} task(s) ({} by a fixer, {} for agents)",
        report.findings.len(),
        report.repo,
        report.tasks.len(),
        fixers,
        report.tasks.len() - fixers
    );
    Ok(Some(yaml))
}

/// Scans the checkout `dir` is in: markers, the tools present and, given `tests`, the failing
/// tests of that command.
async fn collect(dir: &Path, tests: Option<&str>) -> Result<ScanReport, Exit> {
    let git = baton_git::Git::discover(dir)
        .await
        .map_err(|error| match error {
            baton_git::GitError::NotARepository { .. } => bad_input(format!(
                "{} is not a git repository (baton scan reads the files git tracks; give one with \
             --repo DIR)",
                dir.display()
            )),
            other => Exit::from(other),
        })?;
    // The checkout the user is in, a linked worktree included (git.root() is the main one).
    let root = git.worktree_top(dir).await?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(command) = tests {
        test_command::check_program(command, &root, &path).map_err(bad_input)?;
    }
    let tracked = git.tracked_files(&root).await?;
    let (files_scanned, mut findings) = {
        let root = root.clone();
        let tracked = tracked.clone();
        tokio::task::spawn_blocking(move || scan_markers(&root, &tracked)).await?
    };
    let tracked: BTreeSet<String> = tracked.into_iter().collect();
    let mut runs = Vec::new();
    for tool in tools::TOOLS {
        let (run, found) = tool.run(&root, &tracked, &path).await?;
        runs.push(run);
        // Diagnostics of files git does not track (dependencies, generated code) are not ours.
        findings.extend(found.into_iter().filter(|f| tracked.contains(&f.file)));
    }
    if let Some(command) = tests {
        let (run, found) = test_command::run_tests(&git, &root, command, &tracked).await?;
        runs.push(run);
        findings.extend(found);
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.kind).cmp(&(&b.file, b.line, b.kind)));
    let tasks = group_findings(&findings);
    Ok(ScanReport {
        repo: root.display().to_string(),
        files_scanned,
        findings,
        tasks,
        tools: runs,
    })
}

/// The goal of a plan made from `report`.
fn goal(report: &ScanReport) -> String {
    let files: BTreeSet<&str> = report.findings.iter().map(|f| f.file.as_str()).collect();
    format!(
        "Resolve what baton scan found: {} finding{} in {} file{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    )
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
        let Some(yaml) = plan_yaml(&report.tasks, &goal(report)) else {
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
            Some(Fixer::Rustfmt) => "cargo fmt".to_owned(),
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
    use baton_protocol::scan::{FindingKind, ToolRun};

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

    use crate::style::strip_colours as plain;

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
