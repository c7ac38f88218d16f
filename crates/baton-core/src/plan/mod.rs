//! Plans: the validated form of a plan file, and how to get one from YAML text.

#[cfg(test)]
mod agent_tests;
pub(crate) mod diagnostic;
mod parse;
mod problem;
pub(crate) mod spans;
pub(crate) mod suggest;
#[cfg(test)]
mod tests;
mod validate;
pub(crate) use validate::is_valid_id;

pub use diagnostic::{Diagnostic, PlanErrors};
pub use parse::{parse_plan, parse_plan_file};
pub use suggest::did_you_mean;

use crate::claims::ClaimSet;
use crate::dag::Dag;
use baton_protocol::{Priority, TaskId};
use std::fmt;
use std::time::Duration;

/// Lanes when the plan does not say.
pub const DEFAULT_LANES: u32 = 4;
/// A task's absolute time limit when the plan does not say: 30 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A validated plan: every reference resolves, the deps form a DAG, every value is in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What the whole run is for.
    pub goal: String,
    /// Branch to start from; `None` means the caller's current branch.
    pub base: Option<String>,
    /// How many tasks may run at once, at least 1.
    pub lanes: u32,
    /// Named shell commands, in declared order.
    pub gates: Vec<Gate>,
    /// Gate names run on every would-be merge, in order.
    pub merge_gates: Vec<String>,
    /// The tasks, in declared order.
    pub tasks: Vec<TaskSpec>,
    /// `approval_threshold_usd`: AI attempts estimated past it wait for a person.
    pub approval_threshold: Option<crate::Usd>,
    /// `merge: batch`: how many queued items one merge-gate run covers, when the plan says.
    pub merge_batch: Option<crate::BatchPolicy>,
    /// `merge: lanes`: how many batches are gated at once, when the plan says.
    pub merge_lanes: Option<usize>,
}

impl Plan {
    /// The task with this id.
    pub fn task(&self, id: &TaskId) -> Option<&TaskSpec> {
        self.tasks.iter().find(|task| &task.id == id)
    }

    /// The gate with this name.
    pub fn gate(&self, name: &str) -> Option<&Gate> {
        self.gates.iter().find(|gate| gate.name == name)
    }

    /// The dependency graph of the tasks.
    pub fn dag(&self) -> Dag {
        Dag::new(self)
    }
}

/// A named shell command that checks work: passes when it exits with code 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The name tasks and `merge_gates` refer to.
    pub name: String,
    /// The shell command.
    pub command: String,
    /// `expect: fail`: the gate passes only when its command exits non-zero.
    pub expect_failure: bool,
}

/// Which kind of agent does a task's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum AgentKind {
    /// Runs the task's `run` command in a shell.
    #[default]
    Exec,
    /// Claude Code (`claude -p`).
    Claude,
    /// OpenAI Codex CLI (`codex exec`).
    Codex,
    /// Gemini CLI (`gemini -p`).
    Gemini,
    /// Qwen Code (`qwen -p`).
    Qwen,
    /// OpenCode (`opencode run`).
    Opencode,
    /// Aider (`aider --message`).
    Aider,
    /// Goose (`goose run`).
    Goose,
    /// Cursor's agent CLI (`cursor-agent -p`).
    Cursor,
    /// baton picks the agent (routing by capabilities, complexity, health).
    Auto,
}

impl AgentKind {
    /// Every known agent kind.
    pub const ALL: &'static [AgentKind] = &[
        AgentKind::Exec,
        AgentKind::Claude,
        AgentKind::Codex,
        AgentKind::Gemini,
        AgentKind::Qwen,
        AgentKind::Opencode,
        AgentKind::Aider,
        AgentKind::Goose,
        AgentKind::Cursor,
        AgentKind::Auto,
    ];

    /// The name written in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Exec => "exec",
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Gemini => "gemini",
            AgentKind::Qwen => "qwen",
            AgentKind::Opencode => "opencode",
            AgentKind::Aider => "aider",
            AgentKind::Goose => "goose",
            AgentKind::Cursor => "cursor",
            AgentKind::Auto => "auto",
        }
    }

    /// Parses the name written in plans.
    pub fn parse(text: &str) -> Option<AgentKind> {
        AgentKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == text)
    }

    /// Whether the task is an AI agent's (it needs a prompt, not a `run` command).
    pub fn is_ai(self) -> bool {
        self != AgentKind::Exec
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an AI agent's prompt comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Written in the plan.
    Text(String),
    /// A file, relative to the plan file.
    File(String),
}

/// One validated task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Unique id, `[a-z0-9_-]+`.
    pub id: TaskId,
    /// Human title; the id when the plan gives none.
    pub title: String,
    /// Which agent does the work.
    pub agent: AgentKind,
    /// The shell command of an `exec` task (empty for an AI agent's task).
    pub run: String,
    /// What an AI agent is asked to do: the plan's `prompt`, or `prompt_file` as written
    /// (relative to the plan file; the caller reads it).
    pub prompt: Option<Prompt>,
    /// The model the agent uses, when the plan names one.
    pub model: Option<String>,
    /// 1 (trivial) to 10, when the plan says.
    pub complexity: Option<u32>,
    /// Capabilities the agent must have.
    pub capabilities: Vec<String>,
    /// The most turns the agent may take.
    pub max_turns: Option<u32>,
    /// The territory the task may change.
    pub claims: ClaimSet,
    /// Tasks that must be merged before this one starts.
    pub deps: Vec<TaskId>,
    /// Urgency among ready tasks.
    pub priority: Priority,
    /// Expected duration, for critical-path ordering.
    pub estimate: Option<Duration>,
    /// Gate names run in the lane after the task, in order.
    pub gates: Vec<String>,
    /// Absolute limit of the task's process.
    pub timeout: Duration,
    /// Kill the process after this long without output (warn at half).
    pub silence: Option<Duration>,
    /// Extra attempts after a failure.
    pub retries: u32,
    /// The most one attempt may cost (`max_cost`): reserved as its estimate.
    pub max_cost: Option<crate::Usd>,
    /// `risk:` as the plan states it; `[risk]` rules may raise it (see [`crate::risk`]).
    pub risk: Option<baton_protocol::RiskLevel>,
    /// The steps of the work, in order (`steps:`).
    pub steps: Vec<String>,
}

impl TaskSpec {
    /// An `exec` task with every optional field at its default (claims everything).
    pub fn exec(id: &str, run: &str) -> TaskSpec {
        TaskSpec {
            id: TaskId::new(id),
            title: id.to_owned(),
            agent: AgentKind::Exec,
            run: run.to_owned(),
            prompt: None,
            model: None,
            complexity: None,
            capabilities: Vec::new(),
            max_turns: None,
            claims: ClaimSet::everything(),
            deps: Vec::new(),
            priority: Priority::Medium,
            estimate: None,
            gates: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            silence: None,
            retries: 0,
            max_cost: None,
            risk: None,
            steps: Vec::new(),
        }
    }
}
