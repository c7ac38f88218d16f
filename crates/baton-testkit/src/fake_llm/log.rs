//! The request log: what every request asked, kept in memory and appended to a JSONL file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;

use axum::http::{HeaderMap, Uri};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::Summary;

/// The wire dialect a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// Anthropic Messages (`/v1/messages`): Claude Code.
    AnthropicMessages,
    /// OpenAI Responses (`/v1/responses`): Codex.
    OpenaiResponses,
    /// OpenAI Chat Completions (`/v1/chat/completions`): OpenCode, Aider.
    OpenaiChat,
    /// Gemini API (`/v1beta/models/{model}:...`): Gemini CLI.
    Gemini,
}

/// One request as the fake LLM server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// `GET`, `HEAD`, `POST`...
    pub method: String,
    /// The path with its query (`/v1/messages?beta=true`).
    pub path: String,
    /// The dialect of a model request; `None` for probes, model lists and unknown paths.
    pub dialect: Option<Dialect>,
    /// The model named in the body (or, for Gemini, the path).
    pub model: Option<String>,
    /// Whether the client asked for a stream, as the body or path says.
    pub stream: Option<bool>,
    /// The body's top-level keys, sorted.
    pub body_keys: Vec<String>,
    /// The names of the tools the client offered, in its order.
    pub tools: Vec<String>,
    /// The roles of the conversation's messages in order (for Responses input items without a
    /// role, their `type`, such as `function_call_output`).
    pub roles: Vec<String>,
    /// The text of the last user message that has text (tool results are not text).
    pub last_user_text: Option<String>,
    /// Which script turn answered, counted from 1; `None` when no turn was taken (probes,
    /// token counts, bad requests, asides) or the script had run out.
    pub turn: Option<usize>,
    /// Which script aside answered instead of a turn, counted from 1.
    pub aside: Option<usize>,
    /// The credentials the request carried, by where: the `authorization`, `x-api-key` and
    /// `x-goog-api-key` headers, and `?key=` of the query as `key`. It is a fake server's log,
    /// so tests can check each dialect sends its key where the vendor expects it.
    pub auth: BTreeMap<String, String>,
}

impl LoggedRequest {
    /// A request that is not a model request (a probe, a model list, an unknown path).
    pub(super) fn plain(method: &str, path: &str) -> LoggedRequest {
        LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            dialect: None,
            model: None,
            stream: None,
            body_keys: Vec::new(),
            tools: Vec::new(),
            roles: Vec::new(),
            last_user_text: None,
            turn: None,
            aside: None,
            auth: BTreeMap::new(),
        }
    }

    /// The same request with the credentials `headers` and `uri` carry.
    pub(super) fn with_auth(mut self, headers: &HeaderMap, uri: &Uri) -> LoggedRequest {
        for name in ["authorization", "x-api-key", "x-goog-api-key"] {
            if let Some(value) = headers.get(name).and_then(|value| value.to_str().ok()) {
                self.auth.insert(name.to_owned(), value.to_owned());
            }
        }
        let key = uri
            .query()
            .into_iter()
            .flat_map(|query| query.split('&'))
            .find_map(|pair| pair.strip_prefix("key="));
        if let Some(key) = key {
            self.auth.insert("key".to_owned(), key.to_owned());
        }
        self
    }

    /// A model request of `dialect`, from its body and what the dialect read out of it.
    pub(super) fn model_request(
        method: &str,
        path: &str,
        dialect: Dialect,
        body: &Value,
        summary: Summary,
    ) -> LoggedRequest {
        let mut body_keys: Vec<String> = body
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        body_keys.sort();
        LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            dialect: Some(dialect),
            model: summary.model,
            stream: summary.stream,
            body_keys,
            tools: summary.tools,
            roles: summary.roles,
            last_user_text: summary.last_user_text,
            turn: None,
            aside: None,
            auth: BTreeMap::new(),
        }
    }
}

/// Appends `request` as one JSON line to `file`. The log is a test aid: a write that fails is
/// reported on stderr rather than failing the request the client is waiting on.
pub(super) fn append(file: &mut File, request: &LoggedRequest) {
    let line = match serde_json::to_string(request) {
        Ok(line) => line,
        Err(err) => {
            eprintln!("baton-fake-llm: cannot serialize a logged request: {err}");
            return;
        }
    };
    if let Err(err) = writeln!(file, "{line}").and_then(|()| file.flush()) {
        eprintln!("baton-fake-llm: cannot append to the request log: {err}");
    }
}
