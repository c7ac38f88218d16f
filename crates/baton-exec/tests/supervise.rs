#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Supervision of real child processes.

use std::time::{Duration, Instant};

use baton_exec::{
    CommandSpec, EndReason, OutputCap, OutputStream, ProcessEvent, find_processes_with_env,
    group_alive, spawn,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio_util::sync::CancellationToken;

fn tmp() -> std::path::PathBuf {
    std::env::temp_dir()
}

/// A run id nobody else uses.
fn unique(tag: &str) -> String {
    format!("{tag}-{}-{:?}", std::process::id(), Instant::now())
}

/// Reads events until a line with `text` arrives.
async fn wait_for_line(child: &mut baton_exec::Supervised, text: &str) {
    while let Some(event) = child.next_event().await {
        if matches!(event, ProcessEvent::Line { text: ref line, .. } if line == text) {
            return;
        }
    }
    panic!("process ended before printing {text:?}");
}

#[tokio::test]
async fn a_child_has_its_own_process_group_and_an_empty_stdin() {
    let script =
        "if read -r x; then echo \"got $x\"; else echo eof; fi; cut -d' ' -f5 /proc/$$/stat";
    let child = spawn(CommandSpec::shell(script, tmp()), CancellationToken::new()).unwrap();
    let pgid = child.pgid();
    assert_eq!(pgid, child.pid() as i32);
    assert_ne!(pgid, nix::unistd::getpgrp().as_raw());
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(outcome.output.head, ["eof".to_owned(), pgid.to_string()]);
}

#[tokio::test]
async fn stdout_and_stderr_lines_arrive_with_their_stream() {
    let spec = CommandSpec::shell("echo out; echo err >&2", tmp());
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut lines = Vec::new();
    while let Some(event) = child.next_event().await {
        if let ProcessEvent::Line { stream, text } = event {
            lines.push((stream, text));
        }
    }
    lines.sort_by_key(|(_, text)| text.clone());
    assert_eq!(
        lines,
        [
            (OutputStream::Stderr, "err".to_owned()),
            (OutputStream::Stdout, "out".to_owned())
        ]
    );
    assert_eq!(child.wait().await.end, EndReason::Exited { code: 0 });
}

#[tokio::test]
async fn exit_codes_and_signals_are_reported() {
    let exited = spawn(
        CommandSpec::shell("exit 3", tmp()),
        CancellationToken::new(),
    )
    .unwrap();
    assert_eq!(exited.wait().await.end, EndReason::Exited { code: 3 });
    let killed = spawn(
        CommandSpec::shell("kill -9 $$", tmp()),
        CancellationToken::new(),
    )
    .unwrap();
    assert_eq!(killed.wait().await.end, EndReason::Signaled { signal: 9 });
}

#[tokio::test]
async fn environment_variables_are_set_and_removed() {
    let spec = CommandSpec::shell("echo \"$BATON_FOO-${HOME:-unset}\"", tmp())
        .env("BATON_FOO", "bar")
        .env_remove("HOME");
    let outcome = spawn(spec, CancellationToken::new()).unwrap().wait().await;
    assert_eq!(outcome.output.head, ["bar-unset"]);
}

#[tokio::test]
async fn a_silent_process_is_warned_once_and_then_killed() {
    let spec = CommandSpec::shell("echo hi; sleep 100", tmp()).silence(Duration::from_millis(600));
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut events = Vec::new();
    while let Some(event) = child.next_event().await {
        events.push(event);
    }
    assert_eq!(
        events,
        [
            ProcessEvent::Line {
                stream: OutputStream::Stdout,
                text: "hi".to_owned()
            },
            ProcessEvent::SilenceWarning {
                silent_for: Duration::from_millis(300)
            },
        ]
    );
    let pgid = child.pgid();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Silent { after_ms: 600 });
    assert!(outcome.duration < Duration::from_secs(30));
    assert!(!group_alive(pgid));
}

