#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Routing and the user's configuration, with stand-in agents that print Claude Code's stream
//! (Qwen Code prints the same shape): `[agents.NAME] max_concurrency` keeps an agent's attempts
//! from overlapping, an agent that fails its health check is skipped by `agent: auto`, and
//! `~/.config/baton/config.toml` is read under the repository's `baton.toml` (bad ones refused).

mod support;

use std::path::{Path, PathBuf};
use support::agents::{agent_home, baton_with_agent};
use support::{BAD_INPUT, Baton, OK, task};

/// A stand-in agent: answers `--version` (or fails it when `healthy` is false), prints
/// `START`/`END` times in nanoseconds on stderr around a one-second piece of work, writes the
/// file `$BATON_TASK_ID.txt`, and prints a Claude-shaped stream.
fn stand_in(dir: &Path, name: &str, healthy: bool) -> PathBuf {
    let version = if healthy {
        "echo '1.0.0'; exit 0"
    } else {
        "echo 'broken install' >&2; exit 3"
    };
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then {version}; fi
echo "START $(date +%s%N)" >&2
echo '{{"type":"system","subtype":"init","session_id":"s-{name}","model":"m","tools":[]}}'
sleep 1
echo "by {name}" > "$BATON_TASK_ID.txt"
echo "END $(date +%s%N)" >&2
echo '{{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","total_cost_usd":0.01,"usage":{{"input_tokens":10,"output_tokens":2}}}}'
"#
    );
    let program = dir.join(name);
    support::write_program(&program, script);
    program
}

/// The (start, end) times each task's agent printed.
fn agent_spans(baton: &Baton, run: &str) -> Vec<(String, u128, u128)> {
    let events = baton.events(run);
    let mut spans = Vec::new();
    for id in ["a", "b"] {
        let time = |mark: &str| -> u128 {
            events
                .iter()
                .filter(|e| e["type"] == "attempt.output" && e["task"] == id)
                .find_map(|e| {
                    e["data"]["line"]
                        .as_str()?
                        .strip_prefix(mark)?
                        .trim()
                        .parse()
                        .ok()
                })
                .unwrap_or_else(|| panic!("no {mark} of {id}: {events:#?}"))
        };
        spans.push((id.to_string(), time("START "), time("END ")));
    }
    spans
}

const TWO_TASKS: &str = r#"version: 1
goal: g
lanes: 2
tasks:
  - id: a
    agent: claude
    prompt: "Write a.txt."
    claims: ["a.txt"]
  - id: b
    agent: claude
    prompt: "Write b.txt."
    claims: ["b.txt"]
"#;

#[test]
fn max_concurrency_keeps_an_agents_attempts_from_overlapping() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    stand_in(&bin, "claude", true);
    let plan = baton.plan("two.yaml", TWO_TASKS);
    std::fs::write(
        baton.path().join("baton.toml"),
        "[agents.claude]\nmax_concurrency = 1\n",
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let spans = agent_spans(&baton, &id);
    let (first, second) = if spans[0].1 <= spans[1].1 {
        (&spans[0], &spans[1])
    } else {
        (&spans[1], &spans[0])
    };
    assert!(
        second.1 >= first.2,
        "the second attempt started before the first ended: {spans:?}"
    );
}

#[test]
fn without_a_limit_the_same_agent_runs_in_both_lanes_at_once() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    stand_in(&bin, "claude", true);
    let plan = baton.plan("two.yaml", TWO_TASKS);
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let spans = agent_spans(&baton, &id);
    assert!(
        spans[0].1 < spans[1].2 && spans[1].1 < spans[0].2,
        "two lanes, no limit: the attempts overlap: {spans:?}"
    );
}

#[test]
fn auto_skips_an_agent_that_fails_its_health_check() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    stand_in(&bin, "claude", false);
    stand_in(&bin, "qwen", true);
    let plan = baton.plan(
        "auto.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: auto\n    prompt: \"Write a.txt.\"\n    claims: [\"a.txt\"]\n",
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton.read_at(&baton.integration(&id), "a.txt").as_deref(),
        Some("by qwen\n")
    );
    let report = baton.report(&id);
    assert_eq!(task(&report, "a")["attempts"].as_array().unwrap().len(), 1);
    let events = baton.events(&id);
    assert!(
        events.iter().any(|e| e["type"] == "warning"
            && e["data"]["message"].as_str().is_some_and(|m| m
                .contains("agent claude is unhealthy")
                && m.contains("broken install"))),
        "{events:#?}"
    );
}

