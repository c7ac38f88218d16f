#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several baton processes on one repository at once: a prune beside a run, three runs started
//! at the same instant. Nothing may fail because another process touched the lane pool.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Baton, OK, statuses};

/// `baton run --plan PLAN` started in the background with the fixture's environment.
fn spawn_run(baton: &Baton, plan: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["run", "--json", "--plan"])
        .arg(plan)
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("BATON_FAILPOINT")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_with_limit(child: &mut Child, what: &str) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            if status.code() != Some(OK) {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("{what} exited with {status}:\n{err}");
            }
            return status.code().unwrap();
        }
        assert!(
            start.elapsed() < support::COMMAND_LIMIT,
            "{what} did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn independent_tasks(prefix: &str, n: usize, work: &str) -> String {
    let mut yaml = format!("version: 1\ngoal: \"{prefix}\"\nlanes: 3\ntasks:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - id: {prefix}{i}\n    run: \"{work}; echo {i} > {prefix}{i}.txt\"\n    claims: [\"{prefix}{i}.txt\"]\n"
        ));
    }
    yaml
}

#[test]
fn pruning_lanes_in_a_loop_during_a_run_never_removes_a_lane_the_run_holds() {
    let baton = Baton::new();
    let plan = baton.plan("busy.yaml", &independent_tasks("t", 9, "sleep 0.2"));
    let mut run = spawn_run(&baton, &plan);
    let mut prunes = 0;
    while run.try_wait().unwrap().is_none() {
        baton.baton(&["lanes", "prune"]).expect_code(OK);
        prunes += 1;
    }
    assert!(prunes > 0);
    wait_with_limit(&mut run, "the run beside the prunes");
    let id = baton.run_ids()[0].clone();
    let status = baton.status(&id);
    assert_eq!(status["status"], "completed", "{status:#}");
    assert!(statuses(&status).iter().all(|s| s.ends_with("=merged")));
}

#[test]
fn three_runs_started_at_the_same_instant_on_one_repository_all_complete() {
    let baton = Baton::new();
    for round in 0..3 {
        let plans: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|p| {
                let prefix = format!("{p}{round}x");
                baton.plan(
                    &format!("{prefix}.yaml"),
                    &independent_tasks(&prefix, 3, "true"),
                )
            })
            .collect();
        let mut runs: Vec<Child> = plans.iter().map(|plan| spawn_run(&baton, plan)).collect();
        for (i, run) in runs.iter_mut().enumerate() {
            wait_with_limit(run, &format!("run {i} of round {round}"));
        }
    }
    assert_eq!(baton.run_ids().len(), 9);
}