#[tokio::test]
async fn new_output_rearms_the_silence_warning() {
    let script = "echo a; sleep 0.5; echo b; sleep 100";
    let spec = CommandSpec::shell(script, tmp()).silence(Duration::from_millis(800));
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut seen = Vec::new();
    while let Some(event) = child.next_event().await {
        seen.push(match event {
            ProcessEvent::Line { text, .. } => text,
            ProcessEvent::SilenceWarning { .. } => "warning".to_owned(),
        });
    }
    assert_eq!(seen, ["a", "warning", "b", "warning"]);
    assert!(matches!(child.wait().await.end, EndReason::Silent { .. }));
}

#[tokio::test]
async fn a_process_past_its_deadline_is_killed() {
    let spec = CommandSpec::shell("sleep 100", tmp()).deadline(Duration::from_millis(300));
    let child = spawn(spec, CancellationToken::new()).unwrap();
    let pgid = child.pgid();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::TimedOut { after_ms: 300 });
    assert!(outcome.duration < Duration::from_secs(30));
    assert!(!group_alive(pgid));
}

#[tokio::test]
async fn cancelling_kills_the_whole_group_including_grandchildren() {
    let run_id = unique("cancel");
    let spec = CommandSpec::shell("sleep 100 & sleep 100 & echo started; wait", tmp())
        .env("BATON_RUN_ID", &run_id);
    let cancel = CancellationToken::new();
    let mut child = spawn(spec, cancel.clone()).unwrap();
    wait_for_line(&mut child, "started").await;
    let members = find_processes_with_env("BATON_RUN_ID", &run_id);
    assert_eq!(members.len(), 3, "sh and two sleeps: {members:?}");
    assert!(members.iter().all(|p| p.pgid == child.pgid()));
    let pgid = child.pgid();
    cancel.cancel();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Cancelled);
    assert!(!group_alive(pgid));
    assert!(find_processes_with_env("BATON_RUN_ID", &run_id).is_empty());
}

#[tokio::test]
async fn a_child_that_ignores_term_is_killed_after_the_grace() {
    let spec = CommandSpec::shell("trap '' TERM; echo ready; sleep 100", tmp())
        .grace(Duration::from_millis(300));
    let cancel = CancellationToken::new();
    let mut child = spawn(spec, cancel.clone()).unwrap();
    wait_for_line(&mut child, "ready").await;
    let pgid = child.pgid();
    let asked = Instant::now();
    cancel.cancel();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Cancelled);
    assert!(asked.elapsed() >= Duration::from_millis(300));
    assert!(!group_alive(pgid));
}

#[tokio::test]
async fn stragglers_are_killed_when_the_leader_exits() {
    let run_id = unique("straggler");
    let spec = CommandSpec::shell("sleep 100 & echo done", tmp()).env("BATON_RUN_ID", &run_id);
    let child = spawn(spec, CancellationToken::new()).unwrap();
    let pgid = child.pgid();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(outcome.output.head, ["done"]);
    // Not hung on the straggler's pipes (it would hold them for 100 s).
    assert!(outcome.duration < Duration::from_secs(30));
    assert!(!group_alive(pgid));
    assert!(find_processes_with_env("BATON_RUN_ID", &run_id).is_empty());
}

#[tokio::test]
async fn a_process_outside_the_group_holding_the_pipes_does_not_hang_the_wait() {
    let run_id = unique("escaped");
    let marker = tempfile::tempdir().unwrap();
    let marker = marker.path().join("escaped");
    // Wait until the escaped process has left the group (it writes the marker after setsid);
    // otherwise the group kill at the leader's exit can catch it before it escapes.
    let script = format!(
        "setsid sh -c 'touch {m}; exec sleep 100' & while [ ! -e {m} ]; do :; done; echo done",
        m = marker.display()
    );
    let spec = CommandSpec::shell(script, tmp()).env("BATON_RUN_ID", &run_id);
    let child = spawn(spec, CancellationToken::new()).unwrap();
    let outcome = child.wait().await;
    let escaped = find_processes_with_env("BATON_RUN_ID", &run_id);
    for process in &escaped {
        let _ = kill(Pid::from_raw(process.pid), Signal::SIGKILL);
    }
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(outcome.output.head, ["done"]);
    // Not hung on the escaped process's pipes (it would hold them for 100 s).
    assert!(outcome.duration < Duration::from_secs(30));
    assert_eq!(escaped.len(), 1, "the setsid sleep escaped the group");
}

