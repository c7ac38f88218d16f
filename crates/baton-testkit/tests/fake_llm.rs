//! The fake LLM server over real HTTP on 127.0.0.1: each dialect's streams parse back the way
//! its client reads them, and errors, delays, hangs, the request log and the binary behave as
//! scripted.

mod support;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use baton_testkit::fake_llm::{Dialect, FakeLlm, FakeLlmOptions, Script};
use serde_json::{Value, json};
use support::{HttpResponse, SseEvent, post, read_response, request, send};

fn fake(yaml: &str) -> anyhow::Result<FakeLlm> {
    Ok(FakeLlm::start(Script::parse(yaml)?)?)
}

/// Event names with runs of the same name collapsed to one, to compare stream shapes.
fn shape(events: &[SseEvent]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .map(|event| event.name.clone().unwrap_or_default())
        .collect();
    names.dedup();
    names
}

/// The JSON data of every event named `name`.
fn data_of(events: &[SseEvent], name: &str) -> anyhow::Result<Vec<Value>> {
    events
        .iter()
        .filter(|event| event.name.as_deref() == Some(name))
        .map(SseEvent::json)
        .collect()
}

/// The strings at `pointer` in each value, joined.
fn joined(values: &[Value], pointer: &str) -> String {
    values
        .iter()
        .filter_map(|value| value.pointer(pointer).and_then(Value::as_str))
        .collect()
}

fn text_of(response: &HttpResponse) -> anyhow::Result<String> {
    let body = response.json()?;
    Ok(body
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .context("no message content")?
        .to_owned())
}

fn chat_body(stream: bool) -> Value {
    json!({"model": "fake-model", "stream": stream,
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]})
}

