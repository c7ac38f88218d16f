#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton bench --only agent-flood --quick --json`: a fake Claude Code floods `baton run` with
//! stream-json; the bench reports the run's peak RSS against a quiet agent's, a decoding
//! throughput, and finds the 16 MiB record stored whole as one message event.

mod support;

use std::process::Command;
use support::{OK, run_with_deadline};

#[test]
fn the_flood_bench_measures_memory_and_throughput_and_the_16_mib_record_arrives_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(["bench", "--only", "agent-flood", "--quick", "--json"])
        .current_dir(tmp.path())
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("BATON_FAILPOINTS");
    let run = run_with_deadline(
        command,
        "baton bench --only agent-flood".into(),
        &tmp.path().join("output"),
    );
    run.expect_code(OK);
    let figures = run.json();
    let flood = &figures["agent_flood"];
    assert_eq!(flood["largest_record_bytes"], 16 * 1024 * 1024, "{flood:#}");
    assert_eq!(flood["largest_record_whole"], true, "{flood:#}");
    // 64 MiB of small records, the 16 MiB one and 14 MiB of multi-MB ones.
    assert!(
        flood["stdout_bytes"].as_u64().unwrap() > 90 * 1024 * 1024,
        "{flood:#}"
    );
    let peak = flood["peak_rss_mib"].as_f64().unwrap();
    let baseline = flood["baseline_rss_mib"].as_f64().unwrap();
    assert!(baseline > 1.0 && peak > baseline, "{flood:#}");
    assert!(flood["mb_per_sec"].as_f64().unwrap() > 0.0, "{flood:#}");
    // Only the selected bench ran.
    assert!(figures["dispatch"].is_null() && figures["lanes"].is_null());
}
