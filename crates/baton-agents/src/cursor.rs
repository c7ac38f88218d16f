//! Cursor's agent: `cursor-agent -p PROMPT --output-format stream-json --force`. Its events are
//! Claude-shaped (`system`, `user`, `assistant`, `result`) plus `tool_call` records
//! (`started`/`completed`, the tool named by a key such as `shellToolCall`). It reports no
//! tokens and no cost: usage is unknown, never zero.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::claude::ClaudeDecoder;
use crate::wire::{at, bounded, parse_line, str_at};
use baton_exec::CommandSpec;
use baton_protocol::{AgentEvent, FileChangeKind};
use serde_json::Value;

/// The Cursor agent adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cursor;

impl AgentAdapter for Cursor {
    fn name(&self) -> &'static str {
        "cursor"
    }

    fn binary(&self) -> &'static str {
        "cursor-agent"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation.base_spec(self.binary()).args([
            "-p".to_string(),
            invocation.prompt_arg(),
            "--output-format".into(),
            "stream-json".into(),
            "--force".into(),
        ]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("--model").arg(model.clone());
        }
        if let Some(session) = &invocation.resume {
            spec = spec.args(self.resume_args(session).unwrap_or_default());
        }
        invocation.with_extra_env(spec.args(invocation.extra_args.iter().cloned()))
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(CursorDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::Unreported
    }

    fn resume_args(&self, session: &str) -> Option<Vec<String>> {
        Some(vec!["--resume".into(), session.into()])
    }
}

/// Reads Cursor's stream-json: `tool_call` records here, the rest through [`ClaudeDecoder`].
#[derive(Debug, Default)]
pub struct CursorDecoder {
    claude: ClaudeDecoder,
}

impl StreamDecoder for CursorDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let record = match parse_line(line) {
            Ok(record) => record,
            Err(event) => return event.into_iter().collect(),
        };
        if str_at(&record, &["type"]) == Some("tool_call") {
            return tool_call(&record);
        }
        self.claude.decode_record(record)
    }
}

fn tool_call(record: &Value) -> Vec<AgentEvent> {
    let id = str_at(record, &["call_id"]).unwrap_or_default().to_string();
    // `tool_call` holds one key naming the tool: `{"shellToolCall": {"args": .., "result": ..}}`.
    let Some((key, call)) = record
        .get("tool_call")
        .and_then(Value::as_object)
        .and_then(|object| object.iter().next())
    else {
        return vec![AgentEvent::Unknown {
            raw: record.clone(),
        }];
    };
    let name = key.trim_end_matches("ToolCall").to_string();
    let args = call.get("args").cloned().unwrap_or(Value::Null);
    if str_at(record, &["subtype"]) == Some("started") {
        return vec![AgentEvent::ToolCall {
            id,
            name,
            input: args,
        }];
    }
    let success = at(call, &["result", "success"]);
    let output = match success {
        Some(success) => {
            str_at(success, &["stdout"]).map_or_else(|| success.to_string(), str::to_string)
        }
        None => at(call, &["result"])
            .map(Value::to_string)
            .unwrap_or_default(),
    };
    let mut events = vec![AgentEvent::ToolResult {
        id,
        ok: success.is_some(),
        output: bounded(&output),
    }];
    match name.as_str() {
        "shell" => events.push(AgentEvent::CommandRun {
            command: str_at(&args, &["command"]).unwrap_or_default().into(),
            exit_code: success
                .and_then(|s| s.get("exitCode"))
                .and_then(Value::as_i64)
                .and_then(|code| i32::try_from(code).ok()),
            output: bounded(&output),
        }),
        "write" | "edit" if success.is_some() => {
            if let Some(path) = str_at(&args, &["path"]) {
                events.push(AgentEvent::FileChange {
                    path: path.into(),
                    kind: FileChangeKind::Modify,
                });
            }
        }
        "delete" if success.is_some() => {
            if let Some(path) = str_at(&args, &["path"]) {
                events.push(AgentEvent::FileChange {
                    path: path.into(),
                    kind: FileChangeKind::Delete,
                });
            }
        }
        _ => {}
    }
    events
}
