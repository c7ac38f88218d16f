//! The dialect decoders on vendor events the fake server does not send: thinking, DeepSeek's
//! cache fields, truncated replies, blocked prompts.

use super::http::ReplyState;
use super::{ProviderError, StopReason, anthropic, chat, gemini, responses};

fn reply() -> ReplyState {
    ReplyState::new("p", "asked-model")
}

#[test]
fn anthropic_thinking_is_not_reply_text_and_cache_writes_are_counted() {
    let mut state = reply();
    let start = r#"{"type":"message_start","message":{"model":"claude-opus-4-5","usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":0,"output_tokens":1}}}"#;
    assert_eq!(
        anthropic::on_event(&mut state, "message_start", start),
        Ok(None)
    );
    let thinking = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#;
    assert_eq!(
        anthropic::on_event(&mut state, "content_block_delta", thinking),
        Ok(None)
    );
    let stop = r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":64}}"#;
    anthropic::on_event(&mut state, "message_delta", stop).unwrap();
    assert_eq!(state.model, "claude-opus-4-5");
    assert_eq!(state.usage.cache_write_tokens, 300);
    assert_eq!(state.usage.output_tokens, 64);
    assert_eq!(state.stop, Some(StopReason::MaxTokens));
    assert!(!state.finished);
    anthropic::on_event(&mut state, "message_stop", r#"{"type":"message_stop"}"#).unwrap();
    assert!(state.finished);
}

#[test]
fn deepseek_cache_hits_and_reasoning_content_are_read_its_way() {
    let mut state = reply();
    let thinking = r#"{"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"reasoning_content":"let me see"},"finish_reason":null}]}"#;
    assert_eq!(chat::on_event(&mut state, thinking), Ok(None));
    let last = r#"{"choices":[{"index":0,"delta":{"content":"4"},"finish_reason":"length"}],"usage":{"prompt_tokens":100,"completion_tokens":30,"prompt_cache_hit_tokens":60,"prompt_cache_miss_tokens":40,"completion_tokens_details":{"reasoning_tokens":25}}}"#;
    assert_eq!(chat::on_event(&mut state, last), Ok(Some("4".to_owned())));
    assert_eq!(state.usage.input_tokens, 40);
    assert_eq!(state.usage.cached_input_tokens, 60);
    assert_eq!(state.usage.reasoning_tokens, 25);
    assert_eq!(state.stop, Some(StopReason::MaxTokens));
    chat::on_event(&mut state, "[DONE]").unwrap();
    assert!(state.finished);
}

#[test]
fn chat_done_before_any_finish_reason_is_a_protocol_error() {
    let mut state = reply();
    assert!(matches!(
        chat::on_event(&mut state, "[DONE]"),
        Err(ProviderError::Protocol { .. })
    ));
    assert!(matches!(
        chat::on_event(&mut state, "{not json"),
        Err(ProviderError::Protocol { .. })
    ));
}

#[test]
fn a_responses_reply_cut_at_the_token_limit_says_so() {
    let mut state = reply();
    let incomplete = r#"{"type":"response.incomplete","response":{"model":"gpt-5","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[],"usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":0},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":16}}}}"#;
    responses::on_event(&mut state, "response.incomplete", incomplete).unwrap();
    assert!(state.finished);
    assert_eq!(state.stop, Some(StopReason::MaxTokens));
    assert_eq!(state.usage.reasoning_tokens, 16);
    let failed = r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}"#;
    assert!(matches!(
        responses::on_event(&mut reply(), "response.failed", failed),
        Err(ProviderError::Server { .. })
    ));
}

#[test]
fn gemini_thoughts_are_not_text_and_a_blocked_prompt_is_refused() {
    let mut state = reply();
    let chunk = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"pondering","thought":true},{"text":"Four."}]},"finishReason":"SAFETY"}]}"#;
    assert_eq!(
        gemini::on_event(&mut state, chunk),
        Ok(Some("Four.".to_owned()))
    );
    assert_eq!(state.stop, Some(StopReason::ContentFilter));
    let blocked = r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#;
    assert!(matches!(
        gemini::on_event(&mut reply(), blocked),
        Err(ProviderError::Rejected { .. })
    ));
}
