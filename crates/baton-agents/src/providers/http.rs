//! The one HTTP provider: builds a dialect's request, sends it with timeouts, turns error
//! statuses into [`ProviderError`]s, retries what may pass, and decodes the SSE reply.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::catalog::{ProviderSpec, base_url_of, resolve_key};
use super::error::redact;
use super::retry::{RetryPolicy, parse_retry_after};
use super::{
    Completion, CompletionRequest, CompletionStream, Dialect, Provider, ProviderError, StopReason,
    StreamEvent, anthropic, chat, gemini, responses,
};
use crate::keys::{ApiKey, KeyStore};
use baton_protocol::Usage;

/// How long to wait at each step of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To connect (TCP and TLS).
    pub connect: Duration,
    /// From sending the request to the response's status and headers.
    pub response: Duration,
    /// Between two pieces of the stream once it flows.
    pub idle: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 120 s for the response to start, 120 s of silence mid-stream
    /// (reasoning models can think a long time before their first token).
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            response: Duration::from_secs(120),
            idle: Duration::from_secs(120),
        }
    }
}

/// How to set up a provider beyond its catalogue entry.
#[derive(Debug, Clone, Default)]
pub struct ProviderOptions {
    /// The base URL (default: the environment's override, else the catalogue's).
    pub base_url: Option<String>,
    /// The key (default: none; see [`HttpProvider::from_env`] for the usual lookup).
    pub key: Option<ApiKey>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Retries.
    pub retry: RetryPolicy,
}

/// A provider reached over HTTP in its dialect.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    spec: &'static ProviderSpec,
    base_url: String,
    key: Option<ApiKey>,
    client: reqwest::Client,
    timeouts: Timeouts,
    retry: RetryPolicy,
}

