//! The OpenAI Responses dialect (`POST /v1/responses`), as the Codex CLI speaks it.
//!
//! A stream is `response.created`, `response.in_progress`, then per output item
//! `response.output_item.added`, its deltas (`response.output_text.delta` for a message,
//! `response.function_call_arguments.delta` for a `function_call`,
//! `response.custom_tool_call_input.delta` for a `custom_tool_call`) and
//! `response.output_item.done`, and last `response.completed` with the whole response and its
//! `usage`. A scripted call to `apply_patch` becomes a `custom_tool_call` whose `input` is the
//! patch text, unless the client offered `apply_patch` as a JSON `function` tool.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::script::{ErrorReply, ToolCall};
use super::wire::{self, Reply, Summary};

/// The freeform tool Codex edits files with.
const APPLY_PATCH: &str = "apply_patch";

/// What the request log keeps of a Responses request. Input items without a role (function
/// calls and their outputs) are listed by their `type`.
pub(super) fn summarize(body: &Value) -> Summary {
    let input = wire::list_at(body, "input");
    let roles = input
        .iter()
        .filter_map(|item| wire::string_at(item, "role").or_else(|| wire::string_at(item, "type")))
        .collect();
    let last_user_text = match body.get("input") {
        Some(Value::String(text)) => Some(text.clone()),
        _ => input
            .iter()
            .rev()
            .filter(|item| item.get("role").and_then(Value::as_str) == Some("user"))
            .find_map(|item| wire::content_text(item.get("content"), &["input_text", "text"])),
    };
    Summary {
        model: wire::string_at(body, "model"),
        stream: body.get("stream").and_then(Value::as_bool),
        tools: wire::list_at(body, "tools")
            .iter()
            .filter_map(|tool| {
                wire::string_at(tool, "name").or_else(|| wire::string_at(tool, "type"))
            })
            .collect(),
        roles,
        last_user_text,
    }
}

/// A scripted reply, streamed or as one response object.
pub(super) fn reply(reply: &Reply<'_>) -> Response {
    let items = items(reply);
    if reply.stream {
        wire::sse_response(stream_events(reply, &items))
    } else {
        wire::json_response(StatusCode::OK, &response(reply, &items, "completed"))
    }
}

/// A scripted error in OpenAI's `{"error":{...}}` envelope.
pub(super) fn error(error: &ErrorReply) -> Response {
    wire::error_response(error, |message| openai_error(error.status, message))
}

/// OpenAI's error envelope, shared with Chat Completions.
pub(super) fn openai_error(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        400 => ("invalid_request_error", Value::Null),
        401 => ("invalid_request_error", json!("invalid_api_key")),
        404 => ("invalid_request_error", json!("model_not_found")),
        429 => ("rate_limit_error", json!("rate_limit_exceeded")),
        _ => ("server_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// One output item, complete, with what streams it.
struct Item {
    done: Value,
    /// The item as announced by `response.output_item.added`.
    added: Value,
    /// The delta event's name and its pieces.
    deltas: Option<(&'static str, Vec<String>)>,
}

fn offers_apply_patch_as_function(request: &Value) -> bool {
    wire::list_at(request, "tools").iter().any(|tool| {
        tool.get("name").and_then(Value::as_str) == Some(APPLY_PATCH)
            && tool.get("type").and_then(Value::as_str) == Some("function")
    })
}

fn patch_text(call: &ToolCall) -> String {
    match &call.input {
        Value::String(patch) => patch.clone(),
        other => match other.get("input").and_then(Value::as_str) {
            Some(patch) => patch.to_owned(),
            None => other.to_string(),
        },
    }
}

fn items(reply: &Reply<'_>) -> Vec<Item> {
    let mut items = Vec::new();
    if !reply.text.is_empty() {
        let id = format!("msg_fake_{}", reply.serial);
        items.push(Item {
            added: json!({"id": id, "type": "message", "status": "in_progress",
                "role": "assistant", "content": []}),
            done: json!({"id": id, "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}]}),
            deltas: Some(("response.output_text.delta", wire::pieces(reply.text))),
        });
    }
    let patch_as_function = offers_apply_patch_as_function(reply.request);
    for (k, call) in reply.tool_calls.iter().enumerate() {
        let call_id = reply.call_id("call", k);
        if call.name == APPLY_PATCH && !patch_as_function {
            let id = format!("ctc_fake_{}_{k}", reply.serial);
            let patch = patch_text(call);
            items.push(Item {
                added: json!({"id": id, "type": "custom_tool_call", "status": "in_progress",
                    "call_id": call_id, "name": call.name, "input": ""}),
                done: json!({"id": id, "type": "custom_tool_call", "status": "completed",
                    "call_id": call_id, "name": call.name, "input": patch}),
                deltas: Some((
                    "response.custom_tool_call_input.delta",
                    wire::pieces(&patch),
                )),
            });
        } else {
            let id = format!("fc_fake_{}_{k}", reply.serial);
            let arguments = if call.name == APPLY_PATCH {
                json!({"input": patch_text(call)}).to_string()
            } else {
                wire::arguments_text(call)
            };
            items.push(Item {
                added: json!({"id": id, "type": "function_call", "status": "in_progress",
                    "call_id": call_id, "name": call.name, "arguments": ""}),
                done: json!({"id": id, "type": "function_call", "status": "completed",
                    "call_id": call_id, "name": call.name, "arguments": arguments}),
                deltas: Some((
                    "response.function_call_arguments.delta",
                    wire::pieces(&arguments),
                )),
            });
        }
    }
    items
}

fn response(reply: &Reply<'_>, items: &[Item], status: &str) -> Value {
    let completed = status == "completed";
    let output: Vec<&Value> = if completed {
        items.iter().map(|item| &item.done).collect()
    } else {
        Vec::new()
    };
    let usage = reply.usage;
    json!({
        "id": format!("resp_fake_{}", reply.serial),
        "object": "response",
        "created_at": wire::now_seconds(),
        "status": status,
        "model": reply.model,
        "output": output,
        "usage": if completed {
            json!({
                "input_tokens": usage.input,
                "input_tokens_details": {"cached_tokens": usage.cached},
                "output_tokens": usage.output,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning},
                "total_tokens": usage.input + usage.output,
            })
        } else {
            Value::Null
        },
    })
}

fn stream_events(reply: &Reply<'_>, items: &[Item]) -> Vec<String> {
    let mut sequence = 0_u64;
    let mut events = Vec::new();
    let mut push = |name: &str, mut data: Value| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(sequence);
        sequence += 1;
        events.push(wire::named_event(name, &data));
    };
    let pending = response(reply, items, "in_progress");
    push("response.created", json!({"response": pending}));
    push("response.in_progress", json!({"response": pending}));
    for (output_index, item) in items.iter().enumerate() {
        let item_id = item.done.get("id").cloned().unwrap_or(Value::Null);
        let is_message = item.done.get("type").and_then(Value::as_str) == Some("message");
        push(
            "response.output_item.added",
            json!({"output_index": output_index, "item": item.added}),
        );
        if is_message {
            push(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
        }
        if let Some((name, pieces)) = &item.deltas {
            for piece in pieces {
                let mut delta = json!({"item_id": item_id, "output_index": output_index,
                    "delta": piece});
                if is_message {
                    delta["content_index"] = json!(0);
                }
                push(name, delta);
            }
        }
        if is_message {
            push(
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                    "text": reply.text}),
            );
        }
        push(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item.done}),
        );
    }
    push(
        "response.completed",
        json!({"response": response(reply, items, "completed")}),
    );
    events
}
