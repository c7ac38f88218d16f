#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Processes that leave their group survive the group's kill; their marker finds them.

use std::time::Duration;

use baton_exec::{CommandSpec, find_processes_with_env, reap_marked, spawn};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_daemon_that_left_its_group_is_found_by_its_marker_and_killed() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("reap-test-{}", std::process::id());
    // The leader exits only once the daemon has left the group (it touches `escaped` after
    // setsid); otherwise the group kill at the leader's exit can catch it before it escapes.
    let spec = CommandSpec::shell(
        "setsid sh -c 'touch escaped; exec nohup sleep 1000' >/dev/null 2>&1 & \
         while [ ! -e escaped ]; do :; done; echo started",
        dir.path(),
    )
    .env("BATON_TEST_MARKER", &marker);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    while child.next_event().await.is_some() {}
    let outcome = child.wait().await;
    assert!(outcome.end.is_success(), "{:?}", outcome.end);

    // The group is gone, the daemon is not. It may be between `nohup` and `sleep`, where its
    // environment cannot be read for an instant: look again until it is `sleep` (a reap that
    // ran mid-exec would find nothing, which is the race this test is not about).
    let mut survivors = Vec::new();
    for _ in 0..500 {
        survivors = find_processes_with_env("BATON_TEST_MARKER", &marker);
        let is_sleep = |pid: i32| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0"))
        };
        if survivors.iter().any(|p| is_sleep(p.pid)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        survivors.len(),
        1,
        "the setsid daemon escapes the group kill"
    );

    let reaped = reap_marked("BATON_TEST_MARKER", &marker, Duration::from_secs(1)).await;
    assert_eq!(reaped.len(), 1, "{reaped:?}");
    assert!(reaped[0].command.contains("sleep 1000"), "{reaped:?}");
    assert!(find_processes_with_env("BATON_TEST_MARKER", &marker).is_empty());
}

#[tokio::test]
async fn a_daemon_that_ignores_sigterm_is_killed_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("reap-term-{}", std::process::id());
    let spec = CommandSpec::shell(
        "setsid sh -c 'trap \"\" TERM; touch escaped; while :; do sleep 1; done' \
         >/dev/null 2>&1 & while [ ! -e escaped ]; do :; done",
        dir.path(),
    )
    .env("BATON_TEST_MARKER", &marker);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    while child.next_event().await.is_some() {}
    child.wait().await;
    assert!(!find_processes_with_env("BATON_TEST_MARKER", &marker).is_empty());
    let reaped = reap_marked("BATON_TEST_MARKER", &marker, Duration::from_millis(200)).await;
    assert!(!reaped.is_empty());
    assert!(find_processes_with_env("BATON_TEST_MARKER", &marker).is_empty());
}

#[tokio::test]
async fn nothing_is_killed_when_no_process_carries_the_marker() {
    let reaped = reap_marked(
        "BATON_TEST_MARKER",
        "no-such-marker",
        Duration::from_millis(50),
    )
    .await;
    assert!(reaped.is_empty());
}
