#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Processes that print more than anyone reads: baton's memory and log stay bounded, and the
//! consumer still gets every line.

use std::path::Path;
use std::time::{Duration, Instant};

use baton_exec::{
    CommandSpec, EVENT_BUFFER, EndReason, ProcessEvent, group_alive, log_cap_marker, spawn,
};
use tokio_util::sync::CancellationToken;

const LINES: usize = 200_000;

fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
        .unwrap_or(0)
}

/// Polls `ready` until it holds. Nothing signals these conditions (a file's length, a process
/// group's end), so the wait is bounded to fail rather than hang.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < give_up, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_flooded_log_stops_at_its_cap_and_ends_with_a_marker_counting_what_was_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    let cap: u64 = 1024 * 1024;
    let script = "head -c 20000000 /dev/zero | tr '\\0' x | fold -w 1000";
    let spec = CommandSpec::shell(script, dir.path())
        .log_file(&log)
        .log_cap(cap);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut printed: Vec<u64> = Vec::new();
    while let Some(event) = child.next_event().await {
        if let ProcessEvent::Line { text, .. } = event {
            printed.push(text.len() as u64 + 1);
        }
    }
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    // Events and the in-memory capture are not capped by the log's cap.
    assert_eq!(printed.len(), 20_000);
    assert_eq!(outcome.output.total_lines(), 20_000);

    let mut fits = 0;
    let mut written = 0;
    while written + printed[fits] <= cap {
        written += printed[fits];
        fits += 1;
    }
    let total: u64 = printed.iter().sum();
    let marker = log_cap_marker(cap, total - written, (printed.len() - fits) as u64);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() as u64 <= cap + marker.len() as u64 + 1);
    let (lines, last) = text.trim_end_matches('\n').rsplit_once('\n').unwrap();
    assert_eq!(last, marker);
    assert_eq!(lines.len() as u64 + 1, written);
    assert_eq!(lines.lines().count(), fits);
    assert!(lines.lines().all(|line| line == "x".repeat(1000)));
}

#[tokio::test]
async fn a_consumer_that_reads_late_holds_the_process_back_and_then_gets_every_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("seq.log");
    let silence = Duration::from_secs(1);
    let spec = CommandSpec::new("seq", dir.path())
        .arg("1")
        .arg(LINES.to_string())
        .log_file(&log)
        .silence(silence);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();

    // Unread, the events fill their buffer, and one more line waits for room: baton reads (and
    // logs) no further, so the process blocks in its writes instead of racing ahead.
    until("the event buffer is full", || {
        line_count(&log) > EVENT_BUFFER
    })
    .await;
    assert_eq!(line_count(&log), EVENT_BUFFER + 1);
    assert!(
        group_alive(child.pgid()),
        "seq cannot finish while held back"
    );
    // Held back for longer than the silence limit: that is the consumer's doing, not silence.
    tokio::time::sleep(2 * silence).await;
    assert_eq!(line_count(&log), EVENT_BUFFER + 1);

    let mut next = 1;
    while let Some(event) = child.next_event().await {
        if let ProcessEvent::Line { text, .. } = event {
            assert_eq!(text, next.to_string());
            next += 1;
        }
    }
    assert_eq!(next, LINES + 1);
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(line_count(&log), LINES);
}

#[tokio::test]
async fn a_consumer_that_only_waits_gets_the_outcome_of_a_process_that_floods() {
    let spec = CommandSpec::new("seq", std::env::temp_dir())
        .arg("1")
        .arg(LINES.to_string());
    let child = spawn(spec, CancellationToken::new()).unwrap();
    let outcome = child.wait().await;
    assert_eq!(outcome.end, EndReason::Exited { code: 0 });
    assert_eq!(outcome.output.total_lines(), LINES as u64);
    assert_eq!(outcome.output.tail.last().unwrap(), &LINES.to_string());
}

#[tokio::test]
async fn dropping_a_flooding_process_nobody_reads_kills_it_and_closes_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("yes.log");
    // Small enough that the log passes it before the consumer's buffer (EVENT_BUFFER events)
    // fills: a cap the flood reaches only after the drop could lose the race with the kill on
    // a loaded machine, and then no marker would ever be written (seen once under CI load).
    let cap = 1024;
    let spec = CommandSpec::new("yes", dir.path())
        .log_file(&log)
        .log_cap(cap);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    child.next_event().await.unwrap();
    let pgid = child.pgid();
    drop(child);
    // The supervising task writes the marker last: it did not stay stuck sending events to a
    // consumer that is gone.
    until("the log is closed", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains("[baton: log cap"))
    })
    .await;
    until("the group is gone", || !group_alive(pgid)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let (lines, last) = text.trim_end_matches('\n').rsplit_once('\n').unwrap();
    assert!(last.starts_with(&format!("[baton: log cap of {cap} bytes reached; ")));
    assert!(lines.lines().all(|line| line == "y"));
}
