//! Claude Code: `claude -p PROMPT --output-format stream-json --verbose
//! --dangerously-skip-permissions`. Its stream-json events (`system`, `assistant`, `user`,
//! `result`) are also what Qwen Code and, mostly, Cursor's agent print, so [`ClaudeDecoder`]
//! serves them too.

use crate::adapter::{AgentAdapter, AgentInvocation, StreamDecoder, UsageReporting};
use crate::limits::classify_error;
use crate::wire::{
    at, bounded, content_text, dollars_to_micros, parse_line, str_at, u64_at, unknown,
};
use baton_exec::CommandSpec;
use baton_protocol::{AgentErrorKind, AgentEvent, FileChangeKind, Usage};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The Claude Code adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Claude;

impl AgentAdapter for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }

    fn binary(&self) -> &'static str {
        "claude"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation.base_spec(self.binary()).args([
            "-p".to_string(),
            invocation.prompt_arg(),
            "--output-format".into(),
            "stream-json".into(),
            "--verbose".into(),
            "--dangerously-skip-permissions".into(),
        ]);
        if let Some(turns) = invocation.max_turns {
            spec = spec.arg("--max-turns").arg(turns.to_string());
        }
        if let Some(model) = &invocation.model {
            spec = spec.arg("--model").arg(model.clone());
        }
        if let Some(session) = &invocation.resume {
            spec = spec.args(self.resume_args(session).unwrap_or_default());
        }
        if let Some(micros) = invocation.max_budget_micros {
            spec = spec.arg("--max-budget-usd").arg(format!(
                "{}.{:06}",
                micros / 1_000_000,
                micros % 1_000_000
            ));
        }
        spec = spec.args(invocation.extra_args.iter().cloned());
        if invocation.running_as_root {
            // As root, Claude Code refuses to skip permissions unless told it is sandboxed.
            spec = spec.env("IS_SANDBOX", "1");
        }
        invocation.with_extra_env(spec)
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(ClaudeDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensAndCost
    }

    fn resume_args(&self, session: &str) -> Option<Vec<String>> {
        Some(vec!["--resume".into(), session.into()])
    }
}

/// Reads Claude Code's stream-json (and the Claude-shaped output of Qwen Code and Cursor).
///
/// Usage: each `assistant` message's usage is reported once per message id as a step (so a
/// killed run still shows roughly what it spent); the final `result` carries the run's totals
/// and `total_cost_usd`, a running total that replaces the steps.
#[derive(Debug, Default)]
pub struct ClaudeDecoder {
    /// Tool calls seen, by id: name and input, to read their results.
    calls: HashMap<String, (String, Value)>,
    /// Message ids whose usage was already reported (one message arrives as several events).
    usage_seen: HashSet<String>,
    /// The model named by the `init` event.
    model: Option<String>,
}

impl StreamDecoder for ClaudeDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        match parse_line(line) {
            Ok(record) => self.decode_record(record),
            Err(event) => event.into_iter().collect(),
        }
    }
}

impl ClaudeDecoder {
    /// The events of one parsed record.
    pub fn decode_record(&mut self, record: Value) -> Vec<AgentEvent> {
        match str_at(&record, &["type"]) {
            Some("system") if str_at(&record, &["subtype"]) == Some("init") => {
                self.model = str_at(&record, &["model"]).map(str::to_string);
                str_at(&record, &["session_id"])
                    .map(|id| AgentEvent::Session { id: id.into() })
                    .into_iter()
                    .collect()
            }
            Some("assistant") => self.assistant(&record),
            Some("user") => self.user(&record),
            Some("result") => self.result(&record),
            _ => vec![unknown(record)],
        }
    }

