//! What the four dialects share: SSE framing, JSON and error responses, splitting text into
//! stream deltas, and the per-request facts a dialect hands the server.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::script::{ErrorReply, ToolCall, Usage};

/// What a dialect reads out of a request body for the request log.
#[derive(Debug, Default)]
pub(super) struct Summary {
    pub model: Option<String>,
    pub stream: Option<bool>,
    pub tools: Vec<String>,
    pub roles: Vec<String>,
    pub last_user_text: Option<String>,
}

/// Everything a dialect needs to render one scripted reply.
#[derive(Debug)]
pub(super) struct Reply<'a> {
    /// The reply's text (may be empty).
    pub text: &'a str,
    /// Tool calls after the text.
    pub tool_calls: &'a [ToolCall],
    /// Token counts to report.
    pub usage: Usage,
    /// The model name to echo back.
    pub model: &'a str,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// A number unique to this request, for ids.
    pub serial: usize,
    /// The request body, for dialect decisions that depend on what the client offered.
    pub request: &'a Value,
}

impl Reply<'_> {
    /// A stable id for this reply's `k`-th tool call.
    pub fn call_id(&self, prefix: &str, k: usize) -> String {
        format!("{prefix}_fake_{}_{k}", self.serial)
    }
}

/// How big a piece of streamed text or tool arguments is, in characters.
const DELTA_CHARS: usize = 12;

/// Splits `text` into stream deltas on character boundaries (no piece when `text` is empty).
pub(super) fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(DELTA_CHARS)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// One SSE event with an `event:` name.
pub(super) fn named_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// One SSE event with only a `data:` line.
pub(super) fn data_event(data: &str) -> String {
    format!("data: {data}\n\n")
}

/// A streamed `text/event-stream` response, one HTTP chunk per event.
pub(super) fn sse_response(events: Vec<String>) -> Response {
    let stream = futures_util::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A JSON response with `status`.
pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A scripted error: the status, a `retry-after` header when the script gives one, and either
/// the script's JSON body verbatim or `envelope(message)`.
pub(super) fn error_response(error: &ErrorReply, envelope: impl FnOnce(&str) -> Value) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match error.body.as_deref() {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(json @ Value::Object(_)) => json,
            _ => envelope(text),
        },
        None => envelope(status.canonical_reason().unwrap_or("error")),
    };
    let mut response = json_response(status, &body);
    if let Some(seconds) = error.retry_after {
        let value = if error.retry_after_as_date {
            let when = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
            HeaderValue::from_str(&httpdate::fmt_http_date(when)).ok()
        } else {
            Some(HeaderValue::from(seconds))
        };
        if let Some(value) = value {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A 200 stream whose first event is `error`, in `dialect`'s words: Anthropic's `error`
/// event, the Responses `error` event, an OpenAI or Google error object as a `data:` line.
pub(super) fn stream_error(dialect: super::log::Dialect, error: &ErrorReply) -> Response {
    use super::log::Dialect;
    use serde_json::json;
    let message = error
        .body
        .as_deref()
        .unwrap_or("the server failed mid-stream");
    let event = match dialect {
        Dialect::AnthropicMessages => {
            let kind = match error.status {
                429 => "rate_limit_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            named_event(
                "error",
                &json!({"type": "error", "error": {"type": kind, "message": message}}),
            )
        }
        Dialect::OpenaiResponses => {
            let code = if error.status == 429 {
                "rate_limit_exceeded"
            } else {
                "server_error"
            };
            named_event(
                "error",
                &json!({"type": "error", "code": code, "message": message, "param": null}),
            )
        }
        Dialect::OpenaiChat => data_event(
            &json!({"error": {"message": message, "type": "server_error", "code": null}})
                .to_string(),
        ),
        Dialect::Gemini => data_event(
            &json!({"error": {"code": error.status, "message": message, "status": "UNAVAILABLE"}})
                .to_string(),
        ),
    };
    sse_response(vec![event])
}

/// The text of a message's content: a string, or the `text` of the parts whose type is one of
/// `kinds` (parts without a type count too), joined by newlines. `None` when there is none.
pub(super) fn content_text(content: Option<&Value>, kinds: &[&str]) -> Option<String> {
    match content? {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|part| {
                    part.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|kind| kinds.contains(&kind))
                })
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

/// The string at `key`, if the body has one.
pub(super) fn string_at(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The list at `key`, or nothing.
pub(super) fn list_at<'a>(body: &'a Value, key: &str) -> &'a [Value] {
    body.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A tool call's arguments as the JSON text the OpenAI dialects carry.
pub(super) fn arguments_text(call: &ToolCall) -> String {
    call.input.to_string()
}

/// Seconds since the epoch, for `created` fields.
pub(super) fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_put_back_together_give_the_text_even_across_multibyte_characters() {
        let text = "héllo wörld, ünïcode — and more than twelve characters";
        let parts = pieces(text);
        assert!(parts.len() > 1);
        assert_eq!(parts.concat(), text);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn content_text_keeps_only_the_named_part_kinds() {
        let content = serde_json::json!([
            {"type": "text", "text": "a"},
            {"type": "tool_result", "text": "no"},
            {"text": "b"}
        ]);
        assert_eq!(
            content_text(Some(&content), &["text"]).as_deref(),
            Some("a\nb")
        );
        assert_eq!(
            content_text(Some(&Value::from("plain")), &[]).as_deref(),
            Some("plain")
        );
        assert_eq!(content_text(Some(&serde_json::json!([])), &["text"]), None);
    }
}