fn anthropic_body(stream: bool) -> Value {
    json!({"model": "claude-fake", "stream": stream, "max_tokens": 1000,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
}

const HELLO: &str = "Hello from the fake model, streamed in several pieces.";

#[tokio::test]
async fn anthropic_streamed_text_arrives_as_text_deltas_between_input_and_output_usage()
-> anyhow::Result<()> {
    let fake = fake(&format!(
        "- text: {HELLO:?}\n  usage: {{input: 120, output: 9, cached: 20}}\n"
    ))?;
    let response = post(fake.port(), "/v1/messages?beta=true", &anthropic_body(true)).await?;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let events = response.events()?;
    assert_eq!(
        shape(&events),
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for event in &events {
        assert_eq!(event.json()?["type"].as_str(), event.name.as_deref());
    }
    let start = &data_of(&events, "message_start")?[0]["message"];
    assert_eq!(start["model"], "claude-fake");
    assert_eq!(start["usage"]["input_tokens"], 100, "input less cached");
    assert_eq!(start["usage"]["cache_read_input_tokens"], 20);
    let deltas = data_of(&events, "content_block_delta")?;
    assert!(deltas.len() > 1, "the text should stream in pieces");
    assert!(
        deltas
            .iter()
            .all(|delta| delta["delta"]["type"] == "text_delta")
    );
    assert_eq!(joined(&deltas, "/delta/text"), HELLO);
    let end = &data_of(&events, "message_delta")?[0];
    assert_eq!(end["delta"]["stop_reason"], "end_turn");
    assert_eq!(end["usage"]["output_tokens"], 9);
    Ok(())
}

#[tokio::test]
async fn anthropic_tool_call_streams_its_input_as_json_pieces_and_stops_for_tool_use()
-> anyhow::Result<()> {
    let fake = fake(
        "- text: Writing it.\n  tool_call: {name: Write, input: {file_path: /tmp/w/hello.txt, content: \"hello from fake llm\\n\"}}\n",
    )?;
    let events = post(fake.port(), "/v1/messages", &anthropic_body(true))
        .await?
        .events()?;
    let starts = data_of(&events, "content_block_start")?;
    assert_eq!(starts.len(), 2, "a text block then a tool_use block");
    let tool = &starts[1];
    assert_eq!(tool["index"], 1);
    assert_eq!(tool["content_block"]["type"], "tool_use");
    assert_eq!(tool["content_block"]["name"], "Write");
    assert!(
        tool["content_block"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_"))
    );
    let pieces: Vec<Value> = data_of(&events, "content_block_delta")?
        .into_iter()
        .filter(|delta| delta["index"] == 1)
        .collect();
    assert!(pieces.len() > 1, "the input should stream in pieces");
    assert!(
        pieces
            .iter()
            .all(|piece| piece["delta"]["type"] == "input_json_delta")
    );
    let input: Value = serde_json::from_str(&joined(&pieces, "/delta/partial_json"))?;
    assert_eq!(
        input,
        json!({"file_path": "/tmp/w/hello.txt", "content": "hello from fake llm\n"})
    );
    assert_eq!(
        data_of(&events, "message_delta")?[0]["delta"]["stop_reason"],
        "tool_use"
    );
    Ok(())
}

#[tokio::test]
async fn anthropic_request_without_stream_gets_one_message_and_the_probe_takes_no_turn()
-> anyhow::Result<()> {
    let fake =
        fake("- tool_call: {name: Bash, input: {command: ls}}\n  usage: {input: 10, output: 3}\n")?;
    let probe = request(fake.port(), "HEAD", "/", None).await?;
    assert_eq!(probe.status, 200);
    let message = post(fake.port(), "/v1/messages", &anthropic_body(false))
        .await?
        .json()?;
    assert_eq!(message["type"], "message");
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(message["content"][0]["type"], "tool_use");
    assert_eq!(message["content"][0]["input"], json!({"command": "ls"}));
    assert_eq!(message["usage"]["input_tokens"], 10);
    assert_eq!(message["usage"]["output_tokens"], 3);
    let turns: Vec<Option<usize>> = fake.requests().iter().map(|r| r.turn).collect();
    assert_eq!(turns, [None, Some(1)]);
    Ok(())
}

fn responses_body(tools: Value) -> Value {
    json!({"model": "gpt-fake", "stream": true, "tools": tools, "input": [
        {"role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "make hello.txt"}]}]})
}

#[tokio::test]
async fn responses_streamed_text_ends_with_completed_usage_including_cached_and_reasoning()
-> anyhow::Result<()> {
    let fake = fake(&format!(
        "- text: {HELLO:?}\n  usage: {{input: 300, output: 50, cached: 100, reasoning: 10}}\n"
    ))?;
    let response = post(fake.port(), "/v1/responses", &responses_body(json!([]))).await?;
    assert_eq!(response.status, 200);
    let events = response.events()?;
    assert_eq!(
        shape(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas = data_of(&events, "response.output_text.delta")?;
    assert!(deltas.len() > 1);
    assert_eq!(joined(&deltas, "/delta"), HELLO);
    let item = &data_of(&events, "response.output_item.done")?[0]["item"];
    assert_eq!(item["type"], "message");
    assert_eq!(item["content"][0]["text"], HELLO);
    let completed = &data_of(&events, "response.completed")?[0]["response"];
    assert_eq!(completed["status"], "completed");
    let usage = &completed["usage"];
    assert_eq!(usage["input_tokens"], 300);
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 100);
    assert_eq!(usage["output_tokens"], 50);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 10);
    Ok(())
}

#[tokio::test]
async fn responses_tool_calls_are_function_calls_and_apply_patch_is_a_custom_tool_call()
-> anyhow::Result<()> {
    let patch =
        "*** Begin Patch\n*** Add File: /tmp/w/hello.txt\n+hello from fake llm\n*** End Patch\n";
    let script = format!(
        "- tool_call: {{name: exec_command, input: {{cmd: \"ls -la /tmp/w\", workdir: /tmp/w}}}}\n\
         - tool_call: {{name: apply_patch, input: {patch:?}}}\n\
         - tool_call: {{name: apply_patch, input: {patch:?}}}\n"
    );
    let fake = fake(&script)?;
    let custom = json!([{"type": "function", "name": "exec_command"},
        {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}}]);
    let events = post(
        fake.port(),
        "/v1/responses",
        &responses_body(custom.clone()),
    )
    .await?
    .events()?;
    let call = &data_of(&events, "response.output_item.done")?[0]["item"];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "exec_command");
    assert!(call["call_id"].as_str().is_some_and(|id| !id.is_empty()));
    let arguments = call["arguments"].as_str().context("arguments")?;
    assert_eq!(
        serde_json::from_str::<Value>(arguments)?,
        json!({"cmd": "ls -la /tmp/w", "workdir": "/tmp/w"})
    );
    let deltas = data_of(&events, "response.function_call_arguments.delta")?;
    assert_eq!(joined(&deltas, "/delta"), arguments);

    let events = post(fake.port(), "/v1/responses", &responses_body(custom))
        .await?
        .events()?;
    let edit = &data_of(&events, "response.output_item.done")?[0]["item"];
    assert_eq!(edit["type"], "custom_tool_call");
    assert_eq!(edit["name"], "apply_patch");
    assert_eq!(edit["input"], patch);
    let deltas = data_of(&events, "response.custom_tool_call_input.delta")?;
    assert_eq!(joined(&deltas, "/delta"), patch);

    let as_function = json!([{"type": "function", "name": "apply_patch"}]);
    let events = post(fake.port(), "/v1/responses", &responses_body(as_function))
        .await?
        .events()?;
    let edit = &data_of(&events, "response.output_item.done")?[0]["item"];
    assert_eq!(edit["type"], "function_call");
    let arguments = edit["arguments"].as_str().context("arguments")?;
    assert_eq!(
        serde_json::from_str::<Value>(arguments)?,
        json!({"input": patch})
    );
    Ok(())
}

fn chat_chunks(response: &HttpResponse) -> anyhow::Result<Vec<Value>> {
    let events = response.events()?;
    let (last, chunks) = events.split_last().context("an empty stream")?;
    assert_eq!(last.data, "[DONE]");
    assert!(events.iter().all(|event| event.name.is_none()));
    chunks.iter().map(SseEvent::json).collect()
}

#[tokio::test]
async fn chat_streamed_text_ends_with_a_usage_chunk_when_include_usage_is_set_then_done()
-> anyhow::Result<()> {
    let fake = fake(&format!(
        "- text: {HELLO:?}\n  usage: {{input: 40, output: 5, cached: 8}}\n"
    ))?;
    let mut body = chat_body(true);
    body["stream_options"] = json!({"include_usage": true});
    let chunks = chat_chunks(&post(fake.port(), "/v1/chat/completions", &body).await?)?;
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(joined(&chunks, "/choices/0/delta/content"), HELLO);
    let (usage_chunk, rest) = chunks.split_last().context("no chunks")?;
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], 40);
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 5);
    assert_eq!(usage_chunk["usage"]["total_tokens"], 45);
    assert_eq!(
        usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"],
        8
    );
    let finish = rest.last().context("no finish chunk")?;
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    Ok(())
}

#[tokio::test]
async fn chat_tool_call_streams_id_and_name_first_then_argument_pieces() -> anyhow::Result<()> {
    let fake = fake(
        "- tool_call: {name: write, input: {filePath: /tmp/w/hello.txt, content: \"hello from fake llm\\n\"}}\n  usage: {input: 70, output: 17}\n",
    )?;
    let chunks = chat_chunks(&post(fake.port(), "/v1/chat/completions", &chat_body(true)).await?)?;
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|chunk| chunk.pointer("/choices/0/delta/tool_calls/0"))
        .collect();
    assert!(calls.len() > 2, "a head and several argument pieces");
    assert_eq!(calls[0]["index"], 0);
    assert_eq!(calls[0]["function"]["name"], "write");
    assert!(
        calls[0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("call_"))
    );
    assert!(calls[1..].iter().all(|piece| piece.get("id").is_none()));
    let arguments: String = calls
        .iter()
        .filter_map(|call| call.pointer("/function/arguments").and_then(Value::as_str))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments)?,
        json!({"filePath": "/tmp/w/hello.txt", "content": "hello from fake llm\n"})
    );
    let finish = chunks.last().context("no finish chunk")?;
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        finish["usage"]["total_tokens"], 87,
        "without include_usage the usage rides on the finish chunk"
    );
    Ok(())
}

