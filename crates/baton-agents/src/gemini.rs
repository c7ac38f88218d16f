//! Gemini CLI: `gemini -p PROMPT --output-format stream-json --yolo -m MODEL`, with
//! `GEMINI_CLI_TRUST_WORKSPACE=true` (otherwise yolo mode is dropped in an untrusted folder).
//! Events: `init`, `message` (assistant text arrives in `delta` pieces), `tool_use`,
//! `tool_result`, `error`, and a final `result` with `stats`. Exit codes: 41 auth, 42 bad input,
//! 53 turn limit.

use crate::adapter::{
    AgentAdapter, AgentInvocation, ExitClass, StreamDecoder, UsageReporting, classify_by_events,
};
use crate::limits::classify_error;
use crate::wire::{at, bounded, content_text, parse_line, str_at, u64_at, unknown};
use baton_exec::CommandSpec;
use baton_protocol::{AgentEvent, FileChangeKind, Usage};
use serde_json::Value;
use std::collections::HashMap;

/// Gemini CLI's exit code for an authentication failure.
pub const EXIT_AUTH: i32 = 41;
/// Gemini CLI's exit code for bad input.
pub const EXIT_INPUT: i32 = 42;
/// Gemini CLI's exit code for reaching the session's turn limit.
pub const EXIT_TURN_LIMIT: i32 = 53;

/// The Gemini CLI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

impl AgentAdapter for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn binary(&self) -> &'static str {
        "gemini"
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
        spec = spec
            .args(invocation.extra_args.iter().cloned())
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true");
        invocation.with_extra_env(spec)
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(GeminiDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensOnly
    }

    fn classify_exit(&self, code: i32, events: &[AgentEvent]) -> ExitClass {
        match code {
            EXIT_AUTH => ExitClass::AuthFailure,
            EXIT_TURN_LIMIT => ExitClass::TurnLimit,
            EXIT_INPUT => ExitClass::AgentError,
            _ => classify_by_events(code, events),
        }
    }
}

/// Reads Gemini CLI's stream-json.
///
/// Assistant text arrives as `delta` pieces; they are joined into one
/// [`AgentEvent::Message`], emitted when anything else arrives or the output ends. The final
/// `result.stats.models` gives tokens per model; each becomes one per-step usage report (so two
/// models add up). `input_tokens` there includes `cached`, which is taken out.
#[derive(Debug, Default)]
pub struct GeminiDecoder {
    /// Assistant text not yet emitted.
    pending: String,
    /// Tool calls seen, by id: name and input.
    calls: HashMap<String, (String, Value)>,
}

impl GeminiDecoder {
    fn flush(&mut self) -> Option<AgentEvent> {
        (!self.pending.is_empty()).then(|| AgentEvent::Message {
            text: std::mem::take(&mut self.pending),
        })
    }

    fn decode_record(&mut self, record: Value) -> Vec<AgentEvent> {
        match str_at(&record, &["type"]) {
            Some("init") => str_at(&record, &["session_id"])
                .map(|id| AgentEvent::Session { id: id.into() })
                .into_iter()
                .collect(),
            Some("message") => Vec::new(),
            Some("tool_use") => {
                let id = str_at(&record, &["tool_id"])
                    .unwrap_or_default()
                    .to_string();
                let name = str_at(&record, &["tool_name"])
                    .unwrap_or_default()
                    .to_string();
                let input = record.get("parameters").cloned().unwrap_or(Value::Null);
                self.calls.insert(id.clone(), (name.clone(), input.clone()));
                vec![AgentEvent::ToolCall { id, name, input }]
            }
            Some("tool_result") => self.tool_result(&record),
            Some("error") => {
                let message = error_message(&record);
                vec![AgentEvent::Error {
                    kind: classify_error(&message, None),
                    message,
                }]
            }
            Some("result") => result(&record),
            _ => vec![unknown(record)],
        }
    }

    fn tool_result(&mut self, record: &Value) -> Vec<AgentEvent> {
        let id = str_at(record, &["tool_id"]).unwrap_or_default().to_string();
        let ok = str_at(record, &["status"]) == Some("success");
        let output = match record.get("output") {
            Some(output) => content_text(Some(output)),
            None => str_at(record, &["error", "message"])
                .unwrap_or_default()
                .into(),
        };
        let mut events = Vec::new();
        let call = self.calls.get(&id);
        if let Some((name, input)) = call {
            if name == "run_shell_command" {
                events.push(AgentEvent::CommandRun {
                    command: str_at(input, &["command"]).unwrap_or_default().into(),
                    exit_code: None,
                    output: bounded(&output),
                });
            }
            if ok
                && matches!(name.as_str(), "write_file" | "replace")
                && let Some(path) = str_at(input, &["file_path"])
            {
                events.push(AgentEvent::FileChange {
                    path: path.into(),
                    kind: FileChangeKind::Modify,
                });
            }
        }
        events.insert(
            0,
            AgentEvent::ToolResult {
                id,
                ok,
                output: bounded(&output),
            },
        );
        events
    }
}

impl StreamDecoder for GeminiDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let record = match parse_line(line) {
            Ok(record) => record,
            Err(event) => return self.flush().into_iter().chain(event).collect(),
        };
        let is_assistant_text = str_at(&record, &["type"]) == Some("message")
            && str_at(&record, &["role"]) == Some("assistant");
        if is_assistant_text {
            let text = str_at(&record, &["content"]).unwrap_or_default();
            let is_delta = record.get("delta").and_then(Value::as_bool) == Some(true);
            if is_delta {
                self.pending.push_str(text);
                return Vec::new();
            }
            let mut events: Vec<AgentEvent> = self.flush().into_iter().collect();
            events.push(AgentEvent::Message { text: text.into() });
            return events;
        }
        let mut events: Vec<AgentEvent> = self.flush().into_iter().collect();
        events.extend(self.decode_record(record));
        events
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        self.flush().into_iter().collect()
    }
}

fn error_message(record: &Value) -> String {
    str_at(record, &["message"])
        .or_else(|| str_at(record, &["error", "message"]))
        .map_or_else(|| record.to_string(), str::to_string)
}

fn result(record: &Value) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    if let Some(stats) = record.get("stats") {
        match stats.get("models").and_then(Value::as_object) {
            Some(models) if !models.is_empty() => {
                for (model, tokens) in models {
                    events.push(AgentEvent::Usage(gemini_usage(tokens, Some(model.clone()))));
                }
            }
            _ => events.push(AgentEvent::Usage(gemini_usage(stats, None))),
        }
    }
    let ok = str_at(record, &["status"]) == Some("success");
    if !ok {
        let message = error_message(record);
        events.push(AgentEvent::Error {
            kind: classify_error(&message, None),
            message,
        });
    }
    events.push(AgentEvent::Result {
        ok,
        text: None,
        turns: None,
    });
    events
}

fn gemini_usage(tokens: &Value, model: Option<String>) -> Usage {
    let cached = u64_at(tokens, &["cached"]);
    Usage {
        input_tokens: u64_at(tokens, &["input_tokens"]).saturating_sub(cached),
        cached_input_tokens: cached,
        cache_write_tokens: 0,
        output_tokens: u64_at(tokens, &["output_tokens"]),
        reasoning_tokens: at(tokens, &["thoughts"])
            .and_then(Value::as_u64)
            .unwrap_or(0),
        cost_usd_micros: None,
        model,
        cumulative: false,
    }
}
