//! Codex CLI: `codex exec --json -s workspace-write PROMPT` (stdin must be /dev/null, which
//! baton-exec gives every child), or `-s danger-full-access` when baton's Landlock confinement
//! is the sandbox (see [`sandbox_mode`]). Its JSONL: `thread.started`, `turn.started`,
//! `item.started|updated|completed`, `turn.completed {usage}`, `turn.failed`, `error`. The schema
//! has changed between versions without a version marker, so everything is read leniently.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::limits::classify_error;
use crate::wire::{at, bounded, parse_line, str_at, u64_at, unknown};
use baton_exec::{CommandSpec, landlock_support};
use baton_protocol::{AgentEvent, FileChangeKind, TodoItem, Usage};
use serde_json::Value;

/// The Codex CLI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codex;

impl AgentAdapter for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }

    fn binary(&self) -> &'static str {
        "codex"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let confined = invocation.confinement.is_some() && landlock_support().confines();
        let mut spec = invocation.base_spec(self.binary()).args([
            "exec",
            "--json",
            "-s",
            sandbox_mode(confined),
        ]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("-m").arg(model.clone());
        }
        spec = spec.args(invocation.extra_args.iter().cloned());
        if let Some(session) = &invocation.resume {
            spec = spec.args(self.resume_args(session).unwrap_or_default());
        }
        invocation.with_extra_env(spec.arg(invocation.prompt_arg()))
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(CodexDecoder)
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensOnly
    }

    /// `codex exec [options] resume ID PROMPT`.
    fn resume_args(&self, session: &str) -> Option<Vec<String>> {
        Some(vec!["resume".into(), session.into()])
    }
}

/// Codex's `-s` sandbox for an attempt: `confined` says baton's Landlock confinement is in force.
///
/// Codex's own `workspace-write` sandbox runs every command in bubblewrap with a new user
/// namespace, whose `uid_map` it must write under `/proc`; inside baton's confinement that
/// write is refused ("error building bubblewrap command: Permission denied") and every shell
/// command the model asks for fails. So when baton confines the process, baton's confinement
/// (the lane and Codex's state directories writable, nothing else) is the sandbox and Codex's
/// is off; without it (no Landlock in the kernel, or an unconfined invocation) Codex keeps its
/// own.
pub fn sandbox_mode(confined: bool) -> &'static str {
    if confined {
        "danger-full-access"
    } else {
        "workspace-write"
    }
}

/// Reads `codex exec --json` output.
///
/// `turn.completed.usage` is the thread's running total: it is reported as cumulative, so the
/// last one is the run's usage. `input_tokens` there includes the cached ones; baton's
/// [`Usage::input_tokens`] does not, so the cached count is taken out.
#[derive(Debug, Default)]
pub struct CodexDecoder;

impl StreamDecoder for CodexDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let record = match parse_line(line) {
            Ok(record) => record,
            Err(event) => return event.into_iter().collect(),
        };
        match str_at(&record, &["type"]) {
            Some("thread.started") => str_at(&record, &["thread_id"])
                .map(|id| AgentEvent::Session { id: id.into() })
                .into_iter()
                .collect(),
            Some("turn.started") => Vec::new(),
            Some("item.completed") => match record.get("item") {
                Some(item) => completed_item(item),
                None => vec![unknown(record)],
            },
            Some("item.started" | "item.updated") => match record.get("item") {
                // A plan is worth showing as it changes; other items are reported when done.
                Some(item) if str_at(item, &["type"]) == Some("todo_list") => todo_list(item),
                Some(_) => Vec::new(),
                None => vec![unknown(record)],
            },
            Some("turn.completed") => match record.get("usage") {
                Some(usage) => vec![AgentEvent::Usage(codex_usage(usage))],
                None => Vec::new(),
            },
            Some("turn.failed") => {
                let message = str_at(&record, &["error", "message"])
                    .unwrap_or("turn failed")
                    .to_string();
                vec![
                    AgentEvent::Error {
                        kind: classify_error(&message, None),
                        message: message.clone(),
                    },
                    AgentEvent::Result {
                        ok: false,
                        text: Some(message),
                        turns: None,
                    },
                ]
            }
            Some("error") => {
                let message = str_at(&record, &["message"]).unwrap_or("error").to_string();
                vec![AgentEvent::Error {
                    kind: classify_error(&message, None),
                    message,
                }]
            }
            _ => vec![unknown(record)],
        }
    }
}

fn completed_item(item: &Value) -> Vec<AgentEvent> {
    let text = |key: &str| str_at(item, &[key]).unwrap_or_default().to_string();
    match str_at(item, &["type"]) {
        Some("agent_message") => vec![AgentEvent::Message { text: text("text") }],
        Some("reasoning") => vec![AgentEvent::Reasoning {
            summary: text("text"),
        }],
        Some("command_execution") => vec![AgentEvent::CommandRun {
            command: text("command"),
            exit_code: at(item, &["exit_code"])
                .and_then(Value::as_i64)
                .and_then(|code| i32::try_from(code).ok()),
            output: bounded(str_at(item, &["aggregated_output"]).unwrap_or_default()),
        }],
        Some("file_change") => item
            .get("changes")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|change| AgentEvent::FileChange {
                path: str_at(change, &["path"]).unwrap_or_default().into(),
                kind: match str_at(change, &["kind"]) {
                    Some("add") => FileChangeKind::Add,
                    Some("delete") => FileChangeKind::Delete,
                    _ if change.get("move_path").is_some_and(|p| !p.is_null()) => {
                        FileChangeKind::Rename
                    }
                    _ => FileChangeKind::Modify,
                },
            })
            .collect(),
        Some("mcp_tool_call") => {
            let id = text("id");
            let name = format!("{}/{}", text("server"), text("tool"));
            let input = item.get("arguments").cloned().unwrap_or(Value::Null);
            let failed = item.get("error").is_some_and(|e| !e.is_null())
                || str_at(item, &["status"]) == Some("failed");
            let output = item
                .get("result")
                .or_else(|| item.get("error"))
                .map(Value::to_string)
                .unwrap_or_default();
            vec![
                AgentEvent::ToolCall {
                    id: id.clone(),
                    name,
                    input,
                },
                AgentEvent::ToolResult {
                    id,
                    ok: !failed,
                    output: bounded(&output),
                },
            ]
        }
        Some("todo_list") => todo_list(item),
        Some("error") => {
            let message = text("message");
            vec![AgentEvent::Error {
                kind: classify_error(&message, None),
                message,
            }]
        }
        _ => vec![unknown(item.clone())],
    }
}

fn todo_list(item: &Value) -> Vec<AgentEvent> {
    let items = item
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| TodoItem {
            text: str_at(entry, &["text"]).unwrap_or_default().into(),
            done: entry.get("completed").and_then(Value::as_bool) == Some(true),
        })
        .collect();
    vec![AgentEvent::TodoList { items }]
}

fn codex_usage(usage: &Value) -> Usage {
    let cached = u64_at(usage, &["cached_input_tokens"]);
    Usage {
        input_tokens: u64_at(usage, &["input_tokens"]).saturating_sub(cached),
        cached_input_tokens: cached,
        cache_write_tokens: u64_at(usage, &["cache_write_input_tokens"]),
        output_tokens: u64_at(usage, &["output_tokens"]),
        reasoning_tokens: u64_at(usage, &["reasoning_output_tokens"]),
        cost_usd_micros: None,
        model: None,
        cumulative: true,
    }
}