impl HttpProvider {
    /// A provider as `options` say. Fails when the base URL is not http(s) or a key the
    /// provider needs is missing.
    pub fn new(
        spec: &'static ProviderSpec,
        options: ProviderOptions,
    ) -> Result<HttpProvider, ProviderError> {
        let config = |message: String| ProviderError::Config {
            provider: spec.name.to_owned(),
            message,
        };
        let base_url = options
            .base_url
            .unwrap_or_else(|| base_url_of(spec, &|name| std::env::var(name).ok()));
        let base_url = base_url.trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(url) => {
                return Err(config(format!(
                    "base URL {base_url:?} is {}:, not http or https (set {})",
                    url.scheme(),
                    spec.base_url_env
                )));
            }
            Err(error) => {
                return Err(config(format!(
                    "base URL {base_url:?} is not a URL ({error}); fix {}",
                    spec.base_url_env
                )));
            }
        }
        if spec.key_name.is_some() && options.key.is_none() {
            return Err(config(format!(
                "no API key: set {} or run `baton keys set {}`",
                spec.key_env.join(" or "),
                spec.key_name.unwrap_or(spec.name)
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(options.timeouts.connect)
            .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| config(format!("cannot build the HTTP client: {error}")))?;
        Ok(HttpProvider {
            spec,
            base_url,
            key: options.key,
            client,
            timeouts: options.timeouts,
            retry: options.retry,
        })
    }

    /// A provider configured from the environment: its base URL override, its key from its
    /// variables or else `store`.
    pub fn from_env(
        spec: &'static ProviderSpec,
        store: Option<&KeyStore>,
    ) -> Result<HttpProvider, ProviderError> {
        let env = |name: &str| std::env::var(name).ok();
        let (key, _) = resolve_key(spec, &env, store).map_err(|error| ProviderError::Config {
            provider: spec.name.to_owned(),
            message: error.to_string(),
        })?;
        HttpProvider::new(
            spec,
            ProviderOptions {
                key,
                ..ProviderOptions::default()
            },
        )
    }

    /// The catalogue entry.
    pub fn spec(&self) -> &'static ProviderSpec {
        self.spec
    }

    /// The base URL requests go under.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn secret(&self) -> Option<&str> {
        self.key.as_ref().map(ApiKey::expose)
    }

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.key {
            let (name, value) = match self.spec.dialect {
                Dialect::AnthropicMessages => ("x-api-key", key.expose().to_owned()),
                Dialect::Gemini => ("x-goog-api-key", key.expose().to_owned()),
                Dialect::OpenaiResponses | Dialect::OpenaiChat => {
                    ("authorization", format!("Bearer {}", key.expose()))
                }
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| ProviderError::Config {
                provider: self.spec.name.to_owned(),
                message: "the API key has characters an HTTP header cannot carry".to_owned(),
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), value);
        }
        if self.spec.dialect == Dialect::AnthropicMessages {
            headers.insert(
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static("2023-06-01"),
            );
        }
        Ok(headers)
    }

    fn endpoint_and_body(&self, request: &CompletionRequest) -> (String, Value) {
        let base = &self.base_url;
        match self.spec.dialect {
            Dialect::AnthropicMessages => (anthropic::url(base), anthropic::body(request)),
            Dialect::OpenaiResponses => (responses::url(base), responses::body(request)),
            Dialect::OpenaiChat => (
                chat::url(base),
                chat::body(request, self.spec.name == "openai-chat"),
            ),
            Dialect::Gemini => (gemini::url(base, &request.model), gemini::body(request)),
        }
    }

    /// One try: send, check the status, and read up to the first thing the caller will see,
    /// so everything that can fail before the caller has any text fails here (and may be
    /// retried).
    async fn open(&self, request: &CompletionRequest) -> Result<CompletionStream, ProviderError> {
        let provider = self.spec.name;
        let (url, body) = self.endpoint_and_body(request);
        let sent = self
            .client
            .post(&url)
            .headers(self.headers()?)
            .json(&body)
            .send();
        let response = match tokio::time::timeout(self.timeouts.response, sent).await {
            Err(_) => {
                return Err(ProviderError::Timeout {
                    provider: provider.to_owned(),
                    phase: "response",
                    after: self.timeouts.response,
                });
            }
            Ok(Err(error)) => return Err(self.transport_error(&url, &error)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let text = tokio::time::timeout(self.timeouts.idle, response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(ProviderError::from_status(
                provider,
                status.as_u16(),
                &text,
                retry_after,
                self.secret(),
            ));
        }
        let events = response.bytes_stream().eventsource().boxed();
        let mut reading = Reading {
            provider: provider.to_owned(),
            dialect: self.spec.dialect,
            secret: self.key.clone(),
            events,
            reply: ReplyState::new(provider, &request.model),
            pending: VecDeque::new(),
            done: false,
            idle: self.timeouts.idle,
        };
        if let Some(first) = reading.next_item().await {
            reading.pending.push_front(first?);
        }
        Ok(
            futures_util::stream::unfold(reading, |mut reading| async move {
                reading.next_item().await.map(|item| (item, reading))
            })
            .boxed(),
        )
    }

    fn transport_error(&self, url: &str, error: &reqwest::Error) -> ProviderError {
        let provider = self.spec.name.to_owned();
        if error.is_timeout() {
            return ProviderError::Timeout {
                provider,
                phase: if error.is_connect() {
                    "connection"
                } else {
                    "response"
                },
                after: if error.is_connect() {
                    self.timeouts.connect
                } else {
                    self.timeouts.response
                },
            };
        }
        ProviderError::Unreachable {
            provider,
            url: url.to_owned(),
            message: redact(&error_chain(error), self.secret()),
        }
    }
}

impl Provider for HttpProvider {
    fn name(&self) -> &str {
        self.spec.name
    }

    fn stream<'a>(
        &'a self,
        request: &'a CompletionRequest,
    ) -> BoxFuture<'a, Result<CompletionStream, ProviderError>> {
        Box::pin(async move {
            let mut attempt = 1;
            loop {
                match self.open(request).await {
                    Ok(stream) => return Ok(stream),
                    Err(error) if error.is_retryable() && attempt < self.retry.max_attempts => {
                        let delay = self.retry.delay(attempt, error.retry_after());
                        (self.retry.sleep)(delay).await;
                        attempt += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
        })
    }
}

/// The wait a response asks for: OpenAI's `retry-after-ms`, else `retry-after`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(millis) = text("retry-after-ms").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_millis(millis));
    }
    text("retry-after").and_then(|value| parse_retry_after(value, SystemTime::now()))
}

/// An error and its sources on one line (reqwest's own text is only "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a reply has said so far, in every dialect's terms.
#[derive(Debug)]
pub(super) struct ReplyState {
    /// The provider, for errors.
    pub provider: String,
    /// The model (as reported, else as asked).
    pub model: String,
    /// The text so far.
    pub text: String,
    /// Tokens so far (the dialect fills what it reports).
    pub usage: Usage,
    /// Why it stopped, once said.
    pub stop: Option<StopReason>,
    /// Whether the dialect's end marker came.
    pub finished: bool,
}

