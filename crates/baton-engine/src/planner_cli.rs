//! Claude Code in plan mode as the planner (`[planner] cli = "claude"`): one planning call runs
//! `claude -p PROMPT --permission-mode plan --output-format stream-json`, read-only in the
//! repository, and its final result is the answer. It speaks the [`Provider`] trait, so the
//! planning loop (checks, one repair request) is the same as for an HTTP provider; a repair
//! request starts a new session whose prompt holds the earlier answer and the problems.

use baton_agents::providers::{
    Completion, CompletionRequest, CompletionStream, Provider, ProviderError, Role, StopReason,
    StreamEvent,
};
use baton_agents::{ClaudeDecoder, decode_all};
use baton_exec::{CommandSpec, run_captured};
use baton_protocol::{AgentEvent, Usage, UsageTotals};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The agent CLIs that can plan, by `[planner] cli` name.
pub const PLANNER_CLIS: &[&str] = &["claude"];

/// How long one planning run of the CLI may take.
const CLI_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Claude Code, run read-only (plan mode) in the repository.
#[derive(Debug, Clone)]
pub(crate) struct ClaudePlanner {
    /// The program (`claude`, or `[agents.claude] command`).
    pub program: String,
    /// The repository root, its working directory.
    pub repo: PathBuf,
    /// `[agents.claude] args` and `env`.
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

const NAME: &str = "claude-code";

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

impl ClaudePlanner {
    async fn call(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let mut spec = CommandSpec::new(self.program.clone(), self.repo.clone())
            .args([
                "-p".to_owned(),
                one_prompt(request),
                "--output-format".into(),
                "stream-json".into(),
                "--verbose".into(),
                "--permission-mode".into(),
                "plan".into(),
                "--append-system-prompt".into(),
                request.system.clone(),
            ])
            .without_git_env()
            .deadline(CLI_DEADLINE);
        if !request.model.is_empty() {
            spec = spec.arg("--model").arg(request.model.clone());
        }
        spec = spec.args(self.args.iter().cloned());
        for (key, value) in &self.env {
            spec = spec.env(key.clone(), value.clone());
        }
        let protocol = |message: String| ProviderError::Protocol {
            provider: NAME.to_owned(),
            message,
        };
        let captured = run_captured(spec)
            .await
            .map_err(|error| ProviderError::Config {
                provider: NAME.to_owned(),
                message: format!(
                    "cannot run {}: {error} (install Claude Code, or set [agents.claude] command)",
                    self.program
                ),
            })?;
        let events = decode_all(&mut ClaudeDecoder::default(), &captured.stdout_text());
        let result = events.iter().rev().find_map(|event| match event {
            AgentEvent::Result { ok, text, .. } => Some((*ok, text.clone())),
            _ => None,
        });
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

impl Provider for ClaudePlanner {
    fn name(&self) -> &str {
        NAME
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
