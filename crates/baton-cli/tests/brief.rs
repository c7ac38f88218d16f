#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton brief`: over real runs in one `BATON_HOME`, the briefing lists the unfinished runs,
//! what waits for a person with the command for it, what merged, the spend against the
//! project's budget, and the next tasks (failed ones first).

mod support;

use support::{BAD_INPUT, Baton, FAILED, OK};

const PAUSED: i32 = 4;

#[test]
fn the_brief_names_what_waits_what_merged_the_spend_and_what_comes_next() {
    let baton = Baton::new();
    baton
        .baton(&["budget", "set", "--scope", "project", "--daily", "20"])
        .expect_code(OK);
    let (done, completed) = baton.run_plan(
        "version: 1\ngoal: ship\ntasks:\n  - id: shipped\n    title: Ship it\n    run: \"echo 1 > shipped.txt\"\n    claims: [shipped.txt]\n",
        &[],
    );
    done.expect_code(OK);
    let (failed_run, failed) = baton.run_plan(
        "version: 1\ngoal: break\ntasks:\n  - id: broken\n    run: \"exit 1\"\n    priority: high\n  - id: later\n    run: \"true\"\n    deps: [broken]\n",
        &[],
    );
    failed_run.expect_code(FAILED);
    baton.write_config("[escalation]\nperson = true\n");
    let (stuck_run, stuck) = baton.run_plan(
        "version: 1\ngoal: stuck\ntasks:\n  - id: stuck\n    run: \"echo nope >&2; exit 1\"\n",
        &[],
    );
    stuck_run.expect_code(PAUSED);

    let out = baton.baton(&["brief", "--json"]);
    out.expect_code(OK);
    let brief = out.json();
    let runs: Vec<&str> = brief["in_progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap())
        .collect();
    assert!(
        runs.contains(&failed.as_str()) && runs.contains(&stuck.as_str()),
        "{brief:#}"
    );
    assert!(!runs.contains(&completed.as_str()), "{brief:#}");
    let waiting = brief["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{brief:#}");
    assert_eq!(waiting[0]["kind"], "needs_human");
    assert_eq!(waiting[0]["task"], "stuck");
    assert!(
        waiting[0]["act"]
            .as_str()
            .unwrap()
            .starts_with(&format!("baton retry {stuck} stuck")),
        "{brief:#}"
    );
    let merged: Vec<&str> = brief["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    assert_eq!(merged, ["shipped"], "{brief:#}");
    assert_eq!(brief["next"][0]["task"], "broken", "{brief:#}");
    assert_eq!(brief["next"][0]["status"], "failed", "{brief:#}");
    assert_eq!(brief["spend"]["today"], 0.0, "{brief:#}");
    let limits = brief["spend"]["limits"].as_array().unwrap();
    assert!(
        limits
            .iter()
            .any(|l| l["limit"]["scope"] == "project" && l["limit"]["period"] == "day"),
        "{brief:#}"
    );

    // The Markdown goes to stdout and, with --markdown, to the file too.
    let file = baton.scratch("brief").join("today.md");
    let text = baton.baton(&["brief", "--markdown", file.to_str().unwrap()]);
    text.expect_code(OK);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text.stdout);
    for needle in [
        "## Waiting for you",
        &format!("baton retry {stuck} stuck"),
        "- `shipped` Ship it",
        "project day limit $20.00",
    ] {
        assert!(
            text.stdout.contains(needle),
            "{needle:?} in:\n{}",
            text.stdout
        );
    }
}

#[test]
fn a_bad_window_or_an_unwritable_file_is_refused() {
    let baton = Baton::new();
    let bad = baton.baton(&["brief", "--since", "yesterday"]);
    bad.expect_code(BAD_INPUT);
    assert!(
        bad.stderr.contains("--since \"yesterday\""),
        "{}",
        bad.stderr
    );
    let nowhere = baton.baton(&["brief", "--markdown", "/nonexistent-dir/brief.md"]);
    nowhere.expect_code(BAD_INPUT);
    assert!(
        nowhere.stderr.contains("/nonexistent-dir/brief.md"),
        "{}",
        nowhere.stderr
    );
}
