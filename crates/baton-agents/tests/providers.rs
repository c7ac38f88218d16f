#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The providers against the fake LLM server over real HTTP on 127.0.0.1: each dialect streams
//! text and reports usage in the ledger's terms; errors are typed; retries wait what they
//! should; keys go where each vendor expects them and nowhere else.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_agents::keys::ApiKey;
use baton_agents::providers::{
    CompletionRequest, HttpProvider, Message, Provider, ProviderError, ProviderOptions,
    RetryPolicy, Sleeper, StopReason, StreamEvent, Timeouts, collect, detect_local, find,
};
use baton_protocol::Usage;
use baton_testkit::fake_llm::{FakeLlm, LoggedRequest, Script};
use futures_util::StreamExt;

const KEY: &str = "sk-test-0123456789-secret";

/// A sleeper that records each delay and returns at once.
fn recording_sleeper() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let delays = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&delays);
    let sleeper: Sleeper = Arc::new(move |delay| {
        seen.lock().unwrap().push(delay);
        Box::pin(async {})
    });
    (sleeper, delays)
}

fn options(base_url: String, sleep: Sleeper) -> ProviderOptions {
    ProviderOptions {
        base_url: Some(base_url),
        key: Some(ApiKey::new(KEY)),
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            response: Duration::from_secs(10),
            idle: Duration::from_secs(10),
        },
        retry: RetryPolicy {
            sleep,
            ..RetryPolicy::default()
        },
    }
}

/// The provider `name` pointed at `fake` (with `/v1` for the OpenAI-style base URLs).
fn provider_at(name: &str, fake: &FakeLlm, sleep: Sleeper) -> HttpProvider {
    let spec = find(name).unwrap();
    let base = if spec.default_base_url.ends_with("/v1") {
        format!("{}/v1", fake.url())
    } else {
        fake.url()
    };
    let mut options = options(base, sleep);
    if spec.key_name.is_none() {
        options.key = None;
    }
    HttpProvider::new(spec, options).unwrap()
}

fn request(model: &str) -> CompletionRequest {
    CompletionRequest {
        model: model.to_owned(),
        system: "You are terse.".to_owned(),
        messages: vec![Message::user("Say hello.")],
        max_output_tokens: 256,
        temperature: Some(0.2),
    }
}

fn fake(script: &str) -> FakeLlm {
    FakeLlm::start(Script::parse(script).unwrap()).unwrap()
}

/// Streams one call; returns the deltas and the finished call.
async fn stream_all(
    provider: &HttpProvider,
    model: &str,
) -> Result<(Vec<String>, baton_agents::providers::Completion), ProviderError> {
    let mut deltas = Vec::new();
    let stream = provider.stream(&request(model)).await?;
    let completion = collect(provider.name(), stream, |text| deltas.push(text.to_owned())).await?;
    Ok((deltas, completion))
}

const REPLY: &str = "Hello from the fake server, streamed in pieces.";

async fn streams_text_and_usage(name: &str, model: &str, expected: Usage) -> LoggedRequest {
    let fake = fake(&format!(
        "- text: {REPLY:?}\n  usage: {{input: 1200, output: 50, cached: 200, reasoning: 20}}\n"
    ));
    let (sleep, _) = recording_sleeper();
    let provider = provider_at(name, &fake, sleep);
    let (deltas, completion) = stream_all(&provider, model).await.unwrap();
    assert!(deltas.len() > 1, "{name}: one piece only: {deltas:?}");
    assert_eq!(deltas.concat(), REPLY);
    assert_eq!(completion.text, REPLY);
    assert_eq!(completion.stop_reason, StopReason::EndTurn);
    assert_eq!(completion.model, model);
    assert_eq!(completion.usage, expected, "{name}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    requests.into_iter().next().unwrap()
}

fn usage(model: &str, input: u64, cached: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        input_tokens: input,
        cached_input_tokens: cached,
        cache_write_tokens: 0,
        output_tokens: output,
        reasoning_tokens: reasoning,
        cost_usd_micros: None,
        model: Some(model.to_owned()),
        cumulative: true,
    }
}

