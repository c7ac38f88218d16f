//! The `exec` agent: the task's `run` command, through `sh -c`, in the task's lane.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::wire::unknown_text;
use baton_exec::{CommandSpec, Confinement};
use baton_protocol::{AgentEvent, RunId, TaskId};
use std::path::PathBuf;
use std::time::Duration;

/// Everything an adapter needs to start one attempt of a task.
#[derive(Debug, Clone)]
pub struct AgentRequest {
    /// The run the attempt belongs to.
    pub run: RunId,
    /// The task.
    pub task: TaskId,
    /// The attempt number (1 for the first).
    pub attempt: u32,
    /// The lane's worktree; the agent runs here.
    pub lane_dir: PathBuf,
    /// The task's `run` command.
    pub command: String,
    /// The previous attempt's failure, written to a file, on a retry.
    pub feedback_file: Option<PathBuf>,
    /// Absolute limit of the agent process.
    pub timeout: Duration,
    /// Silence limit (warn at half).
    pub silence: Option<Duration>,
    /// Where every output line is appended.
    pub log_file: PathBuf,
    /// Where the agent may write; `None`: unconfined.
    pub confinement: Option<Confinement>,
}

/// The supervised command of an `exec` agent attempt (the [`Exec`] adapter's command for it).
pub fn exec_command(request: &AgentRequest) -> CommandSpec {
    let mut invocation = AgentInvocation::new(
        request.run.clone(),
        request.task.clone(),
        request.attempt,
        request.lane_dir.clone(),
        String::new(),
    );
    invocation.run_command = Some(request.command.clone());
    invocation.feedback_file = request.feedback_file.clone();
    invocation.timeout = request.timeout;
    invocation.silence = request.silence;
    invocation.log_file = request.log_file.clone();
    invocation.confinement = request.confinement.clone();
    Exec.command(&invocation)
}

/// The `exec` agent as an adapter: the invocation's `run_command` through `sh -c`. Its output
/// is whatever the command prints, kept as [`AgentEvent::Unknown`] text; it reports no usage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exec;

impl AgentAdapter for Exec {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn binary(&self) -> &'static str {
        "sh"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let script = invocation.run_command.clone().unwrap_or_default();
        let spec = invocation
            .base_spec(self.binary())
            .arg("-c")
            .arg(script)
            .args(invocation.extra_args.iter().cloned());
        invocation.with_extra_env(spec)
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(TextLines)
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::Unreported
    }
}

/// Keeps every non-blank line as [`AgentEvent::Unknown`] text.
#[derive(Debug, Default)]
struct TextLines;

impl StreamDecoder for TextLines {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        if line.trim().is_empty() {
            Vec::new()
        } else {
            vec![unknown_text(line)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_exec::{EndReason, ProcessEvent, spawn};
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn an_exec_agent_sees_its_run_task_lane_attempt_and_feedback() {
        let lane = tempfile::tempdir().unwrap();
        let feedback = lane.path().join("feedback.txt");
        std::fs::write(&feedback, "gate test failed").unwrap();
        let request = AgentRequest {
            run: RunId::new("r9"),
            task: TaskId::new("lexer"),
            attempt: 2,
            lane_dir: lane.path().to_path_buf(),
            command: "echo $BATON_RUN_ID $BATON_TASK_ID $BATON_ATTEMPT; \
                      test \"$BATON_LANE_DIR\" = \"$(pwd)\" && echo in-lane; \
                      cat \"$BATON_FEEDBACK_FILE\""
                .into(),
            feedback_file: Some(feedback),
            timeout: Duration::from_secs(10),
            silence: None,
            log_file: lane.path().join("log.txt"),
            confinement: None,
        };
        let mut child = spawn(exec_command(&request), CancellationToken::new()).unwrap();
        let mut lines = Vec::new();
        while let Some(event) = child.next_event().await {
            if let ProcessEvent::Line { text, .. } = event {
                lines.push(text);
            }
        }
        let outcome = child.wait().await;
        assert!(
            matches!(outcome.end, EndReason::Exited { code: 0 }),
            "{:?}",
            outcome.end
        );
        assert_eq!(lines, vec!["r9 lexer 2", "in-lane", "gate test failed"]);
    }
}
