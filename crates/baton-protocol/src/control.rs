//! The commands a person gives a run or one of its tasks (`baton pause`, `skip`, `retry`,
//! ...). They are wire types so that every frontend (the CLI today, the server next) sends the
//! same thing; the engine validates each against the state machines and records it, with who
//! and why, in the run's event log.

use crate::{RunId, TaskId};
use serde::{Deserialize, Serialize};

/// One command on a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Control {
    /// Start nothing new; the run stops once its running attempts and merges have ended.
    Pause,
    /// Undo a pause: a live engine goes on, a stopped run is driven again.
    Resume,
    /// Do not do the task: nothing of it is integrated and its dependents are skipped too.
    Skip { task: TaskId },
    /// Give a failed, `needs_human` or skipped task another attempt, optionally on another
    /// agent or with another prompt.
    Retry {
        task: TaskId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
    },
    /// Run the task's next attempts on another agent.
    Reassign { task: TaskId, agent: String },
    /// Declare the task done without integrating anything of it; its dependents go ahead.
    ForceComplete { task: TaskId },
    /// Start the task over: pending, a fresh set of attempts, no agent or prompt override.
    Reset { task: TaskId },
}

impl Control {
    /// The command's name, as `baton` spells it and events record it.
    pub fn name(&self) -> &'static str {
        match self {
            Control::Pause => "pause",
            Control::Resume => "resume",
            Control::Skip { .. } => "skip",
            Control::Retry { .. } => "retry",
            Control::Reassign { .. } => "reassign",
            Control::ForceComplete { .. } => "force-complete",
            Control::Reset { .. } => "reset",
        }
    }

    /// The task the command is about (`None` for the run's own commands).
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Control::Pause | Control::Resume => None,
            Control::Skip { task }
            | Control::Retry { task, .. }
            | Control::Reassign { task, .. }
            | Control::ForceComplete { task }
            | Control::Reset { task } => Some(task),
        }
    }
}

/// A command with who gave it and why, as the engine receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRequest {
    pub run: RunId,
    #[serde(flatten)]
    pub control: Control,
    /// Who gave it (the OS user for the CLI).
    pub who: String,
    /// Why, when given (`force-complete` requires it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_through_json_with_its_command_tag() {
        let request = ControlRequest {
            run: RunId::new("r1"),
            control: Control::Retry {
                task: TaskId::new("lexer"),
                agent: Some("codex".into()),
                prompt: None,
            },
            who: "ada".into(),
            why: Some("flaky model".into()),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.contains(r#""command":"retry""#), "{text}");
        assert!(!text.contains("prompt"), "{text}");
        let back: ControlRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, request);
        assert_eq!(back.control.name(), "retry");
        assert_eq!(back.control.task(), Some(&TaskId::new("lexer")));
    }
}
