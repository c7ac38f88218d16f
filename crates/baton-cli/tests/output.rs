#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A task's output is untrusted: an endless line or a flood must neither be cut silently nor
//! fill the disk.

mod support;

use support::{Baton, OK};

#[test]
fn a_line_longer_than_the_cap_is_cut_with_a_marker_saying_how_much() {
    let baton = Baton::new();
    // One 1 MB line: 64 KiB are kept, the rest is counted.
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "a very long line"
tasks:
  - id: long
    run: "head -c 1000000 /dev/zero | tr '\\0' 'x'; echo; echo after"
"#,
        &[],
    );
    run.expect_code(OK);
    let logs = baton.baton(&["logs", &id, "long"]);
    logs.expect_code(OK);
    let marker = format!("[line cut: {} bytes not shown]", 1_000_000 - 64 * 1024);
    assert!(
        logs.stdout.contains(&marker),
        "no marker {marker:?} in the log"
    );
    assert!(
        logs.stdout.lines().any(|l| l == "after"),
        "the next line is whole"
    );
}

#[test]
fn a_flood_stops_the_log_at_its_cap_and_the_log_says_how_much_was_left_out() {
    let baton = Baton::new();
    std::fs::write(
        baton.path().join("baton.toml"),
        "[output]\nlog_cap_mb = 1\n",
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    // 4,000 lines of 999 bytes + newline: 4 MB, four times the cap.
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "a flood"
tasks:
  - id: flood
    run: "head -c 3996000 /dev/zero | tr '\\0' 'y' | fold -w 999"
"#,
        &[],
    );
    run.expect_code(OK);
    let log = baton
        .home
        .join("runs")
        .join(&id)
        .join("logs")
        .join("flood.1.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("[baton: log cap of 1048576 bytes reached;"),
        "{last}"
    );
    let kept = text.len() - last.len() - 1;
    assert!(kept <= 1024 * 1024, "{kept} bytes kept past the cap");
    let lines_kept = text.lines().count() - 1;
    assert_eq!(
        last,
        format!(
            "[baton: log cap of 1048576 bytes reached; {} more bytes in {} lines not written]",
            (4000 - lines_kept) * 1000,
            4000 - lines_kept
        )
    );
}
