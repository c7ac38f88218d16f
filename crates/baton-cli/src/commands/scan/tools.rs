//! The tools `baton scan` runs when they are installed and the repository is their kind: the
//! linters clippy, ruff, eslint and mypy, and `cargo fmt --check`.

use baton_agents::detect::find_on_path;
use baton_core::scan::{
    LintParseError, parse_clippy, parse_eslint, parse_mypy, parse_ruff, parse_rustfmt_check,
};
use baton_exec::{CommandSpec, EndReason, run_captured};
use baton_protocol::scan::{Finding, ToolOutcome, ToolRun};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Exit;

/// How long one tool may run (clippy compiles the crate first).
const TOOL_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// How many stderr lines a failed tool's report keeps.
pub(super) const STDERR_TAIL_LINES: usize = 20;

/// ESLint's configuration files (flat config, then the legacy `.eslintrc*`); a repository with
/// none of them (and no `eslintConfig` in `package.json`) is not linted with ESLint.
const ESLINT_CONFIGS: [&str; 12] = [
    "eslint.config.js",
    "eslint.config.mjs",
    "eslint.config.cjs",
    "eslint.config.ts",
    "eslint.config.mts",
    "eslint.config.cts",
    ".eslintrc",
    ".eslintrc.js",
    ".eslintrc.cjs",
    ".eslintrc.json",
    ".eslintrc.yaml",
    ".eslintrc.yml",
];

/// A tool `baton scan` runs when it is installed and the repository is its kind.
#[derive(Debug, Clone, Copy)]
pub(super) enum Tool {
    Clippy,
    Ruff,
    Eslint,
    Mypy,
    Rustfmt,
}

/// Every tool, in the order they run and are reported.
pub(super) const TOOLS: [Tool; 5] = [
    Tool::Clippy,
    Tool::Ruff,
    Tool::Eslint,
    Tool::Mypy,
    Tool::Rustfmt,
];

