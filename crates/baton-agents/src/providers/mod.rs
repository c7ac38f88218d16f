//! LLM providers over HTTP, for the planner, reviewer and judge: one streaming call
//! ([`Provider::stream`]) in four wire dialects (Anthropic Messages, OpenAI Responses, OpenAI
//! Chat Completions, Gemini), with typed errors, retries and usage in
//! [`baton_protocol::Usage`] so it lands in the same ledger as the agents' usage.
//!
//! baton speaks the dialects itself over `reqwest` (rustls with ring) rather than through a
//! multi-provider crate: see docs/providers.md for why.

mod anthropic;
mod catalog;
mod chat;
mod detect;
mod error;
mod gemini;
mod http;
mod responses;
mod retry;

pub use catalog::{KeySource, PROVIDERS, ProviderSpec, base_url_of, find, key_names, resolve_key};
pub use detect::{LocalServer, detect_local};
pub use error::ProviderError;
pub use http::{HttpProvider, ProviderOptions, Timeouts};
pub use retry::{RetryPolicy, Sleeper, parse_retry_after};

use baton_core::{CostBasis, PriceTable, Tokens, Usd, settle_cost};
use baton_protocol::{Usage, UsageTotals};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use serde::Serialize;

/// The wire dialect a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// Anthropic Messages (`POST {base}/v1/messages`, SSE).
    AnthropicMessages,
    /// OpenAI Responses (`POST {base}/responses`, SSE).
    OpenaiResponses,
    /// OpenAI Chat Completions (`POST {base}/chat/completions`, SSE with usage).
    OpenaiChat,
    /// Gemini (`POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`).
    Gemini,
}

impl Dialect {
    /// The name used in `baton providers` and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::AnthropicMessages => "anthropic-messages",
            Dialect::OpenaiResponses => "openai-responses",
            Dialect::OpenaiChat => "openai-chat",
            Dialect::Gemini => "gemini",
        }
    }
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person (or baton) asking.
    User,
    /// The model, in an earlier turn.
    Assistant,
}

impl Role {
    /// The role's name in the Anthropic and OpenAI dialects (Gemini calls the assistant
    /// `model`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// The conversation as `{"role", "content": text}` objects, the shape Anthropic Messages,
/// OpenAI Responses and Chat Completions all accept.
fn plain_messages(request: &CompletionRequest) -> impl Iterator<Item = serde_json::Value> + '_ {
    request
        .messages
        .iter()
        .map(|message| serde_json::json!({"role": message.role.as_str(), "content": message.text}))
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
}

impl Message {
    /// A user message.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            text: text.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            text: text.into(),
        }
    }
}

/// One call to a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompletionRequest {
    /// The model, as the provider names it.
    pub model: String,
    /// System instructions (may be empty).
    pub system: String,
    /// The conversation, oldest first; the last is normally the user's.
    pub messages: Vec<Message>,
    /// The most tokens the reply may have.
    pub max_output_tokens: u32,
    /// Sampling temperature, when not the provider's default.
    pub temperature: Option<f64>,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its reply.
    EndTurn,
    /// It hit `max_output_tokens`.
    MaxTokens,
    /// It wants to call a tool.
    ToolUse,
    /// The provider's filter stopped it.
    ContentFilter,
    /// Something else, as the provider named it.
    Other(String),
}

/// A finished call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The whole reply text.
    pub text: String,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// The model that answered (as the provider reported it, else as asked).
    pub model: String,
    /// Tokens spent, in the ledger's terms (`cumulative`: it covers the whole call).
    pub usage: Usage,
}

/// What a stream yields: text as it comes, then the finished call, then nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A piece of the reply's text.
    Delta(String),
    /// The call is over; the last item of the stream.
    Finished(Completion),
}

/// A streaming reply.
pub type CompletionStream = BoxStream<'static, Result<StreamEvent, ProviderError>>;

/// An LLM provider: one streaming call.
pub trait Provider: Send + Sync {
    /// The provider's name (`anthropic`, `openai`, `ollama`...).
    fn name(&self) -> &str;

    /// Starts a call. Errors before the first delta (including retryable ones after the
    /// retries) come from the future; errors after it come from the stream.
    fn stream<'a>(
        &'a self,
        request: &'a CompletionRequest,
    ) -> BoxFuture<'a, Result<CompletionStream, ProviderError>>;
}

/// Drives a stream to its end, handing each text piece to `on_delta`; returns the finished
/// call. A stream that ends without finishing is a protocol error.
pub async fn collect(
    provider: &str,
    mut stream: CompletionStream,
    mut on_delta: impl FnMut(&str),
) -> Result<Completion, ProviderError> {
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(text) => on_delta(&text),
            StreamEvent::Finished(completion) => return Ok(completion),
        }
    }
    Err(ProviderError::Protocol {
        provider: provider.to_owned(),
        message: "the stream ended without a finished reply".to_owned(),
    })
}

/// The dollars of a finished call, priced by `table` the way the engine prices an agent's
/// attempt (`settle_cost`): providers report tokens, not dollars, so the basis is `Priced`
/// when the table knows the model and `Unknown` (no figure, never zero) otherwise.
pub fn settle_usage(usage: &Usage, model: &str, table: &PriceTable) -> (Option<Usd>, CostBasis) {
    let mut totals = UsageTotals::default();
    totals.absorb(usage);
    let tokens = Tokens::from(&totals);
    let model = usage.model.as_deref().unwrap_or(model);
    settle_cost(
        usage.cost_usd_micros.map(Usd),
        Some(model),
        Some(&tokens),
        table,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::ModelPrice;

    fn table() -> PriceTable {
        let mut table = PriceTable {
            version: "test-1".to_owned(),
            ..PriceTable::default()
        };
        table.models.insert(
            "claude-sonnet-4-5".to_owned(),
            ModelPrice {
                input: Usd(3_000_000),
                cached_input: Usd(300_000),
                cache_write: Usd(3_750_000),
                output: Usd(15_000_000),
                reasoning: Usd(0),
            },
        );
        table
    }

    #[test]
    fn a_finished_calls_usage_is_priced_with_the_table() {
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 1_000_000,
            cache_write_tokens: 0,
            output_tokens: 100_000,
            reasoning_tokens: 0,
            cost_usd_micros: None,
            model: Some("claude-sonnet-4-5".to_owned()),
            cumulative: true,
        };
        let (cost, basis) = settle_usage(&usage, "asked-for-model", &table());
        // 1M input at $3 + 1M cached at $0.30 + 100k output at $15/M = $4.80.
        assert_eq!(cost, Some(Usd(4_800_000)));
        assert_eq!(basis, CostBasis::Priced);
    }

    #[test]
    fn an_unknown_model_has_an_unknown_cost_not_zero() {
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
            cumulative: true,
            ..Usage::default()
        };
        assert_eq!(
            settle_usage(&usage, "llama3.2", &table()),
            (None, CostBasis::Unknown)
        );
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod decode_tests;
