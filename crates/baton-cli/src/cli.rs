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
/// terminal closed), 4 paused for a person (a budget would be exceeded, tasks wait for approval
/// or for a person, `baton pause`, or the planner of `baton run "GOAL"` has open questions:
/// see the message for what to do).
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
    ///
    /// `baton run --plan FILE` runs a plan file; `baton run "GOAL"` asks the [planner] of
    /// baton.toml for a plan first, shows it and asks before running (--yes does not ask).
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
    #[command(flatten)]
    Control(crate::cli_controls::ControlCommand),
    /// Answer the planner's open questions of a run made from a goal (`awaiting_input`): the
    /// answers join the run's goal, so every agent's prompt carries them, and the run starts.
    Answer {
        /// The run id.
        run: String,
        /// The answers, as text.
        #[arg(long, value_name = "TEXT", conflicts_with = "file")]
        text: Option<String>,
        /// The answers, from a file.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Continue a run after a crash, a cancel, a failure or a pause (a live run that is
    /// pausing just goes on).
    Resume {
        /// The run id.
        run: String,
        /// Set the run's budget to USD (dollars) before continuing (a run paused by its
        /// budget continues only with a higher one).
        #[arg(long, value_name = "USD", value_parser = parse_dollars, allow_hyphen_values = true)]
        budget: Option<baton_core::Usd>,
        /// Set the run's token budget to N before continuing.
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        budget_tokens: Option<u64>,
        /// Approve every task of the run: none waits for a person.
        #[arg(long)]
        auto_approve: bool,
    },
    /// List the tasks that wait for approval, in every run or in RUN: why (risk or cost),
    /// since when, and what approving does.
    Approvals {
        /// Only this run.
        run: Option<String>,
    },
    /// Approve a task that waits for approval (high risk or a cost past the threshold: it
    /// starts; medium risk: its gate-passed change is delivered). The run picks it up, or
    /// `baton resume RUN` continues a paused run. Recorded with who (the OS user), when, why.
    Approve {
        /// The run id.
        run: String,
        /// The task id; may be left out when exactly one task of the run waits.
        task: Option<String>,
        /// Run it on this agent instead (a cheaper one, for example; tasks waiting to start).
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// Why, for the audit log.
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
    /// Reject a task that waits for approval: it fails, and its dependents are blocked.
    /// Recorded with who (the OS user), when, why.
    Reject {
        /// The run id.
        run: String,
        /// The task id; may be left out when exactly one task of the run waits.
        task: Option<String>,
        /// Why (kept as the task's failure).
        #[arg(long, value_name = "TEXT")]
        why: String,
    },
    /// Print a run's report: tasks, attempts, gates, merge queue, parallel efficiency.
    Report {
        /// The run id.
        run: String,
        /// Output format (`--json` is the same as `--format json`).
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
    /// Make, check or explain a plan file.
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
    /// Spending limits in dollars and tokens per project and globally, what is spent against
    /// them, and the spending history.
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
    /// The LLM providers baton can call (for planning, review and judging): where each one's
    /// key comes from; `detect` finds local Ollama and LM Studio; `test` makes one call.
    Providers {
        #[command(subcommand)]
        command: Option<ProvidersCommand>,
    },
    /// Provider API keys, stored encrypted in ~/.config/baton/keys.enc (a key in the
    /// environment, such as ANTHROPIC_API_KEY, wins over a stored one).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
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
    /// Find work in the repository, offline and without a model: TODO/FIXME/XXX/HACK,
    /// the todo! and unimplemented! macros, NotImplementedError and the like in the files git tracks,
    /// plus the diagnostics of cargo clippy, ruff, eslint and mypy and the differences of cargo
    /// fmt --check when installed and the repository is theirs, and with --tests CMD the
    /// failing tests; grouped into candidate tasks (one per file, one per fixer), optionally
    /// written as a plan (see docs/scan.md); `baton run --scan` runs that plan.
    ///
    /// Paths such as auth/, login, secrets, migrations/, .github/workflows/, Dockerfile,
    /// terraform/*.tf and infra/ are flagged: a person should look at those changes.
    Scan(ScanArgs),
    /// The start- or end-of-day briefing over every run: what is in progress, what waits for
    /// you (approvals, tasks that need a person, budgets, pauses) with the command for each,
    /// what merged lately, what was spent today and this month against the budgets, and the
    /// next tasks to look at.
    Brief {
        /// Also write the briefing as Markdown to FILE (replaced atomically).
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// How far back merged tasks are listed (e.g. 24h, 3d).
        #[arg(long, value_name = "DURATION", default_value = "24h")]
        since: String,
    },
    /// Track records over every run: `baton stats agents`.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Measure scheduling quality, dispatch latency and lane readiness.
    Bench(BenchArgs),
    /// List artifacts (plans, the planner's raw output, task lists...): a run's, or every one.
    Artifacts {
        /// A run id (default: every artifact, those made before any run included).
        run: Option<String>,
    },
    /// Show or export one artifact.
    Artifact {
        #[command(subcommand)]
        command: ArtifactCommand,
    },
    /// Workflow templates: pipelines of phases (analyze, plan, implement, review, verify)
    /// that `baton run "GOAL" --template NAME` follows; built-in: default, tdd, fix-lint.
    Template {
        #[command(subcommand)]
        command: crate::cli_templates::TemplateCommand,
    },
}

/// `baton artifact` subcommands.
#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Print an artifact's content.
    Show {
        /// The artifact id (see `baton artifacts`).
        id: String,
    },
    /// Edit an artifact in $VISUAL or $EDITOR (default vi) and keep the result as a new
    /// artifact of the same run, task and kind (the original stays). An edited plan must pass
    /// `baton plan validate`; if it does not, nothing is saved and the edit is kept in a file
    /// whose path is printed.
    Edit {
        /// The artifact id (see `baton artifacts`).
        id: String,
    },
    /// Write an artifact's content to a file.
    Export {
        /// The artifact id (see `baton artifacts`).
        id: String,
        /// The file (default: the artifact's name in the current directory).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// `baton scan` flags.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Also write the candidate tasks as a plan file (exec tasks for clippy/ruff fixes,
    /// `agent: auto` tasks for the rest) for `baton run --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Overwrite the --plan file if it exists.
    #[arg(long, requires = "plan")]
    pub force: bool,
    /// Also run the repository's test command (with `sh -c`, in a temporary worktree of
    /// HEAD, never in your checkout) and make each failing test a finding; reads `cargo test`
    /// and pytest output, e.g. --tests 'cargo test --no-fail-fast' or --tests pytest.
    #[arg(long, value_name = "CMD")]
    pub tests: Option<String>,
}

/// `baton run` flags.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// What to do, in a sentence: the [planner] of baton.toml makes the plan (instead of
    /// --plan).
    #[arg(value_name = "GOAL", conflicts_with = "plan")]
    pub goal: Option<String>,
    /// The plan file (YAML, see docs/plan.md).
    #[arg(long, short, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Plan from `baton scan` (see docs/scan.md) and run that plan.
    #[arg(long, conflicts_with_all = ["plan", "goal"])]
    pub scan: bool,
    /// With a GOAL: run the plan without asking (and despite the planner's open questions).
    #[arg(long, short)]
    pub yes: bool,
    /// How many tasks may run at once (overrides the plan's `lanes`).
    #[arg(long, value_name = "N")]
    pub lanes: Option<u32>,
    /// When the run completes, move BRANCH to the result if BRANCH has not moved meanwhile.
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Validate the plan and show the schedule without running anything.
    #[arg(long)]
    pub dry_run: bool,
    /// The most dollars the run may spend on agents (estimates are reserved before each
    /// attempt; a running agent that crosses it is stopped and the run pauses, exit 4).
    #[arg(long, value_name = "USD", value_parser = parse_dollars, allow_hyphen_values = true)]
    pub budget: Option<baton_core::Usd>,
    /// The most tokens (of every kind) the run may use.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub budget_tokens: Option<u64>,
    /// Approve every task: none waits for a person whatever its estimate.
    #[arg(long)]
    pub auto_approve: bool,
    /// Follow the workflow template NAME (`baton template list`) instead of plain planning;
    /// without it, the default template when one is set (`baton template set-default`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["plan", "scan"])]
    pub template: Option<String>,
    /// A value for the template's prompts (`vars.KEY`); test_command and test_paths
    /// (comma-separated) replace what baton detects (`project.test_command`, ...).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var, conflicts_with_all = ["plan", "scan"])]
    pub vars: Vec<(String, String)>,
}

/// `KEY=VALUE` of `--var`.
fn parse_var(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    let key = key.trim();
    let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{key:?} is not a variable name (letters, digits and _)"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// `baton plan` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Ask the [planner] of baton.toml for a plan for GOAL, check it against the repository
    /// and write it; shows the tasks, risks and open questions.
    New {
        /// What to do, in a sentence.
        goal: String,
        /// The plan file to write.
        #[arg(long, short, value_name = "FILE", default_value = "plan.yaml")]
        output: PathBuf,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Edit the plan of a run that has not started a task yet (waiting for answers, for
    /// approval, paused or cancelled before its first attempt) in $VISUAL or $EDITOR; the edit
    /// is checked like `baton run --plan` checks a plan, then becomes the run's plan
    /// (recorded as a `plan-edit` control). `baton resume RUN` runs it.
    Edit {
        /// The run id.
        run: String,
    },
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

/// `baton stats` subcommands.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Each AI agent's attempts per task kind (the task's first capability, or `general`), how
    /// many passed their gates and reviews, and whether the record is long enough (5 attempts)
    /// to steer `agent: auto` among agents of equal cost.
    Agents,
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

/// `baton budget` subcommands.
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Set the daily and/or monthly limits of a scope (`project`: the repository of the current
    /// directory or --repo; `global`: every run). Limits not given stay as they are.
    Set {
        /// `project` or `global` (a run's own limit is `baton run --budget`).
        #[arg(long, value_parser = parse_scope)]
        scope: baton_core::BudgetScope,
        /// The most dollars per UTC day, e.g. 20 or 12.50.
        #[arg(long, value_name = "USD", value_parser = parse_dollars, allow_hyphen_values = true)]
        daily: Option<baton_core::Usd>,
        /// The most dollars per UTC month.
        #[arg(long, value_name = "USD", value_parser = parse_dollars, allow_hyphen_values = true)]
        monthly: Option<baton_core::Usd>,
        /// The most tokens (of every kind) per UTC day, for subscriptions with no price.
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        daily_tokens: Option<u64>,
        /// The most tokens per UTC month.
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        monthly_tokens: Option<u64>,
        /// Remove the scope's limits instead.
        #[arg(long, conflicts_with_all = ["daily", "monthly", "daily_tokens", "monthly_tokens"])]
        clear: bool,
    },
    /// Spent, reserved and limit of every project (this repository) and global limit.
    Status,
    /// Spending per day, agent and model.
    History {
        /// How many days back, today included.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3660))]
        days: u32,
    },
}

/// A dollar amount on the command line: a non-negative decimal.
pub fn parse_dollars(text: &str) -> Result<baton_core::Usd, String> {
    let value: f64 = text
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("{text:?} is not an amount of dollars (write 20 or 12.50)"))?;
    baton_core::Usd::from_dollars(value)
        .ok_or_else(|| format!("{text:?}: a budget is 0 dollars or more"))
}

/// A scope that `baton budget set` can set.
fn parse_scope(text: &str) -> Result<baton_core::BudgetScope, String> {
    match baton_core::BudgetScope::parse(text) {
        Some(baton_core::BudgetScope::Run) => Err(
            "a run's budget is set with `baton run --budget USD` or `baton resume RUN --budget USD`"
                .to_owned(),
        ),
        Some(scope) => Ok(scope),
        None => Err(format!("unknown scope {text:?}; the scopes are project and global")),
    }
}

/// `baton providers` subcommands (none: list the providers).
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Probe Ollama (127.0.0.1:11434, or OLLAMA_HOST) and LM Studio (127.0.0.1:1234) and list
    /// the models each has.
    Detect,
    /// Make one streamed call: print the reply as it comes, then its tokens and cost.
    Test {
        /// The provider (see `baton providers`).
        name: String,
        /// The model (default: a small one for hosted providers, the first model a local
        /// server lists).
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        /// What to ask.
        #[arg(
            long,
            value_name = "TEXT",
            default_value = "Reply with one short sentence: what is 2 + 2?"
        )]
        prompt: String,
        /// The most tokens the reply may have.
        #[arg(long, value_name = "N", default_value_t = 256)]
        max_tokens: u32,
    },
}

/// `baton keys` subcommands. The store's master key is BATON_MASTER_KEY (64 hex characters or
/// base64 of 32 bytes) or, when unset, ~/.config/baton/master.key, generated with mode 0600.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store the key for a provider, read from stdin (`baton keys set anthropic < key.txt`,
    /// or paste it when asked).
    Set {
        /// The provider the key is for (anthropic, openai, gemini, openrouter, deepseek, groq).
        name: String,
    },
    /// The providers with a stored key and when each was set (never the keys).
    List,
    /// Remove a provider's stored key.
    Remove {
        /// The provider.
        name: String,
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
