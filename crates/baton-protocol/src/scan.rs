//! What `baton scan` reports: findings in a repository (markers and linter diagnostics), the
//! candidate tasks they group into, and which tools ran. `baton scan --json` prints a
//! [`ScanReport`].

use serde::{Deserialize, Serialize};

/// What kind of thing a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A `TODO` word.
    Todo,
    /// A `FIXME` word.
    Fixme,
    /// An `XXX` word.
    Xxx,
    /// A `HACK` word.
    Hack,
    /// A call of Rust's `todo!` macro.
    TodoMacro,
    /// A call of Rust's `unimplemented!` macro.
    Unimplemented,
    /// Python's `raise NotImplementedError`.
    NotImplementedError,
    /// JavaScript's `throw new Error("not implemented")`.
    NotImplementedThrow,
    /// A diagnostic of `cargo clippy`.
    Clippy,
    /// A diagnostic of `ruff check`.
    Ruff,
    /// A diagnostic of `eslint`.
    Eslint,
    /// An error of `mypy`.
    Mypy,
    /// A file `cargo fmt --check` would reformat (at the first line that differs).
    Rustfmt,
    /// A test the `--tests` command reported failing (its name is the finding's `code`).
    FailingTest,
}

impl FindingKind {
    /// The name shown in tables and prompts.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Todo => "TODO",
            FindingKind::Fixme => "FIXME",
            FindingKind::Xxx => "XXX",
            FindingKind::Hack => "HACK",
            FindingKind::TodoMacro => "todo!",
            FindingKind::Unimplemented => "unimplemented!",
            FindingKind::NotImplementedError => "NotImplementedError",
            FindingKind::NotImplementedThrow => "not-implemented throw",
            FindingKind::Clippy => "clippy",
            FindingKind::Ruff => "ruff",
            FindingKind::Eslint => "eslint",
            FindingKind::Mypy => "mypy",
            FindingKind::Rustfmt => "rustfmt",
            FindingKind::FailingTest => "failing test",
        }
    }
}

/// One thing found at one line of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Repository-relative path, `/` separators.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What was found.
    pub kind: FindingKind,
    /// The line's text (markers) or the diagnostic's message (linters), trimmed.
    pub text: String,
    /// The lint code (`clippy::needless_return`, `F401`, `arg-type`), for linter diagnostics
    /// that have one; a failing test's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The diagnostic's level (`warning`, `error`), for linter diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Whether the linter can fix it by itself (a machine-applicable or safe fix).
    #[serde(default)]
    pub fixable: bool,
}

/// A tool that fixes findings by itself: its candidate task is an `exec` task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fixer {
    /// `cargo clippy --fix`.
    Clippy,
    /// `ruff check --fix`.
    Ruff,
    /// `cargo fmt`.
    Rustfmt,
}

impl Fixer {
    /// The fixer's name, also its candidate task's id prefix.
    pub fn name(self) -> &'static str {
        match self {
            Fixer::Clippy => "clippy",
            Fixer::Ruff => "ruff",
            Fixer::Rustfmt => "rustfmt",
        }
    }
}

/// A unit of work `baton scan` proposes: one file's findings for an agent, or every finding
/// one tool can fix by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateTask {
    /// Unique among the candidates; a valid plan task id.
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The repository-relative files the task may change.
    pub files: Vec<String>,
    /// What it is about.
    pub findings: Vec<Finding>,
    /// 1 (trivial) to 10.
    pub complexity: u8,
    /// The tool that does it by itself; `None`: an AI agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixer: Option<Fixer>,
    /// Whether a person should look at it (a security-sensitive path).
    pub needs_person: bool,
    /// Why a person should look, when one should.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How one linter's run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutcome {
    /// It ran and its output was read.
    Ran,
    /// It was not run (not on PATH, or the repository has no manifest for it).
    Skipped,
    /// It ran but failed: its exit and the tail of its stderr say why.
    Failed,
}

/// One tool's run: a linter, `rustfmt` or the `--tests` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRun {
    /// `clippy`, `ruff`, `eslint`, `mypy`, `rustfmt` or `tests`.
    pub tool: String,
    /// How it went.
    pub outcome: ToolOutcome,
    /// Why it was skipped or failed, or how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Its exit code, when it ran and exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// The last lines of its stderr, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
    /// How many findings it reported.
    pub findings: usize,
}

/// Everything `baton scan` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    /// The repository scanned (its main worktree).
    pub repo: String,
    /// How many tracked files were read for markers.
    pub files_scanned: usize,
    /// Every finding, by file then line.
    pub findings: Vec<Finding>,
    /// The candidate tasks they group into.
    pub tasks: Vec<CandidateTask>,
    /// The linters, `rustfmt` and the `--tests` command: run, skipped or failed.
    pub tools: Vec<ToolRun>,
}
