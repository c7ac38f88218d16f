#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton cancel RUN` from another terminal: it stops a live run quickly, kills its processes
//! and leaves it resumable; with no live owner (the engine was killed) it marks the run
//! cancelled and kills what survived of it. Either way `baton resume` completes the run.

mod common;

use common::{Fixture, HELD_TASK, assert_killed, group_gone, poll_gone};
use std::time::{Duration, Instant};

/// The product promises 2 s; only a stop slower than this fails the test (machines vary).
const STOP_LIMIT: Duration = Duration::from_secs(10);

#[test]
fn cancelling_a_live_run_from_another_process_stops_it_and_leaves_it_resumable() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    let pgid = fixture.wait_for_agent(&mut engine, &run, HELD_TASK);

    let asked = Instant::now();
    let cancel = fixture.baton_done(&["cancel", &run]);
    cancel.expect_code(0, "baton cancel of a live run");
    let returned = Instant::now();
    let stopped = engine.wait(STOP_LIMIT);
    let after_return = returned.elapsed();
    println!(
        "baton run exited {:?} after baton cancel returned ({:?} after it was started)",
        after_return,
        asked.elapsed()
    );
    stopped.expect_code(3, "the cancelled baton run");
    assert!(
        group_gone(pgid),
        "the cancelled run's agent group {pgid} is still alive"
    );
    let alive = poll_gone(&run);
    assert!(alive.is_empty(), "processes of {run} survive: {alive:?}");
    assert_eq!(fixture.run_status(&run), "cancelled");
    fixture.assert_lanes_are_clean();

    let before = fixture.finished_work(&run);
    fixture.release_hold();
    fixture.resume_to_completion(&run);
    fixture.assert_run_is_sound(&run, &before);
}

#[test]
fn cancelling_a_run_whose_engine_was_killed_marks_it_cancelled_and_kills_the_survivors() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    let pgid = fixture.wait_for_agent(&mut engine, &run, HELD_TASK);
    assert_killed(&engine.kill9(), "baton run killed by the test");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        baton_exec::group_alive(pgid),
        "the agent group {pgid} died with the engine; nothing to prove"
    );

    let cancel = fixture.baton_done(&["cancel", &run]);
    cancel.expect_code(0, "baton cancel of a run with no live owner");
    assert!(
        cancel.stderr.contains("no live owner"),
        "baton cancel does not say the run had no live owner: {}",
        cancel.stderr
    );
    assert!(
        group_gone(pgid),
        "baton cancel left the dead engine's agent group {pgid} alive"
    );
    let alive = poll_gone(&run);
    assert!(alive.is_empty(), "processes of {run} survive: {alive:?}");
    assert_eq!(fixture.run_status(&run), "cancelled");

    let before = fixture.finished_work(&run);
    fixture.release_hold();
    fixture.resume_to_completion(&run);
    fixture.assert_run_is_sound(&run, &before);
}
