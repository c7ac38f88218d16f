//! The Gemini API dialect (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse` and
//! `:generateContent`), as the Gemini CLI speaks it.
//!
//! A stream is `data:` lines of `GenerateContentResponse` chunks: text pieces as
//! `candidates[0].content.parts[].text`, each tool call whole as a `functionCall {name, args}`
//! part (Gemini does not split arguments), and a last chunk with `finishReason: "STOP"` and
//! `usageMetadata`. Without `alt=sse`, `streamGenerateContent` answers the chunks as one JSON
//! array, as the real API does.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::script::ErrorReply;
use super::wire::{self, Reply, Summary};

/// What a Gemini path asks for, from its `{model}:{method}` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    /// `generateContent`: one JSON response.
    Generate,
    /// `streamGenerateContent`: SSE with `alt=sse`, otherwise a JSON array of chunks.
    Stream,
    /// `countTokens`: a token count, taking no turn.
    CountTokens,
}

/// Splits `gemini-2.5-flash:streamGenerateContent` into the model and the method.
pub(super) fn parse_target(target: &str) -> Option<(String, Method)> {
    let (model, method) = target.rsplit_once(':')?;
    let method = match method {
        "generateContent" => Method::Generate,
        "streamGenerateContent" => Method::Stream,
        "countTokens" => Method::CountTokens,
        _ => return None,
    };
    Some((model.to_owned(), method))
}

/// What the request log keeps of a Gemini request (the model comes from the path).
pub(super) fn summarize(body: &Value) -> Summary {
    let contents = wire::list_at(body, "contents");
    Summary {
        model: None,
        stream: None,
        tools: wire::list_at(body, "tools")
            .iter()
            .flat_map(|tool| wire::list_at(tool, "functionDeclarations"))
            .filter_map(|declaration| wire::string_at(declaration, "name"))
            .collect(),
        roles: contents
            .iter()
            .filter_map(|content| wire::string_at(content, "role"))
            .collect(),
        last_user_text: contents
            .iter()
            .rev()
            .filter(|content| content.get("role").and_then(Value::as_str) == Some("user"))
            .find_map(|content| wire::content_text(content.get("parts"), &[])),
    }
}

/// A scripted reply: SSE chunks, a JSON array of chunks, or one response.
pub(super) fn reply(reply: &Reply<'_>, sse: bool) -> Response {
    let chunks = chunks(reply);
    if !reply.stream {
        return wire::json_response(StatusCode::OK, &whole(reply));
    }
    if sse {
        wire::sse_response(
            chunks
                .iter()
                .map(|chunk| wire::data_event(&chunk.to_string()))
                .collect(),
        )
    } else {
        wire::json_response(StatusCode::OK, &Value::Array(chunks))
    }
}

/// A scripted error in Google's `{"error":{"code","message","status"}}` envelope.
pub(super) fn error(error: &ErrorReply) -> Response {
    let status = match error.status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    wire::error_response(
        error,
        |message| json!({"error": {"code": error.status, "message": message, "status": status}}),
    )
}

/// The answer to `:countTokens`, which takes no turn.
pub(super) fn count_tokens(request_bytes: usize) -> Value {
    json!({"totalTokens": (request_bytes / 4).max(1)})
}

fn usage_metadata(reply: &Reply<'_>) -> Value {
    let usage = reply.usage;
    json!({
        "promptTokenCount": usage.input,
        "candidatesTokenCount": usage.output - usage.reasoning,
        "thoughtsTokenCount": usage.reasoning,
        "cachedContentTokenCount": usage.cached,
        "totalTokenCount": usage.input + usage.output,
    })
}

fn chunk(reply: &Reply<'_>, parts: Vec<Value>, last: bool) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    let mut chunk = json!({
        "candidates": [],
        "modelVersion": reply.model,
        "responseId": format!("fake-{}", reply.serial),
    });
    if last {
        candidate["finishReason"] = json!("STOP");
        chunk["usageMetadata"] = usage_metadata(reply);
    }
    chunk["candidates"] = json!([candidate]);
    chunk
}

fn call_parts(reply: &Reply<'_>) -> Vec<Value> {
    reply
        .tool_calls
        .iter()
        .map(|call| json!({"functionCall": {"name": call.name, "args": call.input}}))
        .collect()
}

fn chunks(reply: &Reply<'_>) -> Vec<Value> {
    let mut parts: Vec<Vec<Value>> = wire::pieces(reply.text)
        .into_iter()
        .map(|text| vec![json!({"text": text})])
        .collect();
    parts.extend(call_parts(reply).into_iter().map(|part| vec![part]));
    if parts.is_empty() {
        parts.push(vec![json!({"text": ""})]);
    }
    let last = parts.len() - 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(at, parts)| chunk(reply, parts, at == last))
        .collect()
}

fn whole(reply: &Reply<'_>) -> Value {
    let mut parts = Vec::new();
    if !reply.text.is_empty() {
        parts.push(json!({"text": reply.text}));
    }
    parts.extend(call_parts(reply));
    chunk(reply, parts, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_target_splits_into_model_and_method() {
        assert_eq!(
            parse_target("gemini-2.5-flash:streamGenerateContent"),
            Some(("gemini-2.5-flash".to_owned(), Method::Stream))
        );
        assert_eq!(
            parse_target("m:generateContent"),
            Some(("m".to_owned(), Method::Generate))
        );
        assert_eq!(parse_target("m:embedContent"), None);
        assert_eq!(parse_target("no-method"), None);
    }
}
