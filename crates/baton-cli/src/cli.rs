//! The command line: every command, its flags and its help.

use crate::bench::BenchArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// baton runs a plan of tasks in parallel git lanes and integrates their results through a
/// gated merge queue, so the integration branch only ever holds commits whose gates passed.
///
/// State lives in $BATON_HOME (default ~/.local/share/baton): the SQLite database baton.db, the
/// lane pools and the logs. Exit codes: 0 completed, 1 run failed, 2 bad input or usage (or a
/// BATON_HOME or baton.db baton cannot use), 3 cancelled (baton cancel, Ctrl-C, SIGTERM, or the
/// terminal closed).
#[derive(Debug, Parser)]
#[command(name = "baton", version, propagate_version = true)]
pub struct Cli {
    /// Print machine-readable JSON (JSONL for streams) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The repository to work on (default: the git repository around the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plan: each task in its own lane, results integrated through the merge queue.
    Run(RunArgs),
    /// List runs, or show one run's tasks.
    Status {
        /// A run id (default: list all runs).
        run: Option<String>,
    },
    /// Print the output log of a task's attempt.
    Logs {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// Which attempt (default: the latest).
        #[arg(long)]
        attempt: Option<u32>,
        /// Keep printing as the attempt writes, until it ends.
        #[arg(long, short)]
        follow: bool,
    },
    /// Print a run's event log as JSONL.
    Events {
        /// The run id.
        run: String,
        /// Only events after this sequence number.
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        since: i64,
        /// Keep printing new events until the run stops.
        #[arg(long, short)]
        follow: bool,
    },
    /// Stop a run (from any terminal) and kill its processes; `baton resume` continues it.
    Cancel {
        /// The run id.
        run: String,
    },
    /// Stop one task's running attempt (not the run); the task then follows its retry rules.
    Stop {
        /// The run id.
        run: String,
        /// The task whose attempt to stop.
        task: String,
    },
    /// Continue a run after a crash, a cancel or a failure.
    Resume {
        /// The run id.
        run: String,
    },
    /// Print a run's report: tasks, attempts, gates, merge queue, parallel efficiency.
    Report {
        /// The run id.
        run: String,
        /// Output format (`--json` is the same as `--format json`).
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
    /// Check or explain a plan file.
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
    /// List the lane pools' worktrees; `baton lanes prune` removes the free ones.
    Lanes {
        #[command(subcommand)]
        command: Option<LanesCommand>,
    },
    /// Print the prompt baton would send an AI agent's task on its first attempt.
    Prompt {
        /// The plan file.
        plan: PathBuf,
        /// The task id.
        task: String,
    },
    /// List every agent CLI baton can drive: found on PATH or not, and how to install it.
    Agents {
        /// Also run each one found (`--version`) to read its version and see that it answers.
        #[arg(long)]
        check: bool,
    },
    /// Show the model prices baton uses to put a dollar figure on tokens, or import LiteLLM's.
    Prices {
        #[command(subcommand)]
        command: PricesCommand,
    },
    /// Run an offline demo on a generated sample repository (about half a minute).
    ///
    /// With --agents, drive every supported agent CLI found on PATH (claude, codex, gemini,
    /// opencode, aider) in parallel lanes against a bundled scripted model server on 127.0.0.1:
    /// no real model, no key, no cost; your HOME and client configuration are not touched.
    Demo {
        /// Create the sample repository here instead of a new temporary directory (kept).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Drive the real agent CLIs on PATH against a scripted model server instead of
        /// running shell codemods.
        #[arg(long)]
        agents: bool,
    },
    /// Measure scheduling quality, dispatch latency and lane readiness.
    Bench(BenchArgs),
}

/// `baton run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan file (YAML, see docs/plan.md).
    #[arg(long, short, value_name = "FILE")]
    pub plan: PathBuf,
    /// How many tasks may run at once (overrides the plan's `lanes`).
    #[arg(long, value_name = "N")]
    pub lanes: Option<u32>,
    /// When the run completes, move BRANCH to the result if BRANCH has not moved meanwhile.
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Validate the plan and show the schedule without running anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `baton plan` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Check a plan file against the repository; errors name file:line:col.
    Validate {
        /// The plan file.
        file: PathBuf,
    },
    /// Show a plan's levels, critical path and lower-bound makespan.
    Show {
        /// The plan file.
        file: PathBuf,
        /// Lanes to compute the lower bound for (default: the plan's).
        #[arg(long, value_name = "N")]
        lanes: Option<u32>,
    },
}

/// `baton prices` subcommands.
#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Every model's price per million tokens (built in, with ~/.config/baton/prices.toml on
    /// top), or one model's.
    Show {
        /// A model name (routes such as `openrouter/...` and dated names are understood).
        model: Option<String>,
    },
    /// Import LiteLLM's `model_prices_and_context_window.json` into ~/.config/baton/prices.toml
    /// (its prices then override the built-in ones).
    Import {
        /// The JSON file.
        file: PathBuf,
    },
}

/// `baton lanes` subcommands.
#[derive(Debug, Subcommand)]
pub enum LanesCommand {
    /// Remove every lane no run holds, and anything in the pools git or baton do not track.
    Prune,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// JSON.
    Json,
}
