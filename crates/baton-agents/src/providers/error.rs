//! What can go wrong with a provider call, in types a caller can act on.

use std::time::Duration;

use serde_json::Value;

/// How long a vendor's error message may be in our error text.
const MAX_MESSAGE_CHARS: usize = 500;

/// A failed provider call. Messages never carry the API key: vendor text is redacted before
/// it gets here.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The key was refused (401, 403).
    #[error("{provider}: the API key was refused (HTTP {status}): {message}")]
    Auth {
        /// The provider.
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The vendor's words.
        message: String,
    },
    /// Too many requests (429); `retry_after` is what the provider asked us to wait.
    #[error("{provider}: rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The provider.
        provider: String,
        /// The wait the provider asked for (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// The vendor's words.
        message: String,
    },
    /// The prompt does not fit the model's context window.
    #[error("{provider}: the prompt is too long for the model's context: {message}")]
    ContextTooLong {
        /// The provider.
        provider: String,
        /// The vendor's words.
        message: String,
    },
    /// The provider failed (5xx, 529 overloaded, its own 408 timeout, or an error event in the
    /// stream).
    #[error("{provider}: server error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Server {
        /// The provider.
        provider: String,
        /// The HTTP status, when the error came as one.
        status: Option<u16>,
        /// The vendor's words.
        message: String,
    },
    /// The request was refused for another reason (400, 404 unknown model...).
    #[error("{provider}: the request was refused (HTTP {status}): {message}")]
    Rejected {
        /// The provider.
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The vendor's words.
        message: String,
    },
    /// No answer in time.
    #[error("{provider}: no {phase} within {:.1}s", after.as_secs_f64())]
    Timeout {
        /// The provider.
        provider: String,
        /// What did not come: `connection`, `response`, `data` (the stream went idle).
        phase: &'static str,
        /// How long we waited.
        after: Duration,
    },
    /// The provider could not be reached (connection refused, DNS).
    #[error("{provider}: cannot reach {url}: {message}")]
    Unreachable {
        /// The provider.
        provider: String,
        /// The URL tried.
        url: String,
        /// Why.
        message: String,
    },
    /// The reply made no sense in the provider's dialect.
    #[error("{provider}: unexpected reply: {message}")]
    Protocol {
        /// The provider.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// The provider cannot be called as configured (no key, a bad base URL).
    #[error("{provider}: {message}")]
    Config {
        /// The provider.
        provider: String,
        /// What is missing or wrong, and how to fix it.
        message: String,
    },
}

impl ProviderError {
    /// Whether trying again may help: rate limits, server errors and timeouts.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Timeout { .. }
        )
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error an HTTP status and its body mean. `secret` (the key) is cut out of the
    /// vendor's text.
    pub(crate) fn from_status(
        provider: &str,
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        secret: Option<&str>,
    ) -> ProviderError {
        let (message, code) = vendor_message(body);
        let message = redact(&message, secret);
        let provider = provider.to_owned();
        match status {
            401 | 403 => ProviderError::Auth {
                provider,
                status,
                message,
            },
            429 => ProviderError::RateLimited {
                provider,
                retry_after,
                message,
            },
            400 | 413 if means_context_too_long(&message, code.as_deref()) => {
                ProviderError::ContextTooLong { provider, message }
            }
            408 | 500..=599 => ProviderError::Server {
                provider,
                status: Some(status),
                message,
            },
            _ => ProviderError::Rejected {
                provider,
                status,
                message,
            },
        }
    }

    /// The error an error object inside a stream means (Anthropic's `error` event, an OpenAI
    /// `error` chunk, a failed Responses response).
    pub(crate) fn from_stream_error(provider: &str, error: &Value) -> ProviderError {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("an error event without a message")
            .to_owned();
        // The Responses `error` event is itself `{"type": "error", "code": ...}`.
        let kind = ["type", "code", "status"]
            .iter()
            .filter_map(|key| error.get(key).and_then(Value::as_str))
            .find(|kind| *kind != "error")
            .unwrap_or("")
            .to_owned();
        let provider = provider.to_owned();
        if means_context_too_long(&message, Some(&kind)) {
            return ProviderError::ContextTooLong { provider, message };
        }
        match kind.as_str() {
            "rate_limit_error" | "rate_limit_exceeded" | "RESOURCE_EXHAUSTED" => {
                ProviderError::RateLimited {
                    provider,
                    retry_after: None,
                    message,
                }
            }
            "authentication_error" | "permission_error" | "invalid_api_key" => {
                ProviderError::Auth {
                    provider,
                    status: 401,
                    message,
                }
            }
            "invalid_request_error" => ProviderError::Rejected {
                provider,
                status: 400,
                message,
            },
            _ => ProviderError::Server {
                provider,
                status: None,
                message,
            },
        }
    }
}