#[tokio::test]
async fn chat_request_without_stream_gets_one_completion_and_models_lists_the_script_models()
-> anyhow::Result<()> {
    let fake =
        fake("models: [fake-model, other-model]\nturns:\n  - text: \"feat: add hello.txt\"\n")?;
    let mut body = chat_body(false);
    if let Some(object) = body.as_object_mut() {
        object.remove("stream");
    }
    let response = post(fake.port(), "/v1/chat/completions", &body).await?;
    assert_eq!(response.json()?["object"], "chat.completion");
    assert_eq!(text_of(&response)?, "feat: add hello.txt");
    assert_eq!(response.json()?["choices"][0]["finish_reason"], "stop");
    let models = request(fake.port(), "GET", "/v1/models", None)
        .await?
        .json()?;
    let ids: Vec<&str> = models["data"]
        .as_array()
        .context("data")?
        .iter()
        .filter_map(|model| model["id"].as_str())
        .collect();
    assert_eq!(ids, ["fake-model", "other-model"]);
    Ok(())
}

const GEMINI_STREAM: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "make hello.txt"}]}],
        "tools": [{"functionDeclarations": [{"name": "write_file"}, {"name": "read_file"}]}],
        "generationConfig": {}})
}

#[tokio::test]
async fn gemini_streamed_text_ends_with_stop_and_usage_metadata() -> anyhow::Result<()> {
    let fake = fake(&format!(
        "- text: {HELLO:?}\n  usage: {{input: 500, output: 20, cached: 50}}\n"
    ))?;
    let response = post(fake.port(), GEMINI_STREAM, &gemini_body()).await?;
    assert_eq!(response.status, 200);
    let events = response.events()?;
    assert!(events.iter().all(|event| event.name.is_none()));
    let chunks: Vec<Value> = events
        .iter()
        .map(SseEvent::json)
        .collect::<Result<_, _>>()?;
    assert!(chunks.len() > 1);
    assert_eq!(joined(&chunks, "/candidates/0/content/parts/0/text"), HELLO);
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["candidates"][0]["content"]["role"] == "model")
    );
    let last = chunks.last().context("no chunks")?;
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["modelVersion"], "gemini-2.5-flash");
    let usage = &last["usageMetadata"];
    assert_eq!(usage["promptTokenCount"], 500);
    assert_eq!(usage["candidatesTokenCount"], 20);
    assert_eq!(usage["totalTokenCount"], 520);
    assert_eq!(usage["cachedContentTokenCount"], 50);
    Ok(())
}

