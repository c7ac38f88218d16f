//! The Anthropic Messages dialect (`POST /v1/messages`), as Claude Code speaks it.
//!
//! A stream is `message_start` (input usage), a `ping`, one `content_block_start` /
//! `content_block_delta`... / `content_block_stop` run per text or `tool_use` block (text in
//! `text_delta`s, tool input as `input_json_delta` pieces of its JSON), `message_delta` (stop
//! reason and output usage) and `message_stop`. Anthropic's `input_tokens` leaves out cache
//! reads, so it is the script's `input - cached`, with `cached` as `cache_read_input_tokens`.

use axum::response::Response;
use serde_json::{Value, json};

use super::script::ErrorReply;
use super::wire::{self, Reply, Summary};

/// What the request log keeps of a Messages request.
pub(super) fn summarize(body: &Value) -> Summary {
    let messages = wire::list_at(body, "messages");
    Summary {
        model: wire::string_at(body, "model"),
        stream: body.get("stream").and_then(Value::as_bool),
        tools: wire::list_at(body, "tools")
            .iter()
            .filter_map(|tool| wire::string_at(tool, "name"))
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

/// A scripted reply, streamed or as one message.
pub(super) fn reply(reply: &Reply<'_>) -> Response {
    if reply.stream {
        wire::sse_response(stream_events(reply))
    } else {
        wire::json_response(axum::http::StatusCode::OK, &message(reply))
    }
}

/// A scripted error in Anthropic's `{"type":"error","error":{...}}` envelope.
pub(super) fn error(error: &ErrorReply) -> Response {
    let kind = match error.status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    wire::error_response(
        error,
        |message| json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

/// The answer to `POST /v1/messages/count_tokens`, which takes no turn.
pub(super) fn count_tokens(request_bytes: usize) -> Value {
    json!({"input_tokens": (request_bytes / 4).max(1)})
}

fn stop_reason(reply: &Reply<'_>) -> &'static str {
    if reply.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    }
}

fn message_id(reply: &Reply<'_>) -> String {
    format!("msg_fake_{}", reply.serial)
}

fn input_usage(reply: &Reply<'_>) -> Value {
    json!({
        "input_tokens": reply.usage.input - reply.usage.cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": reply.usage.cached,
    })
}

fn content(reply: &Reply<'_>) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !reply.text.is_empty() {
        blocks.push(json!({"type": "text", "text": reply.text}));
    }
    for (k, call) in reply.tool_calls.iter().enumerate() {
        blocks.push(json!({
            "type": "tool_use",
            "id": reply.call_id("toolu", k),
            "name": call.name,
            "input": call.input,
        }));
    }
    blocks
}

fn message(reply: &Reply<'_>) -> Value {
    let mut usage = input_usage(reply);
    usage["output_tokens"] = json!(reply.usage.output);
    json!({
        "id": message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content(reply),
        "stop_reason": stop_reason(reply),
        "stop_sequence": null,
        "usage": usage,
    })
}

fn stream_events(reply: &Reply<'_>) -> Vec<String> {
    let mut start_usage = input_usage(reply);
    start_usage["output_tokens"] = json!(1);
    let mut events = vec![
        wire::named_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": message_id(reply),
                "type": "message",
                "role": "assistant",
                "model": reply.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": start_usage,
            }}),
        ),
        wire::named_event("ping", &json!({"type": "ping"})),
    ];
    let mut index = 0;
    if !reply.text.is_empty() {
        let deltas = wire::pieces(reply.text)
            .into_iter()
            .map(|text| json!({"type": "text_delta", "text": text}))
            .collect();
        push_block(
            &mut events,
            index,
            json!({"type": "text", "text": ""}),
            deltas,
        );
        index += 1;
    }
    for (k, call) in reply.tool_calls.iter().enumerate() {
        let deltas = wire::pieces(&call.input.to_string())
            .into_iter()
            .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
            .collect();
        let block = json!({
            "type": "tool_use",
            "id": reply.call_id("toolu", k),
            "name": call.name,
            "input": {},
        });
        push_block(&mut events, index, block, deltas);
        index += 1;
    }
    events.push(wire::named_event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(reply), "stop_sequence": null},
            "usage": {"output_tokens": reply.usage.output},
        }),
    ));
    events.push(wire::named_event(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    events
}

fn push_block(events: &mut Vec<String>, index: usize, block: Value, deltas: Vec<Value>) {
    events.push(wire::named_event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": index, "content_block": block}),
    ));
    for delta in deltas {
        events.push(wire::named_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        ));
    }
    events.push(wire::named_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
}
