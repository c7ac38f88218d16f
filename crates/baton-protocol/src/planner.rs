//! The planner's answer (the JSON schema a planning model fills in) and the artifacts a run
//! keeps (plans, the planner's raw output, task lists, reviews, reports).

use serde::{Deserialize, Serialize};
use std::fmt;

/// What the planner answers: a summary, the tasks, the risks it sees and the questions it
/// could not settle alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannerAnswer {
    /// One paragraph: what the plan does.
    #[serde(default)]
    pub summary: String,
    /// The work, one entry per task.
    pub tasks: Vec<PlannedTask>,
    /// What could go wrong, in words.
    #[serde(default)]
    pub risks: Vec<String>,
    /// What the planner needs a person to decide before the work starts.
    #[serde(default)]
    pub open_questions: Vec<String>,
}

/// One task of a planner's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedTask {
    /// `[a-z0-9_-]+`, unique within the answer.
    pub id: String,
    /// A short human title.
    #[serde(default)]
    pub title: String,
    /// What the agent is asked to do.
    pub prompt: String,
    /// Globs of the files the task may change (`shared:GLOB` for a shared claim).
    #[serde(default)]
    pub claims: Vec<String>,
    /// Ids of tasks that must be merged first.
    #[serde(default)]
    pub deps: Vec<String>,
    /// `high`, `medium` or `low`.
    #[serde(default = "medium")]
    pub priority: String,
    /// How hard the task is, 1 (trivial) to 10.
    pub complexity: u32,
    /// `low`, `medium` or `high`: how much harm a wrong change could do.
    #[serde(default = "medium")]
    pub risk: String,
    /// Capabilities the agent must have, for routing.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Shell commands that must pass when the task is done.
    #[serde(default)]
    pub checks: Vec<String>,
    /// The steps of the work, in order (the task's checklist).
    #[serde(default)]
    pub steps: Vec<String>,
}

fn medium() -> String {
    "medium".to_owned()
}

/// What kind of thing an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A plan file (YAML, format version 1).
    Plan,
    /// A planner's raw reply (kept when it could not be used).
    PlannerOutput,
    /// The planner's structured answer (JSON): tasks with risk and checks, risks, questions.
    TaskList,
    /// A reviewer's report.
    Review,
    /// A diff.
    Diff,
    /// A report.
    Report,
    /// A person's answers to the planner's open questions.
    Answers,
    /// The workflow template a run follows, with the settings it gave the run (JSON).
    Template,
    /// What a template's analyzer phase wrote about the repository.
    Analysis,
}

impl ArtifactKind {
    /// Every kind, in the order docs list them.
    pub const ALL: [ArtifactKind; 9] = [
        ArtifactKind::Plan,
        ArtifactKind::PlannerOutput,
        ArtifactKind::TaskList,
        ArtifactKind::Review,
        ArtifactKind::Diff,
        ArtifactKind::Report,
        ArtifactKind::Answers,
        ArtifactKind::Template,
        ArtifactKind::Analysis,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Plan => "plan",
            ArtifactKind::PlannerOutput => "planner_output",
            ArtifactKind::TaskList => "task_list",
            ArtifactKind::Review => "review",
            ArtifactKind::Diff => "diff",
            ArtifactKind::Report => "report",
            ArtifactKind::Answers => "answers",
            ArtifactKind::Template => "template",
            ArtifactKind::Analysis => "analysis",
        }
    }

    /// The kind named `text`, if any.
    pub fn parse(text: &str) -> Option<ArtifactKind> {
        ArtifactKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The file extension its content is written with.
    pub fn extension(self) -> &'static str {
        match self {
            ArtifactKind::Plan => "yaml",
            ArtifactKind::TaskList | ArtifactKind::Template => "json",
            ArtifactKind::Diff => "diff",
            ArtifactKind::Review
            | ArtifactKind::Report
            | ArtifactKind::Answers
            | ArtifactKind::Analysis => "md",
            ArtifactKind::PlannerOutput => "txt",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An artifact as frontends show it (`baton artifacts --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactView {
    /// `art-...`, unique.
    pub id: String,
    /// The run it belongs to; `None` for one made before any run (`baton plan new`).
    pub run_id: Option<String>,
    /// The task it is about, if one.
    pub task_id: Option<String>,
    pub kind: ArtifactKind,
    /// A short name (`plan.yaml`, `planner-output-2.txt`).
    pub name: String,
    /// The file its content was written to.
    pub path: String,
    /// Bytes of content.
    pub size: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
}
