//! The OpenAI Chat Completions dialect (`POST /v1/chat/completions`), as OpenAI-compatible
//! clients (OpenCode's AI SDK provider, Aider through litellm) speak it.
//!
//! A stream is `chat.completion.chunk` data lines: the role, `delta.content` pieces,
//! `delta.tool_calls` pieces (the first with the call's `index`, `id` and function `name`, the
//! rest with pieces of `arguments`), a chunk with the `finish_reason`, then a usage chunk with
//! empty `choices` when `stream_options.include_usage` is set (otherwise the usage rides on
//! the finish chunk, as many compatible servers do), and `data: [DONE]`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::responses::openai_error;
use super::script::ErrorReply;
use super::wire::{self, Reply, Summary};

/// What the request log keeps of a Chat Completions request.
pub(super) fn summarize(body: &Value) -> Summary {
    let messages = wire::list_at(body, "messages");
    Summary {
        model: wire::string_at(body, "model"),
        stream: body.get("stream").and_then(Value::as_bool),
        tools: wire::list_at(body, "tools")
            .iter()
            .filter_map(|tool| {
                tool.get("function")
                    .and_then(|function| wire::string_at(function, "name"))
                    .or_else(|| wire::string_at(tool, "name"))
            })
            .collect(),
        roles: messages
            .iter()
            .filter_map(|message| wire::string_at(message, "role"))
            .collect(),
        last_user_text: messages
            .iter()
            .rev()
            .filter(|message| message.get("role").and_then(Value::as_str) == Some("user"))
            .find_map(|message| wire::content_text(message.get("content"), &["text"])),
    }
}

/// A scripted reply, streamed or as one completion.
pub(super) fn reply(reply: &Reply<'_>) -> Response {
    if reply.stream {
        wire::sse_response(stream_events(reply))
    } else {
        wire::json_response(StatusCode::OK, &completion(reply))
    }
}

/// A scripted error in OpenAI's `{"error":{...}}` envelope.
pub(super) fn error(error: &ErrorReply) -> Response {
    wire::error_response(error, |message| openai_error(error.status, message))
}

/// The answer to `GET /v1/models`.
pub(super) fn models(names: &[String]) -> Value {
    let data: Vec<Value> = names
        .iter()
        .map(|name| json!({"id": name, "object": "model", "created": 0, "owned_by": "baton-fake-llm"}))
        .collect();
    json!({"object": "list", "data": data})
}

/// The answer to Ollama's `GET /api/tags`.
pub(super) fn ollama_tags(names: &[String]) -> Value {
    let models: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "model": name, "size": 0, "digest": "fake"}))
        .collect();
    json!({"models": models})
}

fn finish_reason(reply: &Reply<'_>) -> &'static str {
    if reply.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

fn usage(reply: &Reply<'_>) -> Value {
    let usage = reply.usage;
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    })
}

fn completion(reply: &Reply<'_>) -> Value {
    let tool_calls: Vec<Value> = reply
        .tool_calls
        .iter()
        .enumerate()
        .map(|(k, call)| {
            json!({"id": reply.call_id("call", k), "type": "function",
                "function": {"name": call.name, "arguments": wire::arguments_text(call)}})
        })
        .collect();
    let mut message = json!({
        "role": "assistant",
        "content": if reply.text.is_empty() { Value::Null } else { json!(reply.text) },
    });
    if !tool_calls.is_empty() {
        message["tool_calls"] = json!(tool_calls);
    }
    json!({
        "id": format!("chatcmpl-fake-{}", reply.serial),
        "object": "chat.completion",
        "created": wire::now_seconds(),
        "model": reply.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(reply)}],
        "usage": usage(reply),
    })
}

fn stream_events(reply: &Reply<'_>) -> Vec<String> {
    let id = format!("chatcmpl-fake-{}", reply.serial);
    let created = wire::now_seconds();
    let chunk = |choices: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created,
            "model": reply.model, "choices": choices})
    };
    let delta = |delta: Value| chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]));
    let mut events = vec![delta(json!({"role": "assistant", "content": ""}))];
    for piece in wire::pieces(reply.text) {
        events.push(delta(json!({"content": piece})));
    }
    for (k, call) in reply.tool_calls.iter().enumerate() {
        events.push(delta(
            json!({"tool_calls": [{"index": k, "id": reply.call_id("call", k),
            "type": "function", "function": {"name": call.name, "arguments": ""}}]}),
        ));
        for piece in wire::pieces(&wire::arguments_text(call)) {
            events.push(delta(
                json!({"tool_calls": [{"index": k, "function": {"arguments": piece}}]}),
            ));
        }
    }
    let include_usage = reply
        .request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut finish =
        chunk(json!([{"index": 0, "delta": {}, "finish_reason": finish_reason(reply)}]));
    if include_usage {
        events.push(finish);
        let mut usage_chunk = chunk(json!([]));
        usage_chunk["usage"] = usage(reply);
        events.push(usage_chunk);
    } else {
        finish["usage"] = usage(reply);
        events.push(finish);
    }
    let mut lines: Vec<String> = events
        .iter()
        .map(|event| wire::data_event(&event.to_string()))
        .collect();
    lines.push(wire::data_event("[DONE]"));
    lines
}