#[tokio::test]
async fn anthropic_messages_streams_text_and_reports_cache_reads_apart() {
    // Anthropic does not split out reasoning tokens; the fake reports input less cache reads.
    let logged = streams_text_and_usage(
        "anthropic",
        "claude-sonnet-4-5",
        usage("claude-sonnet-4-5", 1000, 200, 50, 0),
    )
    .await;
    assert_eq!(logged.path, "/v1/messages");
    assert_eq!(logged.stream, Some(true));
    assert_eq!(logged.auth.get("x-api-key").map(String::as_str), Some(KEY));
    assert!(!logged.auth.contains_key("authorization"));
    assert!(logged.body_keys.contains(&"system".to_owned()));
}

#[tokio::test]
async fn openai_responses_streams_text_and_takes_cached_and_reasoning_tokens_out() {
    let logged = streams_text_and_usage("openai", "gpt-5", usage("gpt-5", 1000, 200, 50, 20)).await;
    assert_eq!(logged.path, "/v1/responses");
    assert_eq!(
        logged.auth.get("authorization").cloned(),
        Some(format!("Bearer {KEY}"))
    );
    assert!(logged.body_keys.contains(&"instructions".to_owned()));
}

#[tokio::test]
async fn chat_completions_streams_text_and_asks_for_usage_in_the_stream() {
    let logged = streams_text_and_usage(
        "openai-chat",
        "gpt-4.1",
        usage("gpt-4.1", 1000, 200, 50, 20),
    )
    .await;
    assert_eq!(logged.path, "/v1/chat/completions");
    assert_eq!(
        logged.auth.get("authorization").cloned(),
        Some(format!("Bearer {KEY}"))
    );
    for key in ["stream_options", "max_completion_tokens", "messages"] {
        assert!(logged.body_keys.contains(&key.to_owned()), "{key}");
    }
    assert_eq!(logged.roles, ["system", "user"]);
}

#[tokio::test]
async fn gemini_streams_text_and_counts_thoughts_as_output() {
    let logged = streams_text_and_usage(
        "gemini",
        "gemini-2.5-pro",
        usage("gemini-2.5-pro", 1000, 200, 50, 20),
    )
    .await;
    assert_eq!(
        logged.path,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        logged.auth.get("x-goog-api-key").map(String::as_str),
        Some(KEY)
    );
    assert!(!logged.auth.contains_key("key"), "the key is in the URL");
    assert!(logged.body_keys.contains(&"systemInstruction".to_owned()));
}

#[tokio::test]
async fn ollama_is_called_without_any_key() {
    let logged =
        streams_text_and_usage("ollama", "llama3.2", usage("llama3.2", 1000, 200, 50, 20)).await;
    assert!(logged.auth.is_empty(), "{:?}", logged.auth);
    assert!(logged.body_keys.contains(&"max_tokens".to_owned()));
}

