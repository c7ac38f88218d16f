#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Closing the terminal of `baton run` (SIGHUP) stops it like Ctrl-C: its agents, which run in
//! their own process groups and so never see the hangup, are killed, the run is `cancelled`
//! and `baton resume` completes it.

mod common;

use common::{Fixture, HELD_TASK, group_gone, poll_gone};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::Duration;

/// The product stops within about 2 s; only a stop slower than this fails the test.
const STOP_LIMIT: Duration = Duration::from_secs(10);

#[test]
fn a_hangup_cancels_the_run_kills_its_agents_and_leaves_it_resumable() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    let pgid = fixture.wait_for_agent(&mut engine, &run, HELD_TASK);

    kill(Pid::from_raw(engine.pid()), Signal::SIGHUP).unwrap();
    let stopped = engine.wait(STOP_LIMIT);
    stopped.expect_code(3, "baton run after SIGHUP");
    assert!(
        group_gone(pgid),
        "the agent group {pgid} outlived the hangup of baton run"
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
