//! Each adapter's decoder on what the real client printed (copied from the recorded runs
//! against a fake LLM server): the messages, tool calls, file changes, session and usage.

use baton_agents::{AgentAdapter, Aider, Claude, Codex, ExitClass, Gemini, OpenCode, decode_all};
use baton_protocol::{AgentErrorKind, AgentEvent, FileChangeKind, UsageTotals};

fn decode(adapter: &dyn AgentAdapter, output: &str) -> Vec<AgentEvent> {
    decode_all(adapter.decoder().as_mut(), output)
}

fn messages(events: &[AgentEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Message { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn file_changes(events: &[AgentEvent]) -> Vec<(&str, FileChangeKind)> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::FileChange { path, kind } => Some((path.as_str(), *kind)),
            _ => None,
        })
        .collect()
}

fn unknowns(events: &[AgentEvent]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, AgentEvent::Unknown { .. }))
        .count()
}

#[test]
fn claude_stream_json_gives_the_write_the_answer_the_session_and_the_final_cost() {
    let events = decode(&Claude, include_str!("fixtures/claude/stdout.jsonl"));
    assert_eq!(
        Claude.session_id(&events).as_deref(),
        Some("d6bdba1f-fa0f-4866-89d9-74351544c8ff")
    );
    assert!(events.contains(&AgentEvent::ToolCall {
        id: "toolu_3_d1b10933".into(),
        name: "Write".into(),
        input: serde_json::json!({"file_path": "/repo/hello.txt", "content": "hello from fake llm\n"}),
    }));
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::ToolResult { id, ok: true, output }
            if id == "toolu_3_d1b10933" && output.starts_with("File created successfully")
    )));
    assert_eq!(
        file_changes(&events),
        vec![("/repo/hello.txt", FileChangeKind::Add)]
    );
    assert_eq!(messages(&events), vec!["Done: created hello.txt."]);
    assert!(events.contains(&AgentEvent::Result {
        ok: true,
        text: Some("Done: created hello.txt.".into()),
        turns: Some(2),
    }));
    assert_eq!(unknowns(&events), 0, "{events:#?}");

    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.input_tokens, 38_388);
    assert_eq!(usage.output_tokens, 34);
    assert_eq!(usage.cached_input_tokens, 0);
    assert_eq!(usage.cache_write_tokens, 0);
    // total_cost_usd 0.19278999999999996 is a running total: kept, not added to anything.
    assert_eq!(usage.cost_usd_micros, Some(192_790));
    assert_eq!(usage.model.as_deref(), Some("fake-model"));
    assert_eq!(Claude.classify_exit(0, &events), ExitClass::Success);
}

#[test]
fn codex_exec_json_gives_the_command_the_answer_the_thread_and_the_running_token_total() {
    let events = decode(&Codex, include_str!("fixtures/codex/stdout.jsonl"));
    assert_eq!(
        Codex.session_id(&events).as_deref(),
        Some("01a209a6-1624-7de1-ab0b-10b2fd4a89ec")
    );
    let runs: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::CommandRun {
                command, exit_code, ..
            } => Some((command.as_str(), *exit_code)),
            _ => None,
        })
        .collect();
    assert_eq!(
        runs,
        vec![(
            r#"/bin/bash -lc "printf '%s\\n' \"hello from fake llm\" > \"/repo/hello.txt\"""#,
            Some(0)
        )]
    );
    assert_eq!(messages(&events), vec!["Done: created hello.txt."]);
    // The unknown-model warning arrives as an error item; the run still succeeded.
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::Error { message, kind: AgentErrorKind::Other }
            if message.starts_with("Model metadata for `fake-model` not found")
    )));
    assert_eq!(unknowns(&events), 0, "{events:#?}");

    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.input_tokens, 20_327);
    assert_eq!(usage.output_tokens, 34);
    assert_eq!(usage.reasoning_tokens, 0);
    assert_eq!(usage.cost_usd_micros, None, "codex reports no dollars");
    assert_eq!(Codex.classify_exit(0, &events), ExitClass::Success);
}