#[tokio::test]
async fn gemini_tool_call_is_a_whole_function_call_part_streamed_or_not() -> anyhow::Result<()> {
    let turn = "  - tool_call: {name: write_file, input: {file_path: /tmp/w/hello.txt, content: \"hello\\n\"}}\n";
    let fake = fake(&format!("turns:\n{turn}{turn}"))?;
    let expected = json!({"name": "write_file",
        "args": {"file_path": "/tmp/w/hello.txt", "content": "hello\n"}});
    let events = post(fake.port(), GEMINI_STREAM, &gemini_body())
        .await?
        .events()?;
    let calls: Vec<Value> = events
        .iter()
        .map(SseEvent::json)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter_map(|chunk| {
            chunk
                .pointer("/candidates/0/content/parts/0/functionCall")
                .cloned()
        })
        .collect();
    assert_eq!(calls, std::slice::from_ref(&expected));
    let whole = post(
        fake.port(),
        "/v1beta/models/gemini-2.5-flash:generateContent",
        &gemini_body(),
    )
    .await?
    .json()?;
    assert_eq!(
        whole["candidates"][0]["content"]["parts"][0]["functionCall"],
        expected
    );
    assert_eq!(whole["candidates"][0]["finishReason"], "STOP");
    Ok(())
}

#[tokio::test]
async fn error_turns_answer_their_status_in_the_dialects_envelope_with_retry_after()
-> anyhow::Result<()> {
    let fake = fake(
        "- error: {status: 429, retry_after: 2, body: slow down}\n- error: {status: 500}\n- error: {status: 429, retry_after: 7}\n- text: recovered\n",
    )?;
    let limited = post(fake.port(), "/v1/messages", &anthropic_body(true)).await?;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("2"));
    let body = limited.json()?;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["message"], "slow down");

    let broken = post(fake.port(), "/v1/chat/completions", &chat_body(true)).await?;
    assert_eq!(broken.status, 500);
    assert_eq!(broken.header("retry-after"), None);
    assert!(broken.json()?["error"]["message"].is_string());

    let exhausted = post(fake.port(), GEMINI_STREAM, &gemini_body()).await?;
    assert_eq!(exhausted.status, 429);
    assert_eq!(exhausted.header("retry-after"), Some("7"));
    assert_eq!(exhausted.json()?["error"]["status"], "RESOURCE_EXHAUSTED");

    let recovered = post(fake.port(), "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&recovered)?, "recovered");
    Ok(())
}

