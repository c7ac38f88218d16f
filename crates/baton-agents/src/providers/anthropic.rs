//! Anthropic Messages: `POST {base}/v1/messages` with `stream: true`.
//!
//! The stream is `message_start` (model, input usage), `content_block_delta`s (`text_delta`
//! pieces; thinking and tool input are not text), `message_delta` (stop reason, output usage)
//! and `message_stop`; an `error` event (such as `overloaded_error`) can come at any point.
//! Anthropic's `input_tokens` already leaves out cache reads and writes, which it reports as
//! `cache_read_input_tokens` and `cache_creation_input_tokens`: exactly the ledger's terms.

use serde_json::{Value, json};

use super::http::ReplyState;
use super::{CompletionRequest, ProviderError, StopReason, plain_messages};

/// The endpoint under `base` (`https://api.anthropic.com`).
pub(super) fn url(base: &str) -> String {
    format!("{base}/v1/messages")
}

/// The request body.
pub(super) fn body(request: &CompletionRequest) -> Value {
    let messages: Vec<Value> = plain_messages(request).collect();
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_output_tokens,
        "messages": messages,
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = json!(request.system);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    body
}

/// Takes one SSE event; returns the text it adds.
pub(super) fn on_event(
    reply: &mut ReplyState,
    name: &str,
    data: &str,
) -> Result<Option<String>, ProviderError> {
    if data.trim().is_empty() {
        return Ok(None);
    }
    let event = reply.json(data)?;
    let kind = event.get("type").and_then(Value::as_str).unwrap_or(name);
    match kind {
        "message_start" => {
            let message = event.get("message").unwrap_or(&Value::Null);
            if let Some(model) = message.get("model").and_then(Value::as_str) {
                reply.model = model.to_owned();
            }
            if let Some(usage) = message.get("usage") {
                take_usage(reply, usage);
            }
            Ok(None)
        }
        "content_block_delta" => {
            let delta = event.get("delta").unwrap_or(&Value::Null);
            if delta.get("type").and_then(Value::as_str) == Some("text_delta") {
                Ok(delta.get("text").and_then(Value::as_str).map(str::to_owned))
            } else {
                Ok(None)
            }
        }
        "message_delta" => {
            if let Some(stop) = event.pointer("/delta/stop_reason").and_then(Value::as_str) {
                reply.stop = Some(stop_reason(stop));
            }
            if let Some(usage) = event.get("usage") {
                take_usage(reply, usage);
            }
            Ok(None)
        }
        "message_stop" => {
            reply.finished = true;
            Ok(None)
        }
        "error" => Err(ProviderError::from_stream_error(
            &reply.provider,
            event.get("error").unwrap_or(&event),
        )),
        _ => Ok(None),
    }
}

/// Usage fields are running totals: each one given replaces the one before.
fn take_usage(reply: &mut ReplyState, usage: &Value) {
    let count = |key: &str| usage.get(key).and_then(Value::as_u64);
    if let Some(n) = count("input_tokens") {
        reply.usage.input_tokens = n;
    }
    if let Some(n) = count("cache_read_input_tokens") {
        reply.usage.cached_input_tokens = n;
    }
    if let Some(n) = count("cache_creation_input_tokens") {
        reply.usage.cache_write_tokens = n;
    }
    if let Some(n) = count("output_tokens") {
        reply.usage.output_tokens = n;
    }
}

fn stop_reason(stop: &str) -> StopReason {
    match stop {
        "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_owned()),
    }
}