#[test]
fn gemini_stream_json_gives_the_tool_call_the_answer_the_session_and_the_tokens_per_model() {
    let events = decode(&Gemini, include_str!("fixtures/gemini/stdout.jsonl"));
    assert_eq!(
        Gemini.session_id(&events).as_deref(),
        Some("8991ebce-9a85-4e45-94c6-7cee55064d07")
    );
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::ToolCall { id, name, input }
            if id == "write_file__write_file_1795458212862_0"
                && name == "write_file"
                && input["file_path"] == "/repo/hello.txt"
    )));
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::ToolResult { id, ok: true, .. } if id == "write_file__write_file_1795458212862_0"
    )));
    assert_eq!(
        file_changes(&events),
        vec![("/repo/hello.txt", FileChangeKind::Modify)]
    );
    // The user's prompt is echoed as a message too; only the assistant's text is a Message.
    assert_eq!(messages(&events), vec!["Done: created hello.txt."]);
    assert_eq!(unknowns(&events), 0, "{events:#?}");

    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.input_tokens, 24_563);
    assert_eq!(usage.output_tokens, 34);
    assert_eq!(usage.cost_usd_micros, None);
    assert_eq!(usage.model.as_deref(), Some("fake-model"));
    assert_eq!(Gemini.classify_exit(0, &events), ExitClass::Success);
}

#[test]
fn opencode_json_gives_the_write_the_answer_one_session_and_the_sum_of_its_steps() {
    let events = decode(&OpenCode, include_str!("fixtures/opencode/stdout.jsonl"));
    let sessions = events
        .iter()
        .filter(|event| matches!(event, AgentEvent::Session { .. }))
        .count();
    assert_eq!(sessions, 1);
    assert_eq!(
        OpenCode.session_id(&events).as_deref(),
        Some("ses_df659c8d9ffeWwXRGvOyrhvCS4")
    );
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::ToolCall { id, name, .. } if id == "call_4_bccb67d0" && name == "write"
    )));
    assert!(events.contains(&AgentEvent::ToolResult {
        id: "call_4_bccb67d0".into(),
        ok: true,
        output: "Wrote file successfully.".into(),
    }));
    assert_eq!(
        file_changes(&events),
        vec![("/repo/hello.txt", FileChangeKind::Add)]
    );
    assert_eq!(messages(&events), vec!["Done: created hello.txt."]);
    assert_eq!(unknowns(&events), 0, "{events:#?}");

    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.reports, 2);
    assert_eq!(usage.input_tokens, 7_695 + 7_776);
    assert_eq!(usage.output_tokens, 17 + 17);
    // The model had no prices configured, so opencode said 0: unknown, for baton to price.
    assert_eq!(usage.cost_usd_micros, None);
}

#[test]
fn aider_text_gives_the_edit_and_the_rounded_tokens_and_session_cost() {
    let events = decode(&Aider, include_str!("fixtures/aider/stdout.txt"));
    assert_eq!(
        file_changes(&events),
        vec![("hello.txt", FileChangeKind::Modify)]
    );
    assert!(messages(&events).contains(&"I will create hello.txt."));
    assert_eq!(Aider.session_id(&events), None);

    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.input_tokens, 2_500, "2.5k sent");
    assert_eq!(usage.output_tokens, 26);
    assert_eq!(usage.cost_usd_micros, Some(2_600));
    assert_eq!(Aider.classify_exit(0, &events), ExitClass::Success);
}

#[test]
fn two_aider_messages_add_their_tokens_and_keep_the_last_session_cost() {
    let output = "Tokens: 2.5k sent, 26 received. Cost: $0.0026 message, $0.0026 session.\n\
                  Tokens: 12k sent, 3k cache hit, 1.2k received. Cost: $0.01 message, $0.0126 session.\n";
    let usage = UsageTotals::from_events(&decode(&Aider, output));
    assert_eq!(usage.input_tokens, 2_500 + 9_000);
    assert_eq!(usage.cached_input_tokens, 3_000);
    assert_eq!(usage.output_tokens, 26 + 1_200);
    assert_eq!(usage.cost_usd_micros, Some(12_600));
}