    fn assistant(&mut self, record: &Value) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        let api_error = record.get("error").is_some()
            || record.get("isApiErrorMessage").and_then(Value::as_bool) == Some(true);
        let parts = at(record, &["message", "content"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for part in parts {
            match str_at(part, &["type"]) {
                Some("text") => {
                    let text = str_at(part, &["text"]).unwrap_or_default().to_string();
                    if api_error {
                        let kind = classify_error(&text, None);
                        events.push(AgentEvent::Error {
                            message: text,
                            kind,
                        });
                    } else {
                        events.push(AgentEvent::Message { text });
                    }
                }
                Some("thinking") => events.push(AgentEvent::Reasoning {
                    summary: str_at(part, &["thinking"]).unwrap_or_default().into(),
                }),
                Some("tool_use") => {
                    let id = str_at(part, &["id"]).unwrap_or_default().to_string();
                    let name = str_at(part, &["name"]).unwrap_or_default().to_string();
                    let input = part.get("input").cloned().unwrap_or(Value::Null);
                    self.calls.insert(id.clone(), (name.clone(), input.clone()));
                    // Claude Code's plan: `TodoWrite` replaces the whole list each time.
                    let todos = (name == "TodoWrite").then(|| todo_list(&input));
                    events.push(AgentEvent::ToolCall { id, name, input });
                    events.extend(todos);
                }
                _ => events.push(unknown(part.clone())),
            }
        }
        if let Some(usage) = at(record, &["message", "usage"]) {
            let id = str_at(record, &["message", "id"]).unwrap_or_default();
            if self.usage_seen.insert(id.to_string()) {
                let model = str_at(record, &["message", "model"]).map(str::to_string);
                events.push(AgentEvent::Usage(anthropic_usage(
                    usage, None, model, false,
                )));
            }
        }
        events
    }

    fn user(&mut self, record: &Value) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        let parts = at(record, &["message", "content"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for part in parts {
            if str_at(part, &["type"]) != Some("tool_result") {
                continue;
            }
            let id = str_at(part, &["tool_use_id"])
                .unwrap_or_default()
                .to_string();
            let ok = part.get("is_error").and_then(Value::as_bool) != Some(true);
            let output = bounded(&content_text(part.get("content")));
            let call = self.calls.get(&id).cloned();
            if let Some((name, input)) = &call
                && name == "Bash"
            {
                events.push(AgentEvent::CommandRun {
                    command: str_at(input, &["command"]).unwrap_or_default().into(),
                    exit_code: None,
                    output: output.clone(),
                });
            }
            events.push(AgentEvent::ToolResult { id, ok, output });
            if ok {
                events.extend(file_change(record.get("tool_use_result"), call.as_ref()));
            }
        }
        events
    }

    fn result(&mut self, record: &Value) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        let subtype = str_at(record, &["subtype"]).unwrap_or_default();
        let is_error = record.get("is_error").and_then(Value::as_bool) == Some(true);
        let ok = subtype == "success" && !is_error;
        let text = str_at(record, &["result"]).map(str::to_string);
        let cost = at(record, &["total_cost_usd"])
            .and_then(Value::as_f64)
            .and_then(dollars_to_micros);
        if record.get("usage").is_some() || cost.is_some() {
            let usage = record.get("usage").cloned().unwrap_or(Value::Null);
            let model = single_key(record.get("modelUsage")).or_else(|| self.model.clone());
            events.push(AgentEvent::Usage(anthropic_usage(
                &usage, cost, model, true,
            )));
        }
        if !ok {
            let message = text
                .clone()
                .or_else(|| errors_text(record))
                .unwrap_or_else(|| subtype.to_string());
            let status = at(record, &["api_error_status"]).and_then(Value::as_u64);
            let kind = if subtype == "error_max_turns" {
                AgentErrorKind::TurnLimit
            } else {
                classify_error(&message, status)
            };
            events.push(AgentEvent::Error { message, kind });
        }
        events.push(AgentEvent::Result {
            ok,
            text,
            turns: at(record, &["num_turns"])
                .and_then(Value::as_u64)
                .and_then(|turns| u32::try_from(turns).ok()),
        });
        events
    }
}

/// Anthropic-style usage (`input_tokens`, `cache_read_input_tokens`,
/// `cache_creation_input_tokens`, `output_tokens`).
fn anthropic_usage(
    usage: &Value,
    cost: Option<u64>,
    model: Option<String>,
    cumulative: bool,
) -> Usage {
    Usage {
        input_tokens: u64_at(usage, &["input_tokens"]),
        cached_input_tokens: u64_at(usage, &["cache_read_input_tokens"]),
        cache_write_tokens: u64_at(usage, &["cache_creation_input_tokens"]),
        output_tokens: u64_at(usage, &["output_tokens"]),
        reasoning_tokens: 0,
        cost_usd_micros: cost,
        model,
        cumulative,
    }
}

/// The one key of an object (the model of `modelUsage` when only one model was used).
fn single_key(value: Option<&Value>) -> Option<String> {
    let object = value?.as_object()?;
    let mut keys = object.keys();
    match (keys.next(), keys.next()) {
        (Some(key), None) => Some(key.clone()),
        _ => None,
    }
}

/// The `errors` array of a failed result, joined.
fn errors_text(record: &Value) -> Option<String> {
    let errors = record.get("errors")?.as_array()?;
    let text: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
    (!text.is_empty()).then(|| text.join("; "))
}

/// The checklist of a `TodoWrite` call: `todos` of `{content, status}`, done when `status` is
/// `completed`.
fn todo_list(input: &Value) -> AgentEvent {
    let items = input
        .get("todos")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| baton_protocol::TodoItem {
            text: str_at(entry, &["content"]).unwrap_or_default().into(),
            done: str_at(entry, &["status"]) == Some("completed"),
        })
        .collect();
    AgentEvent::TodoList { items }
}

/// The file a successful tool result changed: from Claude Code's `tool_use_result`
/// (`type: create|update`, `filePath`), else from the call of a known editing tool.
fn file_change(result: Option<&Value>, call: Option<&(String, Value)>) -> Option<AgentEvent> {
    if let Some(result) = result
        && let Some(path) = str_at(result, &["filePath"])
    {
        let kind = match str_at(result, &["type"]) {
            Some("create") => FileChangeKind::Add,
            _ => FileChangeKind::Modify,
        };
        if result.get("type").is_some() || result.get("structuredPatch").is_some() {
            return Some(AgentEvent::FileChange {
                path: path.into(),
                kind,
            });
        }
    }
    let (name, input) = call?;
    // Claude Code's editing tools, and the Gemini-derived names Qwen Code uses.
    let editing = [
        "Write",
        "Edit",
        "MultiEdit",
        "NotebookEdit",
        "write_file",
        "replace",
        "edit",
    ];
    if !editing.contains(&name.as_str()) {
        return None;
    }
    let path = str_at(input, &["file_path"]).or_else(|| str_at(input, &["notebook_path"]))?;
    Some(AgentEvent::FileChange {
        path: path.into(),
        kind: FileChangeKind::Modify,
    })
}