/// The message and code of a vendor error body: `{"error": {"message", "code"|"type"|"status"}}`
/// (OpenAI, Gemini, Anthropic), `{"error": "text"}` (Ollama), or the body itself.
fn vendor_message(body: &str) -> (String, Option<String>) {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let message = match error {
        Some(Value::String(text)) => Some(text.clone()),
        Some(object) => object
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned),
        None => None,
    }
    .unwrap_or_else(|| body.trim().to_owned());
    let code = error.and_then(|error| {
        ["code", "type", "status"]
            .iter()
            .find_map(|key| error.get(key).and_then(Value::as_str))
            .map(str::to_owned)
    });
    let message = if message.is_empty() {
        "(no message)".to_owned()
    } else {
        message
    };
    (truncate(&message), code)
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// `text` with every occurrence of `secret` replaced by `***`.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_owned(),
    }
}

/// Whether a 400's code or words say the prompt did not fit: OpenAI's
/// `context_length_exceeded`, Anthropic's "prompt is too long", Gemini's "exceeds the maximum
/// number of tokens", and the "maximum context length" of OpenAI-compatible servers.
fn means_context_too_long(message: &str, code: Option<&str>) -> bool {
    if code.is_some_and(|code| code == "context_length_exceeded" || code == "request_too_large") {
        return true;
    }
    let lower = message.to_lowercase();
    [
        "prompt is too long",
        "context length",
        "context_length",
        "context window",
        "maximum context",
        "exceeds the maximum number of tokens",
        "input token count",
        "too many tokens",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_the_error_kinds_a_caller_acts_on() {
        let anthropic_long = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        assert!(matches!(
            ProviderError::from_status("anthropic", 400, anthropic_long, None, None),
            ProviderError::ContextTooLong { .. }
        ));
        let openai_long = r#"{"error":{"message":"too big","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        assert!(matches!(
            ProviderError::from_status("openai", 400, openai_long, None, None),
            ProviderError::ContextTooLong { .. }
        ));
        let other_400 = r#"{"error":{"message":"bad temperature","code":null}}"#;
        assert!(matches!(
            ProviderError::from_status("openai", 400, other_400, None, None),
            ProviderError::Rejected { status: 400, .. }
        ));
        let overloaded = ProviderError::from_status("anthropic", 529, "{}", None, None);
        assert!(overloaded.is_retryable(), "{overloaded:?}");
        let limited = ProviderError::from_status(
            "openai",
            429,
            "slow down",
            Some(Duration::from_secs(2)),
            None,
        );
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(2)));
        assert!(!ProviderError::from_status("groq", 403, "no", None, None).is_retryable());
        let ollama = ProviderError::from_status(
            "ollama",
            404,
            r#"{"error":"model \"x\" not found"}"#,
            None,
            None,
        );
        assert!(
            ollama.to_string().contains("model \"x\" not found"),
            "{ollama}"
        );
    }

    #[test]
    fn the_key_is_cut_out_of_a_vendors_message() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-secret-123.","code":"invalid_api_key"}}"#;
        let error = ProviderError::from_status("openai", 401, body, None, Some("sk-secret-123"));
        let text = error.to_string();
        assert!(!text.contains("sk-secret-123"), "{text}");
        assert!(text.contains("Incorrect API key provided: ***."), "{text}");
    }
}
