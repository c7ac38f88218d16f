#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A bug in one attempt (a panic) must not hang the run or leave anything running: the drive
//! winds down (every other attempt is stopped and joined), releases the run, and `baton resume`
//! finishes it soundly.

mod common;

use common::{Fixture, HELD_TASK, group_gone, poll_gone};
use std::time::Duration;

/// The wind-down takes about the kill grace (2 s); only a hang fails the test.
const STOP_LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_panicking_attempt_winds_the_drive_down_and_resume_finishes_the_run() {
    let fixture = Fixture::with_hold();
    // The second attempt to reach its commit panics: by then `root` merged and the held task's
    // agent has long been running (with the first, `root` could get there before the held
    // task's agent had even started on a loaded machine, and the drive ended too early).
    let mut engine = fixture.spawn_run(Some("agent.commit.before@2:panic"));
    let run = fixture.wait_for_run(&mut engine);
    let held = fixture.wait_for_agent(&mut engine, &run, HELD_TASK);

    let done = engine.wait(STOP_LIMIT);
    done.expect_code(1, "baton run with a panicking attempt");
    assert!(
        done.stderr.contains("stopped abnormally"),
        "the error names what happened:\n{}",
        done.stderr
    );
    assert!(
        group_gone(held),
        "the other attempt's agent {held} was wound down"
    );
    let alive = poll_gone(&run);
    assert!(alive.is_empty(), "processes of {run} survive: {alive:?}");

    let before = fixture.finished_work(&run);
    fixture.release_hold();
    fixture.resume_to_completion(&run);
    fixture.assert_run_is_sound(&run, &before);
}
