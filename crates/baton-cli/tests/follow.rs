#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton logs RUN TASK --follow` and `baton events RUN --follow` print what comes and exit
//! once the run is no longer running (completed, failed or cancelled, with no live owner),
//! after printing everything. A cancel from another terminal is the case that hung them.

mod common;

use common::{Fixture, HELD_TASK, Running, assert_killed};
use std::time::Duration;

/// Far longer than a follower needs to notice the end (it polls every 200 ms), far shorter
/// than the held task's 30 s sleep: only a follower that waits for the task itself fails.
const FOLLOW_LIMIT: Duration = Duration::from_secs(15);

/// Starts both followers on the held task of a live run.
fn followers(fixture: &Fixture, run: &str) -> (Running, Running) {
    (
        fixture.spawn(&["logs", run, HELD_TASK, "--follow"], None),
        fixture.spawn(&["events", run, "--follow"], None),
    )
}

/// Both followers exit 0 within the limit; the events one printed the run's cancellation.
fn assert_followers_end(logs: Running, events: Running) {
    let logs = logs.wait(FOLLOW_LIMIT);
    logs.expect_code(0, "baton logs --follow");
    let events = events.wait(FOLLOW_LIMIT);
    events.expect_code(0, "baton events --follow");
    let cancelled = events.stdout.lines().any(|line| {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        event["type"] == "run.status" && event["data"]["to"] == "cancelled"
    });
    assert!(
        cancelled,
        "baton events --follow ended before printing the cancellation:\n{}",
        events.stdout
    );
}

#[test]
fn followers_of_a_run_cancelled_from_another_terminal_exit() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    fixture.wait_for_agent(&mut engine, &run, HELD_TASK);
    let (mut logs, mut events) = followers(&fixture, &run);
    logs.assert_running("baton logs --follow of a running task");
    events.assert_running("baton events --follow of a running run");

    fixture
        .baton_done(&["cancel", &run])
        .expect_code(0, "baton cancel");
    engine
        .wait(Duration::from_secs(20))
        .expect_code(3, "the cancelled baton run");
    assert_followers_end(logs, events);
}

#[test]
fn followers_of_a_run_whose_dead_engine_is_cancelled_exit() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    fixture.wait_for_agent(&mut engine, &run, HELD_TASK);
    let (logs, events) = followers(&fixture, &run);
    assert_killed(&engine.kill9(), "baton run killed by the test");

    fixture
        .baton_done(&["cancel", &run])
        .expect_code(0, "baton cancel with no live owner");
    assert_followers_end(logs, events);
}