#[test]
fn the_users_config_file_configures_agents_under_the_repositorys() {
    let baton = Baton::new();
    let tools = baton.scratch("tools");
    let claude = stand_in(&tools, "my-claude", true);
    // baton_with_agent sets HOME to agent_home: the user's file is ~/.config/baton/config.toml.
    let user_dir = agent_home(&baton).join(".config/baton");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(
        user_dir.join("config.toml"),
        format!(
            "[agents.claude]\ncommand = {:?}\n",
            claude.to_str().unwrap()
        ),
    )
    .unwrap();
    let plan = baton.plan(
        "one.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: claude\n    prompt: \"Write a.txt.\"\n    claims: [\"a.txt\"]\n",
    );
    let empty = baton.scratch("empty-bin");
    let run = baton_with_agent(
        &baton,
        &empty,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton.read_at(&baton.integration(&id), "a.txt").as_deref(),
        Some("by my-claude\n")
    );

    // A mistake in the user's file is refused with its path and line; nothing is written.
    std::fs::write(
        user_dir.join("config.toml"),
        "[agents.claude]\ncommand = \"x\"\nmax_concurency = 2\n",
    )
    .unwrap();
    let runs_before = baton.run_ids().len();
    let bad = baton_with_agent(
        &baton,
        &empty,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    bad.expect_code(BAD_INPUT);
    assert!(
        bad.stderr
            .contains(&format!("{}:3:1", user_dir.join("config.toml").display())),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("max_concurency"), "{}", bad.stderr);
    assert_eq!(baton.run_ids().len(), runs_before);
}

#[test]
fn a_usage_limit_is_remembered_across_runs_until_its_reset_and_shown_by_baton_agents() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    // Claude Code out of its subscription's usage until three hours from now.
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3 * 3600;
    let limited = format!(
        "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 1.0.0; exit 0; fi\necho \"called\" >&2\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"num_turns\":1,\"result\":\"Claude AI usage limit reached|{reset}\",\"total_cost_usd\":0}}'\nexit 1\n"
    );
    support::write_program(&bin.join("claude"), limited);
    stand_in(&bin, "qwen", true);
    let plan = baton.plan(
        "auto.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: auto\n    prompt: \"Write a.txt.\"\n    claims: [\"a.txt\"]\n",
    );
    let first = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    first.expect_code(OK);
    let one = baton.run_ids()[0].clone();
    let attempts = task(&baton.report(&one), "a")["attempts"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(attempts, 2, "claude hit its limit, qwen did the work");

    // The next run does not try Claude Code at all: its limit has not lifted.
    let second = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    second.expect_code(OK);
    let two = baton.run_ids().into_iter().find(|id| *id != one).unwrap();
    let report = baton.report(&two);
    let attempts = task(&report, "a")["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 1, "{report:#}");
    assert_eq!(
        report["usage"]["by_agent"]["qwen"]["attempts"], 1,
        "{report:#}"
    );

    let listed = baton_with_agent(&baton, &bin, &[], &["agents", "--json"]);
    listed.expect_code(OK);
    let agents = listed.json();
    let claude = &agents[0];
    assert_eq!(claude["limited"]["kind"], "usage", "{claude:#}");
    let until = claude["limited"]["until"].as_str().unwrap();
    let expected = chrono::DateTime::from_timestamp(i64::try_from(reset).unwrap(), 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(until, expected);
    assert!(agents[3]["limited"].is_null(), "qwen is not limited");
}

#[test]
fn a_task_that_may_use_no_other_agent_waits_for_the_limit_to_lift() {
    let baton = Baton::new();
    let bin = baton.scratch("bin");
    // The limit lifts three seconds from now (Claude Code gives the reset in epoch seconds).
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3;
    let script = format!(
        "#!/bin/sh\nif [ \"$BATON_ATTEMPT\" = \"1\" ]; then\n  echo '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"num_turns\":1,\"result\":\"Claude AI usage limit reached|{reset}\",\"total_cost_usd\":0}}'\n  exit 1\nfi\necho done > a.txt\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":1,\"result\":\"ok\",\"total_cost_usd\":0.01}}'\n"
    );
    support::write_program(&bin.join("claude"), script);
    let plan = baton.plan(
        "named.yaml",
        "version: 1\ngoal: g\ntasks:\n  - id: a\n    agent: claude\n    prompt: \"Write a.txt.\"\n    claims: [\"a.txt\"]\n",
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let attempts = task(&report, "a")["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 2, "{report:#}");
    assert_eq!(
        attempts[0]["status"], "interrupted",
        "no retry used: {report:#}"
    );
    assert!(
        attempts[0]["failure"]
            .as_str()
            .unwrap_or_default()
            .contains("waits until the limit lifts"),
        "{report:#}"
    );
    // The second attempt started only once the limit had lifted.
    let events = baton.events(&id);
    let started = events
        .iter()
        .find(|e| e["type"] == "attempt.started" && e["data"]["attempt"] == 2)
        .and_then(|e| e["time"].as_str())
        .unwrap_or_else(|| panic!("{events:#?}"))
        .to_owned();
    let lifted = chrono::DateTime::from_timestamp(i64::try_from(reset).unwrap(), 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert!(started >= lifted, "started {started}, lifted {lifted}");
}
