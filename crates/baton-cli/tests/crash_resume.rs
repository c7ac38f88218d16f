#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Crash safety: `kill -9` of the engine at any instant, then `baton resume`, finishes the run
//! with no finished work lost, every task integrated exactly once, the integration branch only
//! on gate-passed commits, no orphan processes and no dirty or untracked lane.
//!
//! The engine is killed at each named fail point (both sides of every effect, some of them the
//! second time they are reached so that tasks are already merged), by the test itself while a
//! long task runs, and at random moments many times in a row.

mod common;

use common::{
    COMMAND_LIMIT, FinishedWork, Fixture, HELD_TASK, POLL_LIMIT, assert_killed, group_gone, poll,
};
use std::time::{Duration, Instant};

/// Kills the engine at `point` (`name` or `name@N`), resumes, checks every property.
fn kill_at_then_resume(point: &str) {
    kill_in_then_resume(Fixture::new(), point);
}

/// [`kill_at_then_resume`] with the plan whose merge queue batches, bisects and speculates.
fn kill_batch_at_then_resume(point: &str) {
    kill_in_then_resume(Fixture::batched(), point);
}

fn kill_in_then_resume(fixture: Fixture, point: &str) {
    let killed = fixture.spawn_run(Some(point)).wait(COMMAND_LIMIT);
    assert_killed(&killed, &format!("baton run with BATON_FAILPOINT={point}"));
    let name = point.split('@').next().unwrap();
    assert!(
        killed
            .stderr
            .contains(&format!("fail point {name} reached")),
        "the engine did not die at {point}:\n{}",
        killed.stderr
    );
    let run = fixture.the_run();
    assert_ne!(fixture.run_status(&run), "completed");
    let before = fixture.finished_work(&run);
    fixture.resume_to_completion(&run);
    fixture.assert_run_is_sound(&run, &before);
}

macro_rules! kill_point_tests {
    ($const:ident, $kill:ident: $($name:ident => $point:literal,)*) => {
        /// The points a test kills the engine at.
        const $const: &[&str] = &[$($point),*];
        $(
            #[test]
            fn $name() {
                $kill($point);
            }
        )*
    };
}

kill_point_tests! {
    KILL_POINTS, kill_at_then_resume:
    a_kill_before_a_lane_is_prepared_is_recovered_by_resume => "lane.prepare.before",
    a_kill_after_a_lane_is_prepared_is_recovered_by_resume => "lane.prepare.after",
    a_kill_before_an_agent_starts_is_recovered_by_resume => "agent.start.before",
    a_kill_while_an_agent_runs_is_recovered_by_resume => "agent.start.after",
    a_kill_after_an_agent_exits_keeps_its_work => "agent.exit.after",
    a_kill_before_the_agents_work_is_committed_keeps_its_work => "agent.commit.before",
    a_kill_after_the_agents_work_is_committed_keeps_its_commit => "agent.commit.after",
    a_kill_before_a_task_is_queued_for_merge_keeps_its_commit => "state.enqueue.before",
    a_kill_after_a_task_is_queued_for_merge_keeps_its_commit => "state.enqueue.after",
    a_kill_before_the_first_merge_commit_is_recovered_by_resume => "merge.commit.before",
    a_kill_after_the_first_merge_commit_is_recovered_by_resume => "merge.commit.after",
    a_kill_before_the_first_integration_ref_update_is_recovered_by_resume => "ref.update.before",
    a_kill_after_the_first_integration_ref_update_merges_once => "ref.update.after",
    a_kill_after_the_first_merge_is_recorded_merges_once => "state.merged.after",
    a_kill_before_the_second_merge_commit_keeps_the_first_merge => "merge.commit.before@2",
    a_kill_after_the_second_merge_commit_keeps_the_first_merge => "merge.commit.after@2",
    a_kill_before_the_second_integration_ref_update_keeps_the_first_merge => "ref.update.before@2",
    a_kill_after_the_second_integration_ref_update_merges_once => "ref.update.after@2",
    a_kill_after_the_second_merge_is_recorded_merges_once => "state.merged.after@2",
    a_kill_after_the_fourth_integration_ref_update_merges_once => "ref.update.after@4",
}

