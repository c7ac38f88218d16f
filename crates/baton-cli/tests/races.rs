#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several baton processes on one repository at once: a prune beside a run, three runs started
//! at the same instant. Nothing may fail because another process touched the lane pool.

mod support;

use std::process::Child;
use support::{Baton, OK, statuses};

fn spawn_run(baton: &Baton, plan: &std::path::Path) -> Child {
    baton.spawn_baton(&["run", "--json", "--plan", plan.to_str().unwrap()])
}

fn wait_ok(baton: &Baton, child: &mut Child, what: &str) {
    let code = baton.wait_child(child, what);
    if code != OK {
        let mut err = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("{what} exited with {code}:\n{err}");
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
    wait_ok(&baton, &mut run, "the run beside the prunes");
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
            wait_ok(&baton, run, &format!("run {i} of round {round}"));
        }
    }
    assert_eq!(baton.run_ids().len(), 9);
}
