//! Goose: `goose run -t PROMPT --output-format stream-json`. Events: `message` (a
//! conversation message whose `content` holds `text`, `toolRequest` and `toolResponse` parts),
//! `notification`, `error`, and a final `complete` with the run's `total_tokens`.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::limits::classify_error;
use crate::wire::{at, bounded, content_text, parse_line, str_at, u64_at, unknown};
use baton_exec::CommandSpec;
use baton_protocol::{AgentEvent, FileChangeKind, Usage};
use serde_json::Value;
use std::collections::HashMap;

/// The Goose adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Goose;

impl AgentAdapter for Goose {
    fn name(&self) -> &'static str {
        "goose"
    }

    fn binary(&self) -> &'static str {
        "goose"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation.base_spec(self.binary()).args([
            "run".to_string(),
            "-t".into(),
            invocation.prompt_arg(),
            "--output-format".into(),
            "stream-json".into(),
        ]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("--model").arg(model.clone());
        }
        if let Some(turns) = invocation.max_turns {
            spec = spec.arg("--max-turns").arg(turns.to_string());
        }
        invocation.with_extra_env(spec.args(invocation.extra_args.iter().cloned()))
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(GooseDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensOnly
    }
}

/// Reads Goose's stream-json.
///
/// The final `complete` record gives the run's tokens as a running total. When it gives only
/// `total_tokens` (no input/output split), they are counted as input tokens: a price computed
/// from them is a lower bound, since output tokens cost more.
#[derive(Debug, Default)]
pub struct GooseDecoder {
    /// Tool calls seen, by id: name and arguments.
    calls: HashMap<String, (String, Value)>,
}

impl StreamDecoder for GooseDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let record = match parse_line(line) {
            Ok(record) => record,
            Err(event) => return event.into_iter().collect(),
        };
        match str_at(&record, &["type"]) {
            Some("message") => self.message(&record),
            Some("error") => {
                let message = str_at(&record, &["error"])
                    .or_else(|| str_at(&record, &["error", "message"]))
                    .map_or_else(|| record.to_string(), str::to_string);
                vec![AgentEvent::Error {
                    kind: classify_error(&message, None),
                    message,
                }]
            }
            Some("complete") => complete(&record),
            _ => vec![unknown(record)],
        }
    }
}

impl GooseDecoder {
    fn message(&mut self, record: &Value) -> Vec<AgentEvent> {
        let parts = at(record, &["message", "content"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut events = Vec::new();
        for part in parts {
            match str_at(part, &["type"]) {
                Some("text") => {
                    let text = str_at(part, &["text"]).unwrap_or_default();
                    if str_at(record, &["message", "role"]) != Some("user") && !text.is_empty() {
                        events.push(AgentEvent::Message { text: text.into() });
                    }
                }
                Some("thinking") => events.push(AgentEvent::Reasoning {
                    summary: str_at(part, &["thinking"]).unwrap_or_default().into(),
                }),
                Some("toolRequest") => {
                    let id = str_at(part, &["id"]).unwrap_or_default().to_string();
                    let call = at(part, &["toolCall", "value"])
                        .cloned()
                        .unwrap_or(Value::Null);
                    let name = str_at(&call, &["name"]).unwrap_or_default().to_string();
                    let input = call.get("arguments").cloned().unwrap_or(Value::Null);
                    self.calls.insert(id.clone(), (name.clone(), input.clone()));
                    events.push(AgentEvent::ToolCall { id, name, input });
                }
                Some("toolResponse") => events.extend(self.tool_response(part)),
                _ => events.push(unknown(part.clone())),
            }
        }
        events
    }

    fn tool_response(&self, part: &Value) -> Vec<AgentEvent> {
        let id = str_at(part, &["id"]).unwrap_or_default().to_string();
        let ok = str_at(part, &["toolResult", "status"]) == Some("success");
        let output = bounded(&content_text(
            at(part, &["toolResult", "value"]).or_else(|| at(part, &["toolResult", "error"])),
        ));
        let mut events = vec![AgentEvent::ToolResult {
            id: id.clone(),
            ok,
            output: output.clone(),
        }];
        let Some((name, input)) = self.calls.get(&id) else {
            return events;
        };
        if name.ends_with("__shell") {
            events.push(AgentEvent::CommandRun {
                command: str_at(input, &["command"]).unwrap_or_default().into(),
                exit_code: None,
                output,
            });
        } else if ok && name.ends_with("__text_editor") {
            let command = str_at(input, &["command"]).unwrap_or_default();
            if matches!(command, "write" | "str_replace" | "insert")
                && let Some(path) = str_at(input, &["path"])
            {
                events.push(AgentEvent::FileChange {
                    path: path.into(),
                    kind: FileChangeKind::Modify,
                });
            }
        }
        events
    }
}

fn complete(record: &Value) -> Vec<AgentEvent> {
    let input = u64_at(record, &["input_tokens"]);
    let output = u64_at(record, &["output_tokens"]);
    let total = u64_at(record, &["total_tokens"]);
    let input_tokens = if input == 0 && output == 0 {
        total
    } else {
        input
    };
    vec![
        AgentEvent::Usage(Usage {
            input_tokens,
            output_tokens: output,
            cumulative: true,
            ..Usage::default()
        }),
        AgentEvent::Result {
            ok: true,
            text: None,
            turns: None,
        },
    ]
}