#[tokio::test]
async fn a_delayed_turn_answers_after_a_later_request_that_has_no_delay() -> anyhow::Result<()> {
    let fake = fake("- {delay_ms: 1500, text: slow}\n- text: fast\n")?;
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let slow = send(
        fake.port(),
        "POST",
        "/v1/chat/completions",
        Some(&chat_body(false)),
    )
    .await?;
    fake.wait_for_requests(1).await;
    let fast = send(
        fake.port(),
        "POST",
        "/v1/chat/completions",
        Some(&chat_body(false)),
    )
    .await?;
    for stream in [slow, fast] {
        let done = done.clone();
        tokio::spawn(async move {
            let _ = done.send(read_response(stream).await);
        });
    }
    let first = finished.recv().await.context("no first answer")??;
    let second = finished.recv().await.context("no second answer")??;
    assert_eq!(text_of(&first)?, "fast");
    assert_eq!(text_of(&second)?, "slow");
    Ok(())
}

#[tokio::test]
async fn a_hang_turn_never_answers_so_the_client_times_out_and_the_next_request_is_served()
-> anyhow::Result<()> {
    let fake = fake("- hang: true\n- text: after the hang\n")?;
    let hung = send(
        fake.port(),
        "POST",
        "/v1/chat/completions",
        Some(&chat_body(false)),
    )
    .await?;
    fake.wait_for_requests(1).await;
    let waited = tokio::time::timeout(Duration::from_millis(300), read_response(hung)).await;
    assert!(waited.is_err(), "the hung request was answered: {waited:?}");
    let next = post(fake.port(), "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&next)?, "after the hang");
    let turns: Vec<Option<usize>> = fake.requests().iter().map(|r| r.turn).collect();
    assert_eq!(turns, [Some(1), Some(2)], "the hang took its turn");
    fake.shutdown();
    Ok(())
}

#[tokio::test]
async fn once_the_script_runs_out_every_request_gets_the_exhausted_turn() -> anyhow::Result<()> {
    let fake = fake("turns: []\nwhen_exhausted: {text: nothing left}\n")?;
    let default = FakeLlm::start(Script::new([]))?;
    for _ in 0..2 {
        let answer = post(fake.port(), "/v1/chat/completions", &chat_body(false)).await?;
        assert_eq!(text_of(&answer)?, "nothing left");
    }
    let answer = post(default.port(), "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&answer)?, "done");
    assert!(fake.requests().iter().all(|r| r.turn.is_none()));
    Ok(())
}

#[tokio::test]
async fn an_aside_answers_matching_side_requests_without_taking_a_turn() -> anyhow::Result<()> {
    let fake = fake(
        "turns:\n  - text: main answer\n  - text: second answer\n\
         aside:\n  - when: {has_tools: false, dialect: openai_chat}\n    text: A title\n",
    )?;
    let mut with_tools = chat_body(true);
    with_tools["tools"] = json!([{"type": "function", "function": {"name": "bash"}}]);
    let title = post(fake.port(), "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&title)?, "A title");
    let chunks = chat_chunks(&post(fake.port(), "/v1/chat/completions", &with_tools).await?)?;
    assert_eq!(joined(&chunks, "/choices/0/delta/content"), "main answer");
    let again = post(fake.port(), "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&again)?, "A title", "an aside repeats");
    let responses = post(fake.port(), "/v1/responses", &responses_body(json!([]))).await?;
    let completed = data_of(&responses.events()?, "response.completed")?;
    assert_eq!(
        completed[0]["response"]["output"][0]["content"][0]["text"], "second answer",
        "another dialect does not match the aside"
    );
    let taken: Vec<(Option<usize>, Option<usize>)> =
        fake.requests().iter().map(|r| (r.turn, r.aside)).collect();
    assert_eq!(
        taken,
        [
            (None, Some(1)),
            (Some(1), None),
            (None, Some(1)),
            (Some(2), None)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn the_request_log_keeps_roles_tools_and_the_last_user_text_in_memory_and_as_jsonl()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("requests.jsonl");
    let script = Script::parse("- tool_call: {name: Write, input: {}}\n- text: fixed\n")?;
    let fake = FakeLlm::start_with(
        script,
        FakeLlmOptions {
            port: 0,
            log: Some(log.clone()),
        },
    )?;
    let first = json!({"model": "claude-fake", "stream": true, "system": "s",
        "tools": [{"name": "Write"}, {"name": "Bash"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Create hello.txt"}]}]});
    post(fake.port(), "/v1/messages?beta=true", &first).await?;
    let retry = json!({"model": "claude-fake", "stream": true, "tools": [{"name": "Write"}],
        "messages": [
            {"role": "user", "content": "Create hello.txt"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Write", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"},
                {"type": "text", "text": "The gate failed: expected 3 lines"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "u", "content": "ok"}]}]});
    post(fake.port(), "/v1/messages", &retry).await?;
    let codex = json!({"model": "gpt-fake", "tools": [{"type": "function", "name": "exec_command"},
        {"type": "web_search"}], "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "make it"}]},
        {"type": "function_call", "call_id": "c", "name": "exec_command", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": "done"}]});
    post(fake.port(), "/v1/responses", &codex).await?;
    post(fake.port(), GEMINI_STREAM, &gemini_body()).await?;

    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let [claude, claude_retry, responses, gemini] = &requests[..] else {
        anyhow::bail!("four requests expected");
    };
    assert_eq!(claude.dialect, Some(Dialect::AnthropicMessages));
    assert_eq!(claude.path, "/v1/messages?beta=true");
    assert_eq!(claude.model.as_deref(), Some("claude-fake"));
    assert_eq!(claude.stream, Some(true));
    assert_eq!(
        claude.body_keys,
        ["messages", "model", "stream", "system", "tools"]
    );
    assert_eq!(claude.tools, ["Write", "Bash"]);
    assert_eq!(claude.last_user_text.as_deref(), Some("Create hello.txt"));
    assert_eq!(claude_retry.roles, ["user", "assistant", "user", "user"]);
    assert_eq!(
        claude_retry.last_user_text.as_deref(),
        Some("The gate failed: expected 3 lines"),
        "tool results are not the user's text"
    );
    assert_eq!(responses.dialect, Some(Dialect::OpenaiResponses));
    assert_eq!(responses.tools, ["exec_command", "web_search"]);
    assert_eq!(
        responses.roles,
        ["user", "function_call", "function_call_output"]
    );
    assert_eq!(responses.last_user_text.as_deref(), Some("make it"));
    assert_eq!(responses.turn, None, "the script had run out");
    assert_eq!(gemini.dialect, Some(Dialect::Gemini));
    assert_eq!(gemini.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(gemini.tools, ["write_file", "read_file"]);
    assert_eq!(gemini.roles, ["user"]);
    assert_eq!(gemini.last_user_text.as_deref(), Some("make hello.txt"));

    let lines: Vec<Value> = std::fs::read_to_string(&log)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let in_memory: Vec<Value> = requests
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines, in_memory);
    assert_eq!(lines[1]["dialect"], "anthropic_messages");
    Ok(())
}

/// Kills the spawned binary however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_writes_its_port_file_serves_the_script_and_logs_requests() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("script.yaml");
    std::fs::write(&script, "turns:\n  - text: from the binary\n")?;
    let port_file = dir.path().join("port");
    let log = dir.path().join("log.jsonl");
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_baton-fake-llm"))
            .arg("--script")
            .arg(&script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().context("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let port: u16 = std::fs::read_to_string(&port_file)?.trim().parse()?;
    assert_eq!(line.trim(), format!("listening on http://127.0.0.1:{port}"));
    let answer = post(port, "/v1/chat/completions", &chat_body(false)).await?;
    assert_eq!(text_of(&answer)?, "from the binary");
    let logged: Value = serde_json::from_str(
        std::fs::read_to_string(&log)?
            .lines()
            .next()
            .context("nothing logged")?,
    )?;
    assert_eq!(logged["path"], "/v1/chat/completions");
    assert_eq!(logged["turn"], 1);
    Ok(())
}

#[test]
fn the_binary_refuses_a_script_that_does_not_parse() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("script.yaml");
    std::fs::write(&script, "- {txt: typo}\n")?;
    let output = Command::new(env!("CARGO_BIN_EXE_baton-fake-llm"))
        .arg("--script")
        .arg(&script)
        .arg("--port-file")
        .arg(dir.path().join("port"))
        .stdin(Stdio::null())
        .output()?;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("fake LLM script"));
    assert!(!dir.path().join("port").exists());
    Ok(())
}