kill_point_tests! {
    BATCH_KILL_POINTS, kill_batch_at_then_resume:
    a_kill_after_a_batch_chain_is_built_is_recovered_by_resume => "batch.built.after@2",
    a_kill_in_the_middle_of_a_bisection_is_recovered_by_resume => "bisect.gate.before",
    a_kill_after_a_speculative_gate_passed_is_recovered_by_resume => "speculation.passed.after",
    a_kill_before_a_batch_tip_moves_the_branch_is_recovered_by_resume => "ref.update.before@2",
    a_kill_after_a_batch_tip_moved_the_branch_merges_once => "ref.update.after@2",
    a_kill_after_a_culprits_later_batch_merged_merges_once => "state.merged.after@4",
}

#[test]
fn every_fail_point_of_the_engine_has_a_kill_test() {
    for point in baton_engine::failpoint::FAIL_POINTS {
        assert!(
            KILL_POINTS
                .iter()
                .chain(BATCH_KILL_POINTS)
                .any(|p| p.split('@').next() == Some(point)),
            "fail point {point} has no kill test"
        );
    }
    for point in KILL_POINTS.iter().chain(BATCH_KILL_POINTS) {
        let name = point.split('@').next().unwrap();
        assert!(
            baton_engine::failpoint::FAIL_POINTS.contains(&name),
            "kill test of unknown fail point {point}"
        );
    }
    println!(
        "{} kill points tested",
        KILL_POINTS.len() + BATCH_KILL_POINTS.len()
    );
}

#[test]
fn a_kill_of_the_engine_leaves_its_agent_running_and_resume_kills_it_before_finishing() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    let pgid = fixture.wait_for_agent(&mut engine, &run, HELD_TASK);
    assert_killed(&engine.kill9(), "baton run killed by the test");

    // The dead engine's agent survives it: that is the orphan resume must deal with.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        baton_exec::group_alive(pgid),
        "the agent's process group {pgid} died with the engine; nothing to prove"
    );
    assert!(
        !baton_exec::find_processes_with_env(baton_agents::ENV_RUN_ID, &run).is_empty(),
        "no process of run {run} survived the engine"
    );

    let before = fixture.finished_work(&run);
    fixture.release_hold();
    fixture.resume_to_completion(&run);
    assert!(
        group_gone(pgid),
        "the orphaned agent group {pgid} outlived the resume"
    );
    // Resume killed the orphan before it started anything.
    let events = fixture.events(&run);
    let killed_it = |e: &&serde_json::Value| {
        e["type"] == "run.reconciled"
            && e["data"]["actions"].as_array().unwrap().iter().any(|a| {
                let a = a.as_str().unwrap();
                a.contains("killed") && a.contains(&pgid.to_string())
            })
    };
    let kill_seq = events
        .iter()
        .find(killed_it)
        .unwrap_or_else(|| panic!("resume did not report killing group {pgid}: {events:#?}"))["seq"]
        .as_i64()
        .unwrap();
    let restarted = events
        .iter()
        .find(|e| {
            e["type"] == "attempt.started" && e["task"] == HELD_TASK && e["data"]["attempt"] == 2
        })
        .expect("the held task's second attempt");
    assert!(
        restarted["seq"].as_i64().unwrap() > kill_seq,
        "the held task started again before its orphan was killed"
    );
    assert_eq!(
        fixture.agent_runs(HELD_TASK),
        2,
        "the held task runs again after its interrupted attempt"
    );
    fixture.assert_run_is_sound(&run, &before);
}

