//! OpenAI Chat Completions, and the many servers compatible with it (OpenRouter, DeepSeek,
//! Groq, Ollama, LM Studio): `POST {base}/chat/completions` with `stream: true` and
//! `stream_options.include_usage`, so the last chunk before `data: [DONE]` carries the usage.
//!
//! `prompt_tokens` include the cached ones (`prompt_tokens_details.cached_tokens`, or
//! DeepSeek's `prompt_cache_hit_tokens`); `completion_tokens` include
//! `completion_tokens_details.reasoning_tokens`. DeepSeek's `reasoning_content` deltas are
//! thinking, not the reply, and are not taken as text.

use serde_json::{Value, json};

use super::http::ReplyState;
use super::{CompletionRequest, ProviderError, StopReason, plain_messages};

/// The endpoint under `base` (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`...).
pub(super) fn url(base: &str) -> String {
    format!("{base}/chat/completions")
}

/// The request body. OpenAI's own API wants `max_completion_tokens` (its reasoning models
/// refuse `max_tokens`); compatible servers know `max_tokens`.
pub(super) fn body(request: &CompletionRequest, openai: bool) -> Value {
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    messages.extend(plain_messages(request));
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    let limit = if openai {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    body[limit] = json!(request.max_output_tokens);
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    body
}

/// Takes one SSE data line; returns the text it adds.
pub(super) fn on_event(
    reply: &mut ReplyState,
    data: &str,
) -> Result<Option<String>, ProviderError> {
    let data = data.trim();
    if data.is_empty() {
        return Ok(None);
    }
    if data == "[DONE]" {
        if reply.stop.is_none() {
            return Err(reply.protocol("[DONE] came before any finish_reason"));
        }
        reply.finished = true;
        return Ok(None);
    }
    let chunk = reply.json(data)?;
    if let Some(error) = chunk.get("error") {
        return Err(ProviderError::from_stream_error(&reply.provider, error));
    }
    if let Some(model) = chunk.get("model").and_then(Value::as_str) {
        reply.model = model.to_owned();
    }
    if let Some(usage) = chunk.get("usage").filter(|usage| !usage.is_null()) {
        take_usage(reply, usage);
    }
    let choice = chunk
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first());
    let Some(choice) = choice else {
        return Ok(None);
    };
    if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
        reply.stop = Some(stop_reason(reason));
    }
    Ok(choice
        .pointer("/delta/content")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

fn take_usage(reply: &mut ReplyState, usage: &Value) {
    let count = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64);
    let prompt = count("/prompt_tokens").unwrap_or(0);
    let cached = count("/prompt_tokens_details/cached_tokens")
        .or_else(|| count("/prompt_cache_hit_tokens"))
        .unwrap_or(0)
        .min(prompt);
    reply.usage.input_tokens = prompt - cached;
    reply.usage.cached_input_tokens = cached;
    reply.usage.output_tokens = count("/completion_tokens").unwrap_or(0);
    reply.usage.reasoning_tokens =
        count("/completion_tokens_details/reasoning_tokens").unwrap_or(0);
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_owned()),
    }
}
