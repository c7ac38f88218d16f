//! The control commands' command line: a person steering a run or one of its tasks. Each is
//! recorded in the run's event log as `control.applied` with who (the OS user) and why.

use clap::Subcommand;
use std::path::PathBuf;

/// `baton pause|skip|retry|reassign|force-complete|reset`.
#[derive(Debug, Subcommand)]
pub enum ControlCommand {
    /// Pause a running run: no new attempt starts; it stops (status `paused`, exit 4) once
    /// its running attempts and merges have ended. `baton resume RUN` undoes it.
    Pause {
        /// The run id.
        run: String,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
    /// Skip a task that has not run or did not make it (pending, blocked, failed, waiting
    /// for approval or for a person): nothing of it is integrated, and the tasks that depend on
    /// it are skipped with it. A run whose tasks are merged or skipped completes.
    Skip {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
    /// Give a failed, skipped or `needs_human` task another set of attempts (its blocked or
    /// skipped dependents come back with it), optionally on another agent or prompt. A live
    /// run picks it up at once; a stopped one with `baton resume RUN`.
    Retry {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// Run it on this agent from now on (`baton agents` lists them).
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// Give its agent the prompt in FILE instead of the plan's.
        #[arg(long, value_name = "FILE")]
        prompt_file: Option<PathBuf>,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
    /// Run a pending, failed or `needs_human` task's next attempts on another agent.
    Reassign {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// The agent (`baton agents` lists them; `auto` lets routing choose).
        #[arg(long, value_name = "NAME")]
        agent: String,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
    /// Declare a task done without baton integrating anything of it (you did it by hand, or
    /// it is not needed): the tasks that depend on it go ahead.
    ForceComplete {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// Why it counts as done (required; kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: String,
    },
    /// Start a task over: pending, a fresh set of attempts, the plan's agent and prompt (its
    /// blocked or skipped dependents come back with it).
    Reset {
        /// The run id.
        run: String,
        /// The task id.
        task: String,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        why: Option<String>,
    },
}