#[test]
fn a_second_resume_of_a_run_owned_by_a_live_process_is_refused() {
    let fixture = Fixture::with_hold();
    let mut engine = fixture.spawn_run(None);
    let run = fixture.wait_for_run(&mut engine);
    poll("the run to be running with an owner", POLL_LIMIT, || {
        let status = fixture.status(&run);
        (status["status"] == "running" && !status["owner"].is_null()).then_some(())
    });

    let refused = fixture.baton_done(&["resume", &run]);
    refused.expect_code(2, "baton resume of a run a live process owns");
    assert!(
        refused.stderr.contains("owned"),
        "the refusal does not say the run is owned: {}",
        refused.stderr
    );
    assert_eq!(fixture.run_status(&run), "running");
    assert!(
        engine.try_wait().is_none(),
        "the owner stopped because of the refused resume"
    );

    // The owner is undisturbed: kill it, and a resume still completes the run.
    assert_killed(&engine.kill9(), "baton run killed by the test");
    let before = fixture.finished_work(&run);
    fixture.release_hold();
    fixture.resume_to_completion(&run);
    fixture.assert_run_is_sound(&run, &before);
}

/// splitmix64: a small seeded generator, so a failing sequence of kills can be replayed with
/// `BATON_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// How many times the randomized test kills the engine in all (`BATON_CRASH_KILLS` overrides
/// it for a longer hunt).
const RANDOM_KILLS: usize = 8;

#[test]
fn killing_the_engine_at_random_moments_again_and_again_still_finishes_the_run_soundly() {
    let seed = std::env::var("BATON_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("random kills with BATON_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let wanted = std::env::var("BATON_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(RANDOM_KILLS);
    let mut kills = 0;
    let mut runs = 0;
    // A run that completes before all the kills happened is checked, and a new one started.
    while kills < wanted {
        runs += 1;
        kills += random_kills_then_resume(&mut rng, seed, wanted - kills);
    }
    println!("seed {seed}: {kills} random kills over {runs} runs, each resumed soundly");
}

/// Starts a run, then up to `max_kills` times kills the engine (run or resume) after a random
/// delay of 0-1.5 s; resumes to completion and checks every property. Returns the kills done.
fn random_kills_then_resume(rng: &mut Rng, seed: u64, max_kills: usize) -> usize {
    // Each task takes a moment, so a whole run outlasts most of the random delays.
    let fixture = Fixture::paced("0.25");
    let mut run: Option<String> = None;
    let mut before = FinishedWork::default();
    let mut kills = 0;
    while kills < max_kills {
        if let Some(run) = &run
            && fixture.run_status(run) == "completed"
        {
            break;
        }
        let mut engine = match &run {
            None => fixture.spawn_run(None),
            Some(run) => fixture.spawn_resume(run),
        };
        let delay = Duration::from_millis(rng.next() % 1500);
        let start = Instant::now();
        while start.elapsed() < delay && engine.try_wait().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let done = engine.kill9();
        let what = if run.is_none() { "run" } else { "resume" };
        if run.is_none() {
            run = fixture.run_id();
        }
        match done.status.code() {
            Some(0) => {
                println!("  {what} completed before the kill after {delay:?}");
                break;
            }
            Some(code) => panic!(
                "baton {what} (seed {seed}) exited with {code} before the kill:\n{}",
                done.stderr
            ),
            None => {
                assert_killed(&done, &format!("baton {what} (seed {seed})"));
                kills += 1;
                println!("  {what} killed after {delay:?}");
            }
        }
        if let Some(run) = &run {
            before.absorb(fixture.finished_work(run));
        }
    }
    let run = match run {
        Some(run) => run,
        None => {
            // Every start died before the run was created: one clean start then.
            fixture.spawn_run(None).wait(COMMAND_LIMIT);
            fixture.the_run()
        }
    };
    if fixture.run_status(&run) != "completed" {
        fixture.resume_to_completion(&run);
    }
    fixture.assert_run_is_sound(&run, &before);
    kills
}
