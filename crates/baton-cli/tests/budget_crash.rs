#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kill -9` of baton while an agent holds a budget reservation, then `baton resume`: the dead
//! attempt's usage is read back from its log into the ledger (settling its reservation), no
//! reservation leaks, and nothing is counted twice.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::agents::{agent_home, baton_with_agent};
use support::{Baton, OK, task};

/// A stand-in for Claude Code: reports one model response's usage (1,000 input and 10 output
/// tokens of claude-sonnet-4-5: $0.00315 at $3 and $15 per million), then on its first attempt
/// waits to be killed; later attempts write the file and report $0.01 for the session.
const STAND_IN: &str = r#"#!/bin/sh
echo '{"type":"system","subtype":"init","session_id":"s1","model":"claude-sonnet-4-5","tools":[]}'
echo '{"type":"assistant","message":{"id":"m1","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Working."}],"usage":{"input_tokens":1000,"output_tokens":10}}}'
if [ "$BATON_ATTEMPT" = "1" ]; then sleep 60; fi
echo hello > greeting.txt
echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","total_cost_usd":0.01,"usage":{"input_tokens":1000,"output_tokens":10}}'
"#;

#[test]
fn a_killed_engine_leaks_no_reservation_and_counts_no_usage_twice() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    support::write_program(&bin.join("claude"), STAND_IN);
    let plan = baton.plan(
        "greet.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    agent: claude\n    model: claude-sonnet-4-5\n    prompt: \"Write greeting.txt.\"\n    claims: [\"greeting.txt\"]\n",
    );
    // A project limit, so `baton budget status` shows what is spent and reserved.
    baton
        .baton(&["budget", "set", "--scope", "project", "--daily", "50"])
        .expect_code(OK);

    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut engine = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["run", "--plan", plan.to_str().unwrap(), "--budget", "10"])
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("HOME", agent_home(&baton))
        .env("PATH", &path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the agent's usage reached baton, then kill baton as `kill -9` would.
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        assert!(Instant::now() < deadline, "the agent's usage never arrived");
        if let Some(id) = baton.run_ids().first().cloned()
            && baton
                .events(&id)
                .iter()
                .any(|e| e["type"] == "attempt.agent" && e["data"]["event"]["type"] == "usage")
        {
            break id;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The reservation is open while the agent runs.
    let status = baton.baton(&["budget", "status", "--json"]).json();
    assert!(
        status[0]["reserved"]["usd"].as_u64().unwrap() > 0,
        "{status:#}"
    );
    // The log is written in batches: give the line time to reach the file.
    std::thread::sleep(Duration::from_millis(500));
    engine.kill().unwrap();
    engine.wait().unwrap();

    let resumed = baton_with_agent(&baton, &bin, &[], &["resume", &id]);
    resumed.expect_code(OK);
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "greeting.txt")
            .as_deref(),
        Some("hello\n")
    );

    // Attempt 1's usage came back from its log, priced ($0.00315); attempt 2 reported $0.01.
    let report = baton.report(&id);
    let attempts = task(&report, "greet")["attempts"].as_array().unwrap().len();
    assert_eq!(attempts, 2, "{report:#}");
    let usage = &report["usage"]["total"];
    assert_eq!(usage["attempts"], 2, "{usage:#}");
    assert_eq!(usage["cost"], 3_150 + 10_000, "{usage:#}");
    // Nothing reserved any more; spent is exactly the ledger's.
    let status = baton.baton(&["budget", "status", "--json"]).json();
    assert_eq!(status[0]["reserved"]["usd"], 0, "{status:#}");
    assert_eq!(status[0]["spent"]["usd"], 13_150, "{status:#}");
    // Resuming again (nothing to do) changes nothing.
    let again = baton_with_agent(&baton, &bin, &[], &["report", &id, "--format", "json"]);
    again.expect_code(OK);
    assert_eq!(again.json()["usage"]["total"]["cost"], 13_150);
}

#[test]
fn with_the_real_claude_code_a_killed_engine_leaks_no_reservation() {
    use baton_testkit::agent_clients::{Client, FileWrite};
    use baton_testkit::fake_llm::{FakeLlm, Script};
    use support::agents::{baton_with_client, installed_client_bin, offline_env};
    let baton = Baton::new();
    // Claude Code writes the file, reports the turn's usage, then waits on a reply that never
    // comes: baton is killed while it holds its reservation.
    let hanging = Script::parse(
        "turns:\n  - text: \"Writing it.\"\n    tool_call:\n      name: Write\n      input: {file_path: greeting.txt, content: \"partial\\n\"}\n    usage: {input: 1000, output: 20}\n  - hang: true\n",
    )
    .unwrap();
    let llm = FakeLlm::start(hanging).unwrap();
    let plan = baton.plan(
        "greet.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: greet\n    agent: claude\n    model: claude-sonnet-4-5\n    prompt: \"Write greeting.txt.\"\n    claims: [\"greeting.txt\"]\n",
    );
    baton
        .baton(&["budget", "set", "--scope", "project", "--daily", "50"])
        .expect_code(OK);
    let env = offline_env(&baton, Client::Claude, &llm, "sk-ant-fake-crash");
    let bin = installed_client_bin(Client::Claude);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(["run", "--plan", plan.to_str().unwrap(), "--budget", "10"])
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("HOME", agent_home(&baton))
        .env("PATH", &path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in &env {
        command.env(name, value);
    }
    let mut engine = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let id = loop {
        assert!(
            Instant::now() < deadline,
            "Claude Code's usage never arrived"
        );
        if let Some(id) = baton.run_ids().first().cloned()
            && baton
                .events(&id)
                .iter()
                .any(|e| e["type"] == "attempt.agent" && e["data"]["event"]["type"] == "usage")
        {
            break id;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(500));
    engine.kill().unwrap();
    engine.wait().unwrap();

    // A new model answer for the resumed run.
    let second = FakeLlm::start(
        Client::Claude
            .script(&[FileWrite {
                path: "greeting.txt",
                line: "hello",
            }])
            .unwrap(),
    )
    .unwrap();
    baton_with_client(
        &baton,
        Client::Claude,
        &second,
        "sk-ant-fake-crash",
        &["resume", &id],
    )
    .expect_code(OK);
    let report = baton.report(&id);
    let usage = &report["usage"]["total"];
    assert_eq!(
        usage["attempts"], 2,
        "the dead attempt's usage was recovered: {usage:#}"
    );
    // Attempt 1: 1,000 input and 20 output tokens of Sonnet, priced by baton: $0.0033.
    let recovered = &report["usage"]["by_task"]["greet"];
    assert!(recovered["cost"].as_u64().unwrap() > 3_300, "{report:#}");
    let status = baton.baton(&["budget", "status", "--json"]).json();
    assert_eq!(status[0]["reserved"]["usd"], 0, "{status:#}");
    assert_eq!(status[0]["spent"]["usd"], usage["cost"], "{status:#}");
}
