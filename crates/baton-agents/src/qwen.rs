//! Qwen Code: `qwen -p PROMPT --output-format stream-json --yolo`. A fork of Gemini CLI whose
//! stream-json events are shaped like Claude Code's, so the Claude decoder reads them.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::claude::ClaudeDecoder;
use baton_exec::CommandSpec;

/// The Qwen Code adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Qwen;

impl AgentAdapter for Qwen {
    fn name(&self) -> &'static str {
        "qwen"
    }

    fn binary(&self) -> &'static str {
        "qwen"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation.base_spec(self.binary()).args([
            "-p".to_string(),
            invocation.prompt_arg(),
            "--output-format".into(),
            "stream-json".into(),
            "--yolo".into(),
        ]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("-m").arg(model.clone());
        }
        if let Some(turns) = invocation.max_turns {
            spec = spec.arg("--max-session-turns").arg(turns.to_string());
        }
        invocation.with_extra_env(spec.args(invocation.extra_args.iter().cloned()))
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(ClaudeDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensOnly
    }
}
