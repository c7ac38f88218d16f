#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Running short tools to completion.

use std::time::{Duration, Instant};

use baton_exec::{CommandSpec, EndReason, ExecError, find_processes_with_env, run_captured};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[tokio::test]
async fn stdout_stderr_and_the_exit_code_are_captured_whole() {
    let spec = CommandSpec::shell(
        "printf 'a\\0b'; echo warn >&2; exit 4",
        std::env::temp_dir(),
    );
    let captured = run_captured(spec).await.unwrap();
    assert_eq!(captured.status, EndReason::Exited { code: 4 });
    assert_eq!(captured.code(), Some(4));
    assert!(!captured.success());
    assert_eq!(captured.stdout, b"a\0b");
    assert_eq!(captured.stderr, "warn\n");
}

#[tokio::test]
async fn a_captured_command_past_its_deadline_is_killed() {
    let spec = CommandSpec::shell("echo partial; sleep 100", std::env::temp_dir())
        .deadline(Duration::from_millis(300));
    let captured = run_captured(spec).await.unwrap();
    assert_eq!(captured.status, EndReason::TimedOut { after_ms: 300 });
    assert_eq!(captured.stdout, b"partial\n");
}

#[tokio::test]
async fn an_escaped_process_holding_the_pipe_does_not_hang_a_captured_command() {
    let run_id = format!("captured-{}-{:?}", std::process::id(), Instant::now());
    let spec = CommandSpec::shell("setsid sleep 100 & echo done", std::env::temp_dir())
        .env("BATON_RUN_ID", &run_id);
    let captured = run_captured(spec).await.unwrap();
    for process in find_processes_with_env("BATON_RUN_ID", &run_id) {
        let _ = kill(Pid::from_raw(process.pid), Signal::SIGKILL);
    }
    assert!(captured.success());
    assert_eq!(captured.stdout, b"done\n");
}

#[tokio::test]
async fn a_missing_program_is_reported_with_its_name_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_captured(CommandSpec::new("baton-missing-tool", dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::ProgramNotFound { .. }), "{err}");
    assert!(err.to_string().contains("baton-missing-tool"));
    assert!(err.to_string().contains(&dir.path().display().to_string()));

    let gone = dir.path().join("gone");
    let err = run_captured(CommandSpec::new("true", &gone))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::MissingCwd { .. }), "{err}");
    assert!(err.to_string().contains(&gone.display().to_string()));
}