/// Whether a tool runs: the program found, or why it is skipped.
enum Ready {
    Run(PathBuf),
    Skip(String),
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Clippy => "clippy",
            Tool::Ruff => "ruff",
            Tool::Eslint => "eslint",
            Tool::Mypy => "mypy",
            Tool::Rustfmt => "rustfmt",
        }
    }

    /// The program to run, or why it is not run.
    fn ready(self, root: &Path, tracked: &BTreeSet<String>, path: &OsStr) -> Ready {
        let has = |file: &str| tracked.contains(file) || root.join(file).is_file();
        let on_path = |program: &str, missing: &str| match find_on_path(program, path) {
            Some(found) => Ready::Run(found),
            None => Ready::Skip(missing.to_owned()),
        };
        match self {
            Tool::Clippy | Tool::Rustfmt => {
                let helper = match self {
                    Tool::Clippy => "cargo-clippy",
                    _ => "cargo-fmt",
                };
                if !has("Cargo.toml") {
                    Ready::Skip("no Cargo.toml at the repository's root".to_owned())
                } else if find_on_path(helper, path).is_none() {
                    Ready::Skip(format!("{helper} is not on PATH"))
                } else {
                    on_path("cargo", "cargo is not on PATH")
                }
            }
            Tool::Ruff | Tool::Mypy => {
                let manifests = ["pyproject.toml", "ruff.toml", ".ruff.toml", "setup.py"];
                let python = manifests.iter().any(|m| tracked.contains(*m))
                    || tracked.iter().any(|f| f.ends_with(".py"));
                if !python {
                    Ready::Skip("no Python files or pyproject.toml/ruff.toml/setup.py".to_owned())
                } else {
                    let program = self.name();
                    on_path(program, &format!("{program} is not on PATH"))
                }
            }
            Tool::Eslint => {
                let configured = ESLINT_CONFIGS.iter().any(|c| has(c))
                    || std::fs::read_to_string(root.join("package.json"))
                        .is_ok_and(|text| text.contains("\"eslintConfig\""));
                let local = root.join("node_modules/.bin/eslint");
                if !configured {
                    Ready::Skip(
                        "no ESLint configuration (eslint.config.* or .eslintrc*)".to_owned(),
                    )
                } else if local.is_file() {
                    Ready::Run(local)
                } else {
                    on_path(
                        "eslint",
                        "eslint is neither in node_modules/.bin nor on PATH",
                    )
                }
            }
        }
    }

    async fn spec(self, program: &Path, root: &Path) -> CommandSpec {
        let program = program.to_string_lossy().into_owned();
        let spec = CommandSpec::new(program.clone(), root);
        let spec = match self {
            Tool::Clippy => spec.args(["clippy", "--message-format=json", "--quiet"]),
            // --no-cache: a scan leaves no .ruff_cache behind.
            Tool::Ruff => spec.args(["check", "--output-format=json", "--no-cache"]),
            Tool::Eslint => spec.args(["-f", "json", "."]),
            // --cache-dir=/dev/null: no .mypy_cache (mypy's documented way to write none).
            Tool::Mypy => {
                let spec = spec.args(["--cache-dir=/dev/null", "--no-color-output"]);
                if mypy_speaks_json(&program, root).await {
                    spec.args(["--output", "json", "."])
                } else {
                    spec.args([
                        "--show-column-numbers",
                        "--show-error-codes",
                        "--no-error-summary",
                        "--no-pretty",
                        ".",
                    ])
                }
            }
            Tool::Rustfmt => spec.args(["fmt", "--all", "--check", "--", "--color", "never"]),
        };
        spec.deadline(TOOL_DEADLINE)
    }

    fn parse(self, stdout: &str, root: &str) -> Result<Vec<Finding>, LintParseError> {
        match self {
            Tool::Clippy => Ok(parse_clippy(stdout)),
            Tool::Ruff => parse_ruff(stdout, root),
            Tool::Eslint => parse_eslint(stdout, root),
            Tool::Mypy => Ok(parse_mypy(stdout)),
            Tool::Rustfmt => Ok(parse_rustfmt_check(stdout, root)),
        }
    }

    /// Whether the tool's exit and output mean its report was read: clippy exits non-zero when
    /// the code does not compile; ruff, eslint, mypy and `cargo fmt --check` exit 1 when they
    /// find something, 2 (or 1 with nothing read, for cargo fmt) when they fail.
    fn understood(self, code: Option<i32>, parsed: &Result<Vec<Finding>, LintParseError>) -> bool {
        let found = parsed.as_ref().is_ok_and(|f| !f.is_empty());
        match self {
            Tool::Clippy => code == Some(0) || found,
            Tool::Ruff | Tool::Eslint => matches!(code, Some(0 | 1)) && parsed.is_ok(),
            Tool::Mypy | Tool::Rustfmt => code == Some(0) || (code == Some(1) && found),
        }
    }

    /// Runs it (or says why not) and reads its findings.
    pub(super) async fn run(
        self,
        root: &Path,
        tracked: &BTreeSet<String>,
        path: &OsStr,
    ) -> Result<(ToolRun, Vec<Finding>), Exit> {
        let mut run = ToolRun {
            tool: self.name().to_owned(),
            outcome: ToolOutcome::Skipped,
            detail: None,
            exit: None,
            stderr_tail: None,
            findings: 0,
        };
        let program = match self.ready(root, tracked, path) {
            Ready::Run(program) => program,
            Ready::Skip(reason) => {
                run.detail = Some(reason);
                return Ok((run, Vec::new()));
            }
        };
        let spec = self.spec(&program, root).await;
        let command = spec.display();
        let out = run_captured(spec).await?;
        run.exit = out.code();
        let parsed = self.parse(&out.stdout_text(), &root.to_string_lossy());
        if matches!(out.status, EndReason::TimedOut { .. }) || !self.understood(out.code(), &parsed)
        {
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

/// Whether the mypy at `program` has `--output json` (mypy 1.11 and later): asks it for its
/// version (`mypy 2.4.1 (compiled: yes)`). An older or unreadable one gets the text flags.
async fn mypy_speaks_json(program: &str, root: &Path) -> bool {
    let spec = CommandSpec::new(program, root)
        .arg("--version")
        .deadline(Duration::from_secs(60));
    let Ok(out) = run_captured(spec).await else {
        return false;
    };
    let text = out.stdout_text();
    let version = text.split_whitespace().nth(1).unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    major > 1 || (major == 1 && minor >= 11)
}

/// The last `lines` lines of `text`.
pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
