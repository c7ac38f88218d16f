//! Workflow templates: a YAML pipeline of phases (analyze, plan, implement, review, verify)
//! that `baton run "GOAL" --template NAME` turns into a plan and the run's review and
//! escalation settings. This module reads and checks a template file; the engine renders its
//! prompts and runs it (see `docs/workflows.md#templates`).

mod check;
mod file;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

pub use crate::plan::{Diagnostic, PlanErrors as TemplateErrors};
pub use check::parse_template;

/// The template format version this baton reads.
pub const TEMPLATE_VERSION: u32 = 1;

/// The templates that come with baton: (name, YAML text).
pub const BUILT_IN: [(&str, &str); 3] = [
    ("default", include_str!("builtin/default.yaml")),
    ("tdd", include_str!("builtin/tdd.yaml")),
    ("fix-lint", include_str!("builtin/fix-lint.yaml")),
];

/// A checked template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `[a-z0-9_-]+`; the file is `NAME.yaml`.
    pub name: String,
    pub description: String,
    /// How many times reviewers may send a task's change back before the rejection counts as
    /// a failure of the task (`[review] max_iterations` for runs of this template).
    pub max_iterations: Option<u32>,
    /// What a task out of attempts becomes.
    pub on_failure: OnFailure,
    /// `iteration: pause`: a review rejection waits for a person (`needs_human`) before the
    /// change goes back to its implementer; `auto` (the default) sends it back at once.
    pub pause_on_rejection: bool,
    /// The run's budget in dollars, unless `baton run --budget` says otherwise.
    pub budget_usd: Option<f64>,
    /// In the order written.
    pub phases: Vec<Phase>,
}

/// What a task that has used its attempts becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// `needs_human`: the run goes on without it and waits for a person (`[escalation]
    /// person = true`).
    Pause,
    /// `failed` (the default).
    Fail,
}

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads the repository and writes notes for later phases (a model, read-only), or runs
    /// the offline scanner (`tool: scan`), whose findings become the tasks.
    Analyzer,
    /// Turns the goal into tasks (the `[planner]`, or the phase's own model).
    Planner,
    /// Does the work: the planned tasks, or (without a planner) one task per phase.
    Implementer,
    ReviewerFunctional,
    ReviewerStyle,
    ReviewerSecurity,
    /// A review by the phase's own criteria (its `prompt`).
    ReviewerCustom,
    /// Runs its checks on the integrated result of every other task.
    Verifier,
}

impl Role {
    /// Every role, in pipeline order.
    pub const ALL: [Role; 8] = [
        Role::Analyzer,
        Role::Planner,
        Role::Implementer,
        Role::ReviewerFunctional,
        Role::ReviewerStyle,
        Role::ReviewerSecurity,
        Role::ReviewerCustom,
        Role::Verifier,
    ];

    /// The name written in templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyzer => "analyzer",
            Role::Planner => "planner",
            Role::Implementer => "implementer",
            Role::ReviewerFunctional => "reviewer_functional",
            Role::ReviewerStyle => "reviewer_style",
            Role::ReviewerSecurity => "reviewer_security",
            Role::ReviewerCustom => "reviewer_custom",
            Role::Verifier => "verifier",
        }
    }

    /// Parses [`Role::as_str`].
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The review this role asks for, for reviewer roles.
    pub fn review_kind(self) -> Option<baton_protocol::ReviewKind> {
        use baton_protocol::ReviewKind;
        match self {
            Role::ReviewerFunctional => Some(ReviewKind::Functional),
            Role::ReviewerStyle => Some(ReviewKind::Style),
            Role::ReviewerSecurity => Some(ReviewKind::Security),
            Role::ReviewerCustom => Some(ReviewKind::Custom),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check a phase's work must pass: a shell command (a minijinja template) that must exit 0,
/// or, with `expect: fail`, must not (the red gate of test-first work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub run: String,
    pub expect_fail: bool,
}

/// A model a phase may call: a provider of `baton providers` with a model, or an agent CLI
/// in its read-only mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub provider: Option<String>,
    pub cli: Option<String>,
    pub model: Option<String>,
}

impl fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.cli, &self.provider) {
            (Some(cli), _) => write!(f, "cli {cli}")?,
            (None, Some(provider)) => write!(f, "provider {provider}")?,
            (None, None) => f.write_str("nobody")?,
        }
        if let Some(model) = &self.model {
            write!(f, " model {model}")?;
        }
        Ok(())
    }
}

/// One phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `[a-z0-9_-]+`, unique in the template.
    pub name: String,
    pub role: Role,
    /// Implementers: the agent (`auto`, `claude`, `exec`, ...).
    pub agent: Option<String>,
    /// Analyzers, planners, reviewers: a provider of `baton providers`.
    pub provider: Option<String>,
    /// Analyzers, planners, reviewers: an agent CLI in its read-only mode (`claude`, `codex`).
    pub cli: Option<String>,
    pub model: Option<String>,
    /// A minijinja template: the phase's instructions.
    pub prompt: Option<String>,
    /// Implementers with `agent: exec` and verifiers: a shell command.
    pub run: Option<String>,
    /// Analyzers: `scan` runs `baton scan` instead of a model.
    pub scan: bool,
    /// Where later prompts find this phase's output: `{{ artifacts.NAME }}`.
    pub output: Option<String>,
    /// Implementers without a planner: what the task may change.
    pub claims: Vec<String>,
    /// The phase is skipped (with a warning) when it cannot run, instead of stopping the run.
    pub can_skip: bool,
    /// Reviewers: a rejection sends the change back to its implementer (true), or fails it.
    pub can_iterate: bool,
    /// Implementers: extra attempts after a failure.
    pub max_retries: Option<u32>,
    pub timeout: Option<Duration>,
    /// The phases that must finish first (default: the phase before it).
    pub after: Vec<String>,
    /// Phases that run at the same time as this one.
    pub parallel_with: Vec<String>,
    /// Checks its work must pass.
    pub success: Vec<Criterion>,
    /// Analyzers, planners, reviewers: who answers when the phase's model call fails.
    pub fallback: Option<ModelChoice>,
    /// Where the phase is written (1-based line and column), for later messages.
    pub line: u32,
    pub column: u32,
}

impl Template {
    /// The phase named `name`.
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|phase| phase.name == name)
    }

    /// The phases of `role`, in order.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Phase> {
        self.phases.iter().filter(move |phase| phase.role == role)
    }

    /// The reviewer phases, in order.
    pub fn reviewers(&self) -> impl Iterator<Item = &Phase> {
        self.phases
            .iter()
            .filter(|phase| phase.role.review_kind().is_some())
    }

    /// Whether the tasks come from a planner or the scanner (else from the implementer
    /// phases themselves).
    pub fn plans(&self) -> bool {
        self.phases
            .iter()
            .any(|phase| phase.role == Role::Planner || phase.scan)
    }

    /// The phases each phase waits for (its `after`, else the one before it unless they run
    /// in parallel), as indices.
    pub fn waits_for(&self) -> Vec<Vec<usize>> {
        check::waits_for_names(&self.phases)
            .into_iter()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|name| self.phases.iter().position(|p| &p.name == name))
                    .collect()
            })
            .collect()
    }
}

/// The built-in template named `name`.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, text)| *text)
}