#[tokio::test]
async fn long_output_keeps_head_and_tail_and_logs_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("nested/logs/run.log");
    let spec = CommandSpec::shell("seq 1 10000; echo oops >&2", tmp())
        .capture(OutputCap { head: 5, tail: 5 })
        .log_file(&log);
    let outcome = spawn(spec, CancellationToken::new()).unwrap().wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(outcome.output.total_lines(), 10001);
    assert_eq!(outcome.output.omitted_lines, 9991);
    assert!(outcome.output.text().contains("... 9991 lines omitted ..."));
    // Each pipe is read in order, but the two pipes are read side by side: where the stderr
    // line falls among the stdout lines is not defined.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 10001);
    assert_eq!(logged.lines().filter(|line| *line == "oops").count(), 1);
    let numbers = (1..=10000).map(|n: u32| n.to_string());
    assert!(logged.lines().filter(|line| *line != "oops").eq(numbers));
}

#[tokio::test]
async fn the_head_and_tail_of_long_output_are_the_first_and_last_lines() {
    let spec = CommandSpec::new("seq", tmp())
        .args(["1", "10000"])
        .capture(OutputCap { head: 5, tail: 5 });
    let outcome = spawn(spec, CancellationToken::new()).unwrap().wait().await;
    assert_eq!(outcome.output.head, ["1", "2", "3", "4", "5"]);
    assert_eq!(
        outcome.output.tail,
        ["9996", "9997", "9998", "9999", "10000"]
    );
}

#[tokio::test]
async fn processes_are_found_by_their_environment() {
    let run_id = unique("find");
    let spec = CommandSpec::shell("echo up; sleep 100", tmp()).env("BATON_RUN_ID", &run_id);
    let cancel = CancellationToken::new();
    let mut child = spawn(spec, cancel.clone()).unwrap();
    wait_for_line(&mut child, "up").await;
    let found = find_processes_with_env("BATON_RUN_ID", &run_id);
    assert!(found.iter().any(|p| p.pid == child.pid() as i32));
    assert!(found.iter().all(|p| p.pgid == child.pgid()));
    assert!(find_processes_with_env("BATON_RUN_ID", &format!("{run_id}-other")).is_empty());
    assert!(find_processes_with_env("BATON_RUN_I", &run_id).is_empty());
    cancel.cancel();
    child.wait().await;
}

#[tokio::test]
async fn dropping_a_running_process_kills_its_group() {
    let run_id = unique("drop");
    let spec = CommandSpec::shell("sleep 100 & echo up; wait", tmp()).env("BATON_RUN_ID", &run_id);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    wait_for_line(&mut child, "up").await;
    let pgid = child.pgid();
    drop(child);
    // No event exists for this: poll with an upper bound.
    let until = Instant::now() + Duration::from_secs(2);
    while group_alive(pgid) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!group_alive(pgid));
}

#[test]
fn missing_programs_and_directories_are_named_in_the_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let missing = spawn(
            CommandSpec::new("baton-no-such-program", tmp()),
            CancellationToken::new(),
        )
        .unwrap_err();
        let text = missing.to_string();
        assert!(text.contains("baton-no-such-program"), "{text}");
        assert!(text.contains("not found"), "{text}");

        let cwd = tmp().join("baton-no-such-dir/inner");
        let missing = spawn(CommandSpec::new("true", &cwd), CancellationToken::new()).unwrap_err();
        let text = missing.to_string();
        assert!(text.contains("`true`"), "{text}");
        assert!(text.contains(&cwd.display().to_string()), "{text}");
    });
}
