//! Rate limits, usage limits, auth, context and turn limits as each client reports them: the
//! decoded error kind, its reset time, and what the exit then means.

use baton_agents::{AgentAdapter, Aider, Claude, Codex, ExitClass, Gemini, OpenCode, decode_all};
use baton_protocol::{AgentErrorKind, AgentEvent, UsageTotals};

fn decode(adapter: &dyn AgentAdapter, output: &str) -> Vec<AgentEvent> {
    decode_all(adapter.decoder().as_mut(), output)
}

fn error_kinds(events: &[AgentEvent]) -> Vec<AgentErrorKind> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Error { kind, .. } => Some(kind.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn claude_usage_limit_with_epoch_seconds_is_a_usage_limit_until_that_instant() {
    let events = decode(
        &Claude,
        include_str!("fixtures/limits/claude_usage_limit.jsonl"),
    );
    let reset = Some("2025-06-15T15:06:40Z".to_string());
    assert!(
        error_kinds(&events).contains(&AgentErrorKind::UsageLimited {
            reset_at: reset.clone()
        })
    );
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, AgentEvent::Message { .. })),
        "an API error message is an error, not the agent's answer"
    );
    assert_eq!(
        Claude.classify_exit(1, &events),
        ExitClass::UsageLimited { reset_at: reset }
    );
}

#[test]
fn claude_hit_your_limit_keeps_the_reset_words_and_its_cost() {
    let events = decode(
        &Claude,
        include_str!("fixtures/limits/claude_hit_your_limit.jsonl"),
    );
    assert_eq!(
        Claude.classify_exit(1, &events),
        ExitClass::UsageLimited {
            reset_at: Some("3am (Europe/Berlin)".into())
        }
    );
    assert_eq!(
        UsageTotals::from_events(&events).cost_usd_micros,
        Some(12_300)
    );
}

#[test]
fn claude_api_error_status_429_is_a_rate_limit() {
    let events = decode(
        &Claude,
        include_str!("fixtures/limits/claude_rate_limited.jsonl"),
    );
    assert_eq!(
        Claude.classify_exit(1, &events),
        ExitClass::RateLimited { reset_at: None }
    );
}

#[test]
fn claude_error_max_turns_is_a_turn_limit_even_with_exit_zero() {
    let events = decode(
        &Claude,
        include_str!("fixtures/limits/claude_max_turns.jsonl"),
    );
    assert_eq!(error_kinds(&events), vec![AgentErrorKind::TurnLimit]);
    assert_eq!(Claude.classify_exit(0, &events), ExitClass::TurnLimit);
}

#[test]
fn codex_usage_limit_is_a_usage_limit_until_the_time_it_names() {
    let events = decode(
        &Codex,
        include_str!("fixtures/limits/codex_usage_limit.jsonl"),
    );
    assert_eq!(
        Codex.classify_exit(1, &events),
        ExitClass::UsageLimited {
            reset_at: Some("3:04 PM".into())
        }
    );
}

#[test]
fn codex_429_after_retries_is_a_rate_limit() {
    let events = decode(
        &Codex,
        include_str!("fixtures/limits/codex_rate_limited.jsonl"),
    );
    assert!(events.contains(&AgentEvent::Result {
        ok: false,
        text: Some("stream error: exceeded retry limit, last status: 429 Too Many Requests".into()),
        turns: None,
    }));
    assert_eq!(
        Codex.classify_exit(1, &events),
        ExitClass::RateLimited { reset_at: None }
    );
}

#[test]
fn gemini_resource_exhausted_per_minute_is_a_rate_limit_with_its_retry_delay() {
    let events = decode(&Gemini, include_str!("fixtures/limits/gemini_quota.jsonl"));
    assert_eq!(
        Gemini.classify_exit(1, &events),
        ExitClass::RateLimited {
            reset_at: Some("27.6s".into())
        }
    );
}

#[test]
fn gemini_exit_codes_name_auth_failure_bad_input_and_the_turn_limit() {
    assert_eq!(Gemini.classify_exit(41, &[]), ExitClass::AuthFailure);
    assert_eq!(Gemini.classify_exit(42, &[]), ExitClass::AgentError);
    assert_eq!(Gemini.classify_exit(53, &[]), ExitClass::TurnLimit);
    assert_eq!(Gemini.classify_exit(1, &[]), ExitClass::AgentError);
}

#[test]
fn opencode_api_error_with_status_429_is_a_rate_limit() {
    let events = decode(
        &OpenCode,
        include_str!("fixtures/limits/opencode_rate_limited.jsonl"),
    );
    assert_eq!(
        error_kinds(&events),
        vec![AgentErrorKind::RateLimited { reset_at: None }]
    );
    assert_eq!(
        OpenCode.classify_exit(1, &events),
        ExitClass::RateLimited { reset_at: None }
    );
}

#[test]
fn aider_litellm_errors_are_told_apart() {
    let events = decode(&Aider, include_str!("fixtures/limits/aider_errors.txt"));
    assert_eq!(
        error_kinds(&events),
        vec![
            AgentErrorKind::RateLimited {
                reset_at: Some("20s".into())
            },
            AgentErrorKind::Auth,
            AgentErrorKind::ContextTooLong,
        ]
    );
    // The last error decides.
    assert_eq!(Aider.classify_exit(1, &events), ExitClass::ContextTooLong);
}

#[test]
fn a_failed_exit_without_a_telling_error_is_an_agent_error() {
    let events = decode(&Codex, r#"{"type":"error","message":"something broke"}"#);
    assert_eq!(Codex.classify_exit(1, &events), ExitClass::AgentError);
}
