//! Gemini: `POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`, the key in
//! `x-goog-api-key` (never in the URL, where it would show in errors and proxies' logs).
//!
//! Each `data:` chunk is a `GenerateContentResponse`; text is in
//! `candidates[0].content.parts[].text` (parts marked `thought` are thinking, not reply), the
//! last chunk has `finishReason` and `usageMetadata`. There is no end marker: the stream ends
//! after the chunk with a finish reason. `promptTokenCount` includes
//! `cachedContentTokenCount`; `candidatesTokenCount` leaves out `thoughtsTokenCount`, so the
//! ledger's output is their sum.

use serde_json::{Value, json};

use super::http::ReplyState;
use super::{CompletionRequest, ProviderError, Role, StopReason};

/// The endpoint under `base` (`https://generativelanguage.googleapis.com`) for `model`
/// (`gemini-2.5-pro` or `models/gemini-2.5-pro`).
pub(super) fn url(base: &str, model: &str) -> String {
    let model = model.strip_prefix("models/").unwrap_or(model);
    format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse")
}

/// The request body.
pub(super) fn body(request: &CompletionRequest) -> Value {
    let contents: Vec<Value> = request
        .messages
        .iter()
        .map(|message| {
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            json!({"role": role, "parts": [{"text": message.text}]})
        })
        .collect();
    let mut config = json!({"maxOutputTokens": request.max_output_tokens});
    if let Some(temperature) = request.temperature {
        config["temperature"] = json!(temperature);
    }
    let mut body = json!({"contents": contents, "generationConfig": config});
    if !request.system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": request.system}]});
    }
    body
}

/// Takes one SSE data line; returns the text it adds.
pub(super) fn on_event(
    reply: &mut ReplyState,
    data: &str,
) -> Result<Option<String>, ProviderError> {
    if data.trim().is_empty() {
        return Ok(None);
    }
    let chunk = reply.json(data)?;
    if let Some(error) = chunk.get("error") {
        return Err(ProviderError::from_stream_error(&reply.provider, error));
    }
    if let Some(model) = chunk.get("modelVersion").and_then(Value::as_str) {
        reply.model = model.to_owned();
    }
    if let Some(usage) = chunk.get("usageMetadata") {
        let count = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
        let prompt = count("promptTokenCount");
        let cached = count("cachedContentTokenCount").min(prompt);
        let thoughts = count("thoughtsTokenCount");
        reply.usage.input_tokens = prompt - cached;
        reply.usage.cached_input_tokens = cached;
        reply.usage.output_tokens = count("candidatesTokenCount") + thoughts;
        reply.usage.reasoning_tokens = thoughts;
    }
    if let Some(reason) = chunk
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        return Err(ProviderError::Rejected {
            provider: reply.provider.clone(),
            status: 400,
            message: format!("the prompt was blocked ({reason})"),
        });
    }
    let Some(candidate) = chunk.pointer("/candidates/0") else {
        return Ok(None);
    };
    if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
        reply.stop = Some(stop_reason(reason));
    }
    let text: String = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|part| part.get("thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(text))
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
            StopReason::ContentFilter
        }
        other => StopReason::Other(other.to_owned()),
    }
}
