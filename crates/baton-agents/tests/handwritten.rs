//! Decoders for clients not recorded yet (Qwen Code, Goose, Cursor), on hand-written lines in
//! the shapes their documentation describes, and what every decoder does with lines it does not
//! understand.

use baton_agents::{
    ADAPTERS, AgentAdapter, Claude, Cursor, ExitClass, Goose, Qwen, UsageReporting, decode_all,
};
use baton_protocol::{AgentEvent, FileChangeKind, UsageTotals};

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

#[test]
fn qwen_claude_shaped_events_give_reasoning_the_write_the_answer_and_the_final_tokens() {
    let events = decode(&Qwen, include_str!("fixtures/qwen/stream.jsonl"));
    assert_eq!(Qwen.session_id(&events).as_deref(), Some("qwen-session-1"));
    assert!(events.contains(&AgentEvent::Reasoning {
        summary: "The user wants a file.".into()
    }));
    assert!(events.contains(&AgentEvent::FileChange {
        path: "/repo/hello.txt".into(),
        kind: FileChangeKind::Modify,
    }));
    assert_eq!(messages(&events), vec!["Created hello.txt."]);
    let usage = UsageTotals::from_events(&events);
    // Two per-message reports, then the result's total replaces them.
    assert_eq!(usage.reports, 3);
    assert_eq!(usage.input_tokens, 2_500);
    assert_eq!(usage.cached_input_tokens, 300);
    assert_eq!(usage.output_tokens, 50);
    assert_eq!(usage.cost_usd_micros, None);
    assert_eq!(Qwen.classify_exit(0, &events), ExitClass::Success);
}

#[test]
fn goose_stream_json_gives_the_edit_the_shell_command_the_answer_and_the_total_tokens() {
    let events = decode(&Goose, include_str!("fixtures/goose/stream.jsonl"));
    assert!(events.contains(&AgentEvent::FileChange {
        path: "/repo/hello.txt".into(),
        kind: FileChangeKind::Modify,
    }));
    assert!(events.contains(&AgentEvent::CommandRun {
        command: "cat hello.txt".into(),
        exit_code: None,
        output: "hi".into(),
    }));
    // The user's prompt is not the agent's message.
    assert_eq!(
        messages(&events),
        vec!["I'll create the file.", "Done: created hello.txt."]
    );
    let usage = UsageTotals::from_events(&events);
    assert_eq!(usage.input_tokens + usage.output_tokens, 4_321);
    assert!(events.contains(&AgentEvent::Result {
        ok: true,
        text: None,
        turns: None
    }));
}

#[test]
fn cursor_tool_calls_give_the_write_and_the_command_and_its_usage_stays_unknown() {
    let events = decode(&Cursor, include_str!("fixtures/cursor/stream.jsonl"));
    assert_eq!(
        Cursor.session_id(&events).as_deref(),
        Some("cursor-session-1")
    );
    assert!(events.iter().any(|event| matches!(
        event,
        AgentEvent::ToolCall { id, name, .. } if id == "toolu_1" && name == "write"
    )));
    assert!(events.contains(&AgentEvent::FileChange {
        path: "/repo/hello.txt".into(),
        kind: FileChangeKind::Modify,
    }));
    assert!(events.contains(&AgentEvent::CommandRun {
        command: "ls".into(),
        exit_code: Some(0),
        output: "hello.txt\n".into(),
    }));
    assert_eq!(
        messages(&events),
        vec!["Creating the file.", "Done: created hello.txt."]
    );
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, AgentEvent::Usage(_)))
    );
    assert_eq!(UsageTotals::from_events(&events).cost_usd_micros, None);
    assert_eq!(Cursor.usage_reporting(), UsageReporting::Unreported);
}

#[test]
fn a_line_that_is_not_json_is_kept_as_text_and_never_fails_a_json_decoder() {
    for adapter in ADAPTERS {
        if matches!(adapter.name(), "aider") {
            continue;
        }
        let events = decode(adapter, "Warning: something odd\n\n");
        assert_eq!(
            events,
            vec![AgentEvent::Unknown {
                raw: serde_json::Value::String("Warning: something odd".into())
            }],
            "{}",
            adapter.name()
        );
    }
}

#[test]
fn an_unknown_json_event_is_kept_raw() {
    let line = r#"{"type":"brand_new_event","x":1}"#;
    for adapter in ADAPTERS {
        if matches!(adapter.name(), "aider" | "exec") {
            continue;
        }
        let events = decode(adapter, line);
        assert_eq!(
            events,
            vec![AgentEvent::Unknown {
                raw: serde_json::json!({"type": "brand_new_event", "x": 1})
            }],
            "{}",
            adapter.name()
        );
    }
}

#[test]
fn a_ten_megabyte_assistant_message_is_decoded_whole() {
    let text = "a".repeat(10 * 1024 * 1024);
    let line = serde_json::json!({
        "type": "assistant",
        "message": {"id": "big", "role": "assistant", "content": [{"type": "text", "text": text}]},
        "session_id": "s"
    })
    .to_string();
    assert!(line.len() > 10 * 1024 * 1024);
    let events = decode(&Claude, &line);
    let lengths: Vec<usize> = events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Message { text } => Some(text.len()),
            _ => None,
        })
        .collect();
    assert_eq!(lengths, vec![10 * 1024 * 1024]);
}

#[test]
fn a_claude_todo_write_call_gives_the_agents_checklist() {
    let line = r#"{"type":"assistant","message":{"id":"msg_1","content":[{"type":"tool_use","id":"toolu_1","name":"TodoWrite","input":{"todos":[{"content":"Read the parser","status":"completed","activeForm":"Reading"},{"content":"Split the lexer","status":"in_progress","activeForm":"Splitting"},{"content":"Run the tests","status":"pending","activeForm":"Running"}]}}]}}"#;
    let events = decode(&Claude, line);
    let list = events
        .iter()
        .find_map(|event| match event {
            AgentEvent::TodoList { items } => Some(items.clone()),
            _ => None,
        })
        .expect("a todo list");
    let summary: Vec<(&str, bool)> = list.iter().map(|i| (i.text.as_str(), i.done)).collect();
    assert_eq!(
        summary,
        vec![
            ("Read the parser", true),
            ("Split the lexer", false),
            ("Run the tests", false)
        ]
    );
    // The call itself is still reported.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCall { name, .. } if name == "TodoWrite"))
    );
}
