//! OpenCode: `opencode run --format json --auto -m PROVIDER/MODEL PROMPT`. Every record carries a
//! `sessionID` and a `part`: `step_start`, `text`, `reasoning`, `tool_use` (one record per
//! finished tool, call and result together), `step_finish` (tokens and cost of that step),
//! `error`.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::limits::classify_error;
use crate::wire::{at, bounded, dollars_to_micros, parse_line, str_at, u64_at, unknown};
use baton_exec::CommandSpec;
use baton_protocol::{AgentEvent, FileChangeKind, Usage};
use serde_json::Value;

/// The OpenCode adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenCode;

impl AgentAdapter for OpenCode {
    fn name(&self) -> &'static str {
        "opencode"
    }

    fn binary(&self) -> &'static str {
        "opencode"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation
            .base_spec(self.binary())
            // `run` rejects anything needing a permission unless `--auto`, and OpenCode takes a
            // git worktree's lane for a directory outside its project: baton's confinement is
            // the sandbox.
            .args(["run", "--format", "json", "--auto"]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("-m").arg(model.clone());
        }
        if let Some(session) = &invocation.resume {
            spec = spec.args(self.resume_args(session).unwrap_or_default());
        }
        spec = spec
            .args(invocation.extra_args.iter().cloned())
            .arg(invocation.prompt_arg());
        invocation.with_extra_env(spec)
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(OpenCodeDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensCostIfConfigured
    }

    /// `opencode run --session ID`.
    fn resume_args(&self, session: &str) -> Option<Vec<String>> {
        Some(vec!["--session".into(), session.into()])
    }
}

/// Reads `opencode run --format json` output.
///
/// Each `step_finish` reports its own step's tokens and cost, so they are per-step reports that
/// add up. A cost of 0 means "no prices configured" far more often than "free", so a zero cost
/// is reported as unknown and baton prices the tokens.
#[derive(Debug, Default)]
pub struct OpenCodeDecoder {
    /// The session id, once reported.
    session: Option<String>,
}

impl StreamDecoder for OpenCodeDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let record = match parse_line(line) {
            Ok(record) => record,
            Err(event) => return event.into_iter().collect(),
        };
        let mut events = Vec::new();
        if let Some(id) = str_at(&record, &["sessionID"])
            && self.session.as_deref() != Some(id)
        {
            self.session = Some(id.to_string());
            events.push(AgentEvent::Session { id: id.into() });
        }
        let part = record.get("part").cloned().unwrap_or(Value::Null);
        match str_at(&record, &["type"]) {
            Some("step_start") => {}
            Some("text") => events.push(AgentEvent::Message {
                text: str_at(&part, &["text"]).unwrap_or_default().into(),
            }),
            Some("reasoning") => events.push(AgentEvent::Reasoning {
                summary: str_at(&part, &["text"]).unwrap_or_default().into(),
            }),
            Some("tool_use") => events.extend(tool_use(&part)),
            Some("step_finish") => events.push(AgentEvent::Usage(step_usage(&part))),
            Some("error") => {
                let message = str_at(&record, &["error", "data", "message"])
                    .or_else(|| str_at(&record, &["error", "message"]))
                    .or_else(|| str_at(&record, &["error", "name"]))
                    .map_or_else(|| record.to_string(), str::to_string);
                let status = at(&record, &["error", "data", "statusCode"]).and_then(Value::as_u64);
                events.push(AgentEvent::Error {
                    kind: classify_error(&message, status),
                    message,
                });
            }
            _ => events.push(unknown(record)),
        }
        events
    }
}

fn tool_use(part: &Value) -> Vec<AgentEvent> {
    let id = str_at(part, &["callID"]).unwrap_or_default().to_string();
    let name = str_at(part, &["tool"]).unwrap_or_default().to_string();
    let state = part.get("state").cloned().unwrap_or(Value::Null);
    let input = state.get("input").cloned().unwrap_or(Value::Null);
    let ok = str_at(&state, &["status"]) == Some("completed");
    let output = str_at(&state, &["output"])
        .or_else(|| str_at(&state, &["error"]))
        .unwrap_or_default();
    let mut events = vec![
        AgentEvent::ToolCall {
            id: id.clone(),
            name: name.clone(),
            input: input.clone(),
        },
        AgentEvent::ToolResult {
            id,
            ok,
            output: bounded(output),
        },
    ];
    match name.as_str() {
        "bash" => events.push(AgentEvent::CommandRun {
            command: str_at(&input, &["command"]).unwrap_or_default().into(),
            exit_code: at(&state, &["metadata", "exit"])
                .and_then(Value::as_i64)
                .and_then(|code| i32::try_from(code).ok()),
            output: bounded(output),
        }),
        "write" | "edit" | "patch" if ok => {
            let path =
                str_at(&input, &["filePath"]).or_else(|| str_at(&state, &["metadata", "filepath"]));
            if let Some(path) = path {
                let existed = at(&state, &["metadata", "exists"]).and_then(Value::as_bool);
                let kind = if name == "write" && existed == Some(false) {
                    FileChangeKind::Add
                } else {
                    FileChangeKind::Modify
                };
                events.push(AgentEvent::FileChange {
                    path: path.into(),
                    kind,
                });
            }
        }
        _ => {}
    }
    events
}

fn step_usage(part: &Value) -> Usage {
    let cost = at(part, &["cost"])
        .and_then(Value::as_f64)
        .filter(|cost| *cost > 0.0)
        .and_then(dollars_to_micros);
    Usage {
        input_tokens: u64_at(part, &["tokens", "input"]),
        cached_input_tokens: u64_at(part, &["tokens", "cache", "read"]),
        cache_write_tokens: u64_at(part, &["tokens", "cache", "write"]),
        output_tokens: u64_at(part, &["tokens", "output"]),
        reasoning_tokens: u64_at(part, &["tokens", "reasoning"]),
        cost_usd_micros: cost,
        model: None,
        cumulative: false,
    }
}