impl ReplyState {
    pub(super) fn new(provider: &str, model: &str) -> ReplyState {
        ReplyState {
            provider: provider.to_owned(),
            model: model.to_owned(),
            text: String::new(),
            usage: Usage::default(),
            stop: None,
            finished: false,
        }
    }

    /// A protocol error in this reply.
    pub fn protocol(&self, message: impl Into<String>) -> ProviderError {
        ProviderError::Protocol {
            provider: self.provider.clone(),
            message: message.into(),
        }
    }

    /// The event's JSON data.
    pub fn json(&self, data: &str) -> Result<Value, ProviderError> {
        serde_json::from_str(data).map_err(|error| {
            let mut shown: String = data.chars().take(200).collect();
            if shown.len() < data.len() {
                shown.push_str("...");
            }
            self.protocol(format!("an event is not JSON ({error}): {shown}"))
        })
    }

    fn completion(&self) -> Completion {
        Completion {
            text: self.text.clone(),
            stop_reason: self.stop.clone().unwrap_or(StopReason::EndTurn),
            model: self.model.clone(),
            usage: Usage {
                model: Some(self.model.clone()),
                cumulative: true,
                ..self.usage.clone()
            },
        }
    }
}

type SseStream = BoxStream<'static, Result<Event, EventStreamError<reqwest::Error>>>;

/// A reply being read.
struct Reading {
    provider: String,
    dialect: Dialect,
    secret: Option<ApiKey>,
    events: SseStream,
    reply: ReplyState,
    pending: VecDeque<StreamEvent>,
    done: bool,
    idle: Duration,
}

impl Reading {
    /// The next thing for the caller; `None` once the reply has finished or failed.
    async fn next_item(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            let next = tokio::time::timeout(self.idle, self.events.next()).await;
            let outcome = match next {
                Err(_) => Err(ProviderError::Timeout {
                    provider: self.provider.clone(),
                    phase: "data",
                    after: self.idle,
                }),
                Ok(None) if self.reply.stop.is_some() => {
                    self.reply.finished = true;
                    Ok(None)
                }
                Ok(None) => Err(self
                    .reply
                    .protocol("the stream ended before the reply finished")),
                Ok(Some(Err(error))) => Err(self.stream_error(error)),
                Ok(Some(Ok(event))) => self.decode(&event),
            };
            match outcome {
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
                Ok(delta) => {
                    if let Some(text) = delta.filter(|text| !text.is_empty()) {
                        self.reply.text.push_str(&text);
                        self.pending.push_back(StreamEvent::Delta(text));
                    }
                    if self.reply.finished {
                        self.done = true;
                        self.pending
                            .push_back(StreamEvent::Finished(self.reply.completion()));
                    }
                }
            }
        }
    }

    fn decode(&mut self, event: &Event) -> Result<Option<String>, ProviderError> {
        let reply = &mut self.reply;
        match self.dialect {
            Dialect::AnthropicMessages => anthropic::on_event(reply, &event.event, &event.data),
            Dialect::OpenaiResponses => responses::on_event(reply, &event.event, &event.data),
            Dialect::OpenaiChat => chat::on_event(reply, &event.data),
            Dialect::Gemini => gemini::on_event(reply, &event.data),
        }
    }

    fn stream_error(&self, error: EventStreamError<reqwest::Error>) -> ProviderError {
        let secret = self.secret.as_ref().map(ApiKey::expose);
        match error {
            EventStreamError::Transport(error) if error.is_timeout() => ProviderError::Timeout {
                provider: self.provider.clone(),
                phase: "data",
                after: self.idle,
            },
            EventStreamError::Transport(error) => ProviderError::Server {
                provider: self.provider.clone(),
                status: None,
                message: format!(
                    "the stream broke off: {}",
                    redact(&error_chain(&error), secret)
                ),
            },
            EventStreamError::Utf8(error) => self
                .reply
                .protocol(format!("the stream is not UTF-8: {error}")),
            EventStreamError::Parser(error) => self
                .reply
                .protocol(format!("the stream is not server-sent events: {error}")),
        }
    }
}
