//! OpenAI Responses: `POST {base}/responses` with `stream: true` and `store: false`.
//!
//! Text comes as `response.output_text.delta`; the stream ends with `response.completed` (or
//! `response.incomplete`) carrying the whole response and its `usage`, or with
//! `response.failed` / an `error` event. OpenAI's `input_tokens` include the cached ones
//! (`input_tokens_details.cached_tokens`), so the ledger's input is the difference;
//! `output_tokens` include `output_tokens_details.reasoning_tokens`.

use serde_json::{Value, json};

use super::http::ReplyState;
use super::{CompletionRequest, ProviderError, StopReason, plain_messages};

/// The endpoint under `base` (`https://api.openai.com/v1`).
pub(super) fn url(base: &str) -> String {
    format!("{base}/responses")
}

/// The request body.
pub(super) fn body(request: &CompletionRequest) -> Value {
    let input: Vec<Value> = plain_messages(request).collect();
    let mut body = json!({
        "model": request.model,
        "input": input,
        "max_output_tokens": request.max_output_tokens,
        "stream": true,
        "store": false,
    });
    if !request.system.is_empty() {
        body["instructions"] = json!(request.system);
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
        "response.created" | "response.in_progress" => {
            take_model(reply, event.get("response"));
            Ok(None)
        }
        "response.output_text.delta" => Ok(event
            .get("delta")
            .and_then(Value::as_str)
            .map(str::to_owned)),
        "response.completed" | "response.incomplete" => {
            let response = event.get("response").unwrap_or(&Value::Null);
            take_model(reply, Some(response));
            take_usage(reply, response.get("usage"));
            reply.stop = Some(stop_reason(response));
            reply.finished = true;
            Ok(None)
        }
        "response.failed" => {
            let error = event
                .pointer("/response/error")
                .filter(|error| !error.is_null())
                .unwrap_or(&event);
            Err(ProviderError::from_stream_error(&reply.provider, error))
        }
        "error" => Err(ProviderError::from_stream_error(
            &reply.provider,
            event.get("error").unwrap_or(&event),
        )),
        _ => Ok(None),
    }
}

fn take_model(reply: &mut ReplyState, response: Option<&Value>) {
    if let Some(model) = response
        .and_then(|response| response.get("model"))
        .and_then(Value::as_str)
    {
        reply.model = model.to_owned();
    }
}

fn take_usage(reply: &mut ReplyState, usage: Option<&Value>) {
    let Some(usage) = usage.filter(|usage| !usage.is_null()) else {
        return;
    };
    let count = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let input = count("/input_tokens");
    let cached = count("/input_tokens_details/cached_tokens").min(input);
    reply.usage.input_tokens = input - cached;
    reply.usage.cached_input_tokens = cached;
    reply.usage.output_tokens = count("/output_tokens");
    reply.usage.reasoning_tokens = count("/output_tokens_details/reasoning_tokens");
}

fn stop_reason(response: &Value) -> StopReason {
    if let Some(reason) = response
        .pointer("/incomplete_details/reason")
        .and_then(Value::as_str)
    {
        return match reason {
            "max_output_tokens" => StopReason::MaxTokens,
            "content_filter" => StopReason::ContentFilter,
            other => StopReason::Other(other.to_owned()),
        };
    }
    let calls_a_tool = response
        .get("output")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|item| {
                item.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|kind| kind.ends_with("_call"))
            })
        });
    if calls_a_tool {
        StopReason::ToolUse
    } else {
        StopReason::EndTurn
    }
}
