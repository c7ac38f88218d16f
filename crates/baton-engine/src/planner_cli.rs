//! An agent CLI in its read-only mode as the planner or a reviewer (`cli = "claude"` or
//! `"codex"`): one call runs `claude -p PROMPT --permission-mode plan --output-format
//! stream-json`, or `codex exec --json -s read-only PROMPT`, in the repository, and its final
//! answer is the reply. It speaks the [`Provider`] trait, so the planning loop (checks, one
//! repair request) and the reviews are the same as for an HTTP provider; a repair request
//! starts a new session whose prompt holds the earlier answer and the problems.

use baton_agents::providers::{
    Completion, CompletionRequest, CompletionStream, Provider, ProviderError, Role, StopReason,
    StreamEvent,
};
use baton_agents::{ClaudeDecoder, CodexDecoder, decode_all};
use baton_exec::{CommandSpec, run_captured};
use baton_protocol::{AgentEvent, Usage, UsageTotals};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The agent CLIs that can plan and review, by their `cli` name.
pub const PLANNER_CLIS: &[&str] = &["claude", "codex"];

/// How long one planning run of the CLI may take.
const CLI_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// An agent CLI, run read-only in the repository.
#[derive(Debug, Clone)]
pub(crate) struct CliPlanner {
    /// `claude` or `codex` (one of [`PLANNER_CLIS`]).
    pub cli: String,
    /// The program (the CLI's binary, or `[agents.NAME] command`).
    pub program: String,
    /// The repository root, its working directory.
    pub repo: PathBuf,
    /// `[agents.claude] args` and `env`.
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// The conversation as one prompt: Claude Code's `-p` takes one message.
fn one_prompt(request: &CompletionRequest) -> String {
    if let [only] = request.messages.as_slice() {
        return only.text.clone();
    }
    let mut text = String::new();
    for message in &request.messages {
        let who = match message.role {
            Role::User => "Request",
            Role::Assistant => "Your earlier answer",
        };
        text.push_str(&format!("## {who}\n\n{}\n\n", message.text));
    }
    text
}

impl CliPlanner {
    /// The CLI, configured from `[agents.NAME]` (its `command`, `args` and `env`).
    pub fn new(
        cli: &str,
        repo: PathBuf,
        agents: &BTreeMap<String, crate::config_agents::AgentConfig>,
    ) -> CliPlanner {
        let config = agents.get(cli);
        CliPlanner {
            cli: cli.to_owned(),
            program: config
                .and_then(|c| c.command.clone())
                .unwrap_or_else(|| cli.to_owned()),
            repo,
            args: config.map(|c| c.args.clone()).unwrap_or_default(),
            env: config.map(|c| c.env.clone()).unwrap_or_default(),
        }
    }

    /// The name it answers as (`claude-code`, `codex`).
    fn provider_name(&self) -> &'static str {
        if self.cli == "codex" {
            "codex"
        } else {
            "claude-code"
        }
    }

    async fn call(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let codex = self.cli == "codex";
        let mut spec = CommandSpec::new(self.program.clone(), self.repo.clone());
        spec = if codex {
            // Codex has no system prompt flag: the instructions go first in the one prompt.
            let prompt = format!("{}\n\n{}", request.system, one_prompt(request));
            let mut spec = spec.args(["exec", "--json", "-s", "read-only"]);
            if !request.model.is_empty() {
                spec = spec.arg("-m").arg(request.model.clone());
            }
            spec.args(self.args.iter().cloned()).arg(prompt)
        } else {
            let mut spec = spec.args([
                "-p".to_owned(),
                one_prompt(request),
                "--output-format".into(),
                "stream-json".into(),
                "--verbose".into(),
                "--permission-mode".into(),
                "plan".into(),
                "--append-system-prompt".into(),
                request.system.clone(),
            ]);
            if !request.model.is_empty() {
                spec = spec.arg("--model").arg(request.model.clone());
            }
            spec.args(self.args.iter().cloned())
        };
        spec = spec.without_git_env().deadline(CLI_DEADLINE);
        for (key, value) in &self.env {
            spec = spec.env(key.clone(), value.clone());
        }
        let name = self.provider_name();
        let protocol = |message: String| ProviderError::Protocol {
            provider: name.to_owned(),
            message,
        };
        let captured = run_captured(spec)
            .await
            .map_err(|error| ProviderError::Config {
                provider: name.to_owned(),
                message: format!(
                    "cannot run {}: {error} (install it, see `baton agents`, or set \
                     [agents.{}] command)",
                    self.program, self.cli
                ),
            })?;
        let events = if codex {
            decode_all(&mut CodexDecoder, &captured.stdout_text())
        } else {
            decode_all(&mut ClaudeDecoder::default(), &captured.stdout_text())
        };
        // Claude Code ends with a result; Codex's answer is its last message of a run that
        // exited 0.
        let result = if codex {
            let last = events.iter().rev().find_map(|event| match event {
                AgentEvent::Message { text } => Some(text.clone()),
                _ => None,
            });
            Some((captured.status.is_success(), last))
        } else {
            events.iter().rev().find_map(|event| match event {
                AgentEvent::Result { ok, text, .. } => Some((*ok, text.clone())),
                _ => None,
            })
        };
        let text = match result {
            Some((true, Some(text))) => text,
            _ => {
                let stderr: String = captured
                    .stderr
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" | ");
                return Err(protocol(format!(
                    "{} ended ({:?}) without a successful result; stderr: {stderr}",
                    self.program, captured.status
                )));
            }
        };
        let totals = UsageTotals::from_events(&events);
        let usage = Usage {
            input_tokens: totals.input_tokens,
            cached_input_tokens: totals.cached_input_tokens,
            cache_write_tokens: totals.cache_write_tokens,
            output_tokens: totals.output_tokens,
            reasoning_tokens: totals.reasoning_tokens,
            cost_usd_micros: totals.cost_usd_micros,
            model: totals.model.clone(),
            cumulative: true,
        };
        Ok(Completion {
            text,
            stop_reason: StopReason::EndTurn,
            model: totals.model.unwrap_or_else(|| request.model.clone()),
            usage,
        })
    }
}

impl Provider for CliPlanner {
    fn name(&self) -> &str {
        self.provider_name()
    }

    fn stream<'a>(
        &'a self,
        request: &'a CompletionRequest,
    ) -> BoxFuture<'a, Result<CompletionStream, ProviderError>> {
        Box::pin(async move {
            let completion = self.call(request).await?;
            let stream: CompletionStream =
                futures_util::stream::iter([Ok(StreamEvent::Finished(completion))]).boxed();
            Ok(stream)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_agents::providers::Message;

    fn request(messages: Vec<Message>) -> CompletionRequest {
        CompletionRequest {
            model: String::new(),
            system: "schema".to_owned(),
            messages,
            max_output_tokens: 0,
            temperature: None,
        }
    }

    #[test]
    fn a_repair_conversation_becomes_one_prompt_with_the_earlier_answer() {
        let first = request(vec![Message::user("Goal: g")]);
        assert_eq!(one_prompt(&first), "Goal: g");
        let repair = request(vec![
            Message::user("Goal: g"),
            Message::assistant("{\"tasks\": []}"),
            Message::user("Fix: tasks is empty"),
        ]);
        assert_eq!(
            one_prompt(&repair),
            "## Request\n\nGoal: g\n\n## Your earlier answer\n\n{\"tasks\": []}\n\n\
             ## Request\n\nFix: tasks is empty\n\n"
        );
    }
}