#[tokio::test]
async fn a_429_is_retried_after_the_seconds_retry_after_asks_for() {
    let fake = fake("- error: {status: 429, retry_after: 3, body: slow down}\n- text: ok\n");
    let (sleep, delays) = recording_sleeper();
    let provider = provider_at("anthropic", &fake, sleep);
    let (_, completion) = stream_all(&provider, "claude-haiku-4-5").await.unwrap();
    assert_eq!(completion.text, "ok");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(*delays.lock().unwrap(), [Duration::from_secs(3)]);
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_honoured() {
    let fake =
        fake("- error: {status: 429, retry_after: 5, retry_after_as_date: true}\n- text: ok\n");
    let (sleep, delays) = recording_sleeper();
    let provider = provider_at("openai", &fake, sleep);
    stream_all(&provider, "gpt-5").await.unwrap();
    assert_eq!(fake.requests().len(), 2);
    let delays = delays.lock().unwrap().clone();
    assert_eq!(delays.len(), 1);
    // The date has whole seconds, so the wait is between 4 and 5 seconds, not the backoff's
    // 250-500 ms.
    assert!(
        delays[0] > Duration::from_secs(3) && delays[0] <= Duration::from_secs(5),
        "{delays:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_growing_backoff_until_one_succeeds() {
    let fake = fake("- error: {status: 500}\n- error: {status: 529}\n- text: third time\n");
    let (sleep, delays) = recording_sleeper();
    let provider = provider_at("anthropic", &fake, sleep);
    let (_, completion) = stream_all(&provider, "claude-haiku-4-5").await.unwrap();
    assert_eq!(completion.text, "third time");
    assert_eq!(fake.requests().len(), 3);
    let delays = delays.lock().unwrap().clone();
    assert_eq!(delays.len(), 2);
    let ms = Duration::from_millis;
    assert!(delays[0] >= ms(250) && delays[0] <= ms(500), "{delays:?}");
    assert!(delays[1] >= ms(500) && delays[1] <= ms(1000), "{delays:?}");
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_with_the_last_error() {
    let fake = fake("- error: {status: 503}\n- error: {status: 503}\n- error: {status: 503}\n");
    let (sleep, delays) = recording_sleeper();
    let spec = find("openai-chat").unwrap();
    let mut options = options(format!("{}/v1", fake.url()), sleep);
    options.retry.max_attempts = 2;
    let provider = HttpProvider::new(spec, options).unwrap();
    let error = stream_all(&provider, "gpt-4.1").await.unwrap_err();
    assert!(
        matches!(
            error,
            ProviderError::Server {
                status: Some(503),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(delays.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_key_is_an_auth_error_tried_once_and_the_key_is_not_in_it() {
    let fake = fake(&format!(
        "- error: {{status: 401, body: \"Incorrect API key provided: {KEY}\"}}\n"
    ));
    let (sleep, delays) = recording_sleeper();
    let provider = provider_at("openai", &fake, sleep);
    let error = stream_all(&provider, "gpt-5").await.unwrap_err();
    assert!(
        matches!(error, ProviderError::Auth { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1);
    assert!(delays.lock().unwrap().is_empty());
    let shown = format!("{error} {error:?} {provider:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("Incorrect API key provided: ***"), "{shown}");
}

#[tokio::test]
async fn a_prompt_too_long_is_context_too_long_in_each_dialect() {
    let cases = [
        (
            "anthropic",
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 250000 tokens > 200000 maximum"}}"#,
        ),
        (
            "openai",
            r#"{"error":{"message":"Your input exceeds the context window of this model.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}"#,
        ),
        (
            "gemini",
            r#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#,
        ),
    ];
    for (name, body) in cases {
        let script = Script::parse(&format!(
            "- error: {{status: 400, body: {}}}\n",
            serde_json::to_string(body).unwrap()
        ))
        .unwrap();
        let fake = FakeLlm::start(script).unwrap();
        let (sleep, _) = recording_sleeper();
        let provider = provider_at(name, &fake, sleep);
        let error = stream_all(&provider, "m").await.unwrap_err();
        assert!(
            matches!(error, ProviderError::ContextTooLong { .. }),
            "{name}: {error:?}"
        );
        assert!(!error.is_retryable());
        assert_eq!(fake.requests().len(), 1, "{name}");
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let fake = fake("- hang: true\n");
    let (sleep, _) = recording_sleeper();
    let spec = find("anthropic").unwrap();
    let mut options = options(fake.url(), sleep);
    options.timeouts.response = Duration::from_millis(300);
    options.retry.max_attempts = 1;
    let provider = HttpProvider::new(spec, options).unwrap();
    let error = stream_all(&provider, "claude-haiku-4-5").await.unwrap_err();
    assert!(
        matches!(
            error,
            ProviderError::Timeout {
                phase: "response",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_hang_is_retried_like_any_timeout() {
    let fake = fake("- hang: true\n- text: awake\n");
    let (sleep, delays) = recording_sleeper();
    let spec = find("gemini").unwrap();
    let mut options = options(fake.url(), sleep);
    options.timeouts.response = Duration::from_millis(300);
    let provider = HttpProvider::new(spec, options).unwrap();
    let (_, completion) = stream_all(&provider, "gemini-2.5-flash").await.unwrap();
    assert_eq!(completion.text, "awake");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(delays.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_stream_yields_deltas_then_exactly_one_finished_event() {
    let fake = fake(&format!("- text: {REPLY:?}\n"));
    let (sleep, _) = recording_sleeper();
    let provider = provider_at("openrouter", &fake, sleep);
    let events: Vec<_> = provider
        .stream(&request("anthropic/claude-sonnet-4-5"))
        .await
        .unwrap()
        .collect()
        .await;
    let last = events.last().unwrap().as_ref().unwrap();
    assert!(matches!(last, StreamEvent::Finished(_)), "{last:?}");
    let finished = events
        .iter()
        .filter(|event| matches!(event, Ok(StreamEvent::Finished(_))))
        .count();
    assert_eq!(finished, 1);
    assert!(events.iter().all(Result::is_ok));
}

#[tokio::test]
async fn a_provider_without_its_key_or_with_a_bad_url_is_a_config_error() {
    let spec = find("groq").unwrap();
    let error = HttpProvider::new(
        spec,
        ProviderOptions {
            base_url: Some("http://127.0.0.1:1/v1".to_owned()),
            ..ProviderOptions::default()
        },
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, ProviderError::Config { .. }), "{text}");
    assert!(
        text.contains("GROQ_API_KEY") && text.contains("baton keys set groq"),
        "{text}"
    );
    let error = HttpProvider::new(
        spec,
        ProviderOptions {
            base_url: Some("ftp://example.invalid".to_owned()),
            key: Some(ApiKey::new(KEY)),
            ..ProviderOptions::default()
        },
    )
    .unwrap_err();
    assert!(error.to_string().contains("BATON_GROQ_BASE_URL"), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_not_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (sleep, delays) = recording_sleeper();
    let spec = find("lmstudio").unwrap();
    let mut options = options(format!("http://127.0.0.1:{port}/v1"), sleep);
    options.key = None;
    let provider = HttpProvider::new(spec, options).unwrap();
    let error = stream_all(&provider, "qwen").await.unwrap_err();
    assert!(
        matches!(error, ProviderError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&port.to_string()), "{error}");
    assert!(delays.lock().unwrap().is_empty());
}

#[tokio::test]
async fn detection_finds_ollama_where_the_environment_points_and_says_lm_studio_is_not_running() {
    let fake =
        FakeLlm::start(Script::parse("models: [llama3.2, qwen3]\nturns: []\n").unwrap()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ollama_host = fake.url();
    let lmstudio = format!("http://127.0.0.1:{port}/v1");
    let env = move |name: &str| match name {
        "OLLAMA_HOST" => Some(ollama_host.clone()),
        "BATON_LMSTUDIO_BASE_URL" => Some(lmstudio.clone()),
        _ => None,
    };
    let found = detect_local(Duration::from_secs(2), &env).await;
    assert_eq!(found.len(), 2);
    let ollama = found.iter().find(|s| s.provider == "ollama").unwrap();
    assert!(ollama.running, "{ollama:?}");
    assert_eq!(ollama.models, ["llama3.2", "qwen3"]);
    assert_eq!(ollama.base_url, format!("{}/v1", fake.url()));
    let studio = found.iter().find(|s| s.provider == "lmstudio").unwrap();
    assert!(!studio.running);
    assert!(studio.problem.is_some());
    assert_eq!(fake.requests()[0].path, "/api/tags");
}

#[tokio::test]
async fn an_error_event_at_the_start_of_a_stream_is_retried_in_every_dialect() {
    for name in ["anthropic", "openai", "openai-chat", "gemini"] {
        let fake =
            fake("- error: {status: 529, in_stream: true, body: Overloaded}\n- text: recovered\n");
        let (sleep, delays) = recording_sleeper();
        let provider = provider_at(name, &fake, sleep);
        let (deltas, completion) = stream_all(&provider, "m").await.unwrap();
        assert_eq!(deltas, ["recovered"], "{name}");
        assert_eq!(completion.text, "recovered", "{name}");
        assert_eq!(fake.requests().len(), 2, "{name}");
        assert_eq!(delays.lock().unwrap().len(), 1, "{name}");
    }
}

#[tokio::test]
async fn an_error_event_in_a_stream_keeps_its_kind() {
    let fake = fake("- error: {status: 429, in_stream: true, body: too fast}\n");
    let (sleep, _) = recording_sleeper();
    let spec = find("openai").unwrap();
    let mut options = options(format!("{}/v1", fake.url()), sleep);
    options.retry.max_attempts = 1;
    let provider = HttpProvider::new(spec, options).unwrap();
    let error = stream_all(&provider, "gpt-5").await.unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { ref message, .. } if message == "too fast"),
        "{error:?}"
    );
}
