//! Schedules on paper: how long a plan takes under baton's list scheduler or a level barrier.
use crate::dag::Dag;
use crate::plan::Plan;
use crate::schedule::next_to_start;
use baton_protocol::{TaskId, TaskStatus};
use std::collections::BTreeMap;
use std::time::Duration;

/// The makespan of baton's scheduler on `lanes` lanes, when each task takes `durations[id]`
/// (its DAG estimate when absent) and merges the moment it finishes.
pub fn simulate_list_schedule(
    plan: &Plan,
    dag: &Dag,
    lanes: usize,
    durations: &BTreeMap<TaskId, Duration>,
) -> Duration {
    let duration = |id: &TaskId| {
        durations
            .get(id)
            .copied()
            .unwrap_or_else(|| dag.estimate(id))
    };
    let mut status: BTreeMap<TaskId, TaskStatus> = plan
        .tasks
        .iter()
        .map(|task| (task.id.clone(), TaskStatus::Pending))
        .collect();
    let mut running: Vec<(Duration, TaskId)> = Vec::new();
    let mut now = Duration::ZERO;
    loop {
        let free = lanes.saturating_sub(running.len());
        for id in next_to_start(plan, dag, &status, free) {
            running.push((now + duration(&id), id.clone()));
            status.insert(id, TaskStatus::Running);
        }
        let Some(next) = running.iter().map(|(end, _)| *end).min() else {
            return now; // all done, or nothing can ever start
        };
        now = next;
        running.retain(|(end, id)| {
            let done = *end == next;
            if done {
                status.insert(id.clone(), TaskStatus::Merged);
            }
            !done
        });
    }
}

/// The makespan when each DAG level runs as a batch (longest task first onto the least loaded
/// of `lanes` lanes) and the next level waits for the whole batch. Claims are ignored.
pub fn simulate_level_barrier(
    dag: &Dag,
    lanes: usize,
    durations: &BTreeMap<TaskId, Duration>,
) -> Duration {
    let lanes = lanes.max(1);
    let duration = |id: &TaskId| {
        durations
            .get(id)
            .copied()
            .unwrap_or_else(|| dag.estimate(id))
    };
    dag.levels()
        .iter()
        .map(|level| {
            let mut tasks: Vec<Duration> = level.iter().map(duration).collect();
            tasks.sort_unstable_by(|a, b| b.cmp(a));
            let mut load = vec![Duration::ZERO; lanes];
            for task in tasks {
                if let Some(lightest) = load.iter_mut().min() {
                    *lightest += task;
                }
            }
            load.into_iter().max().unwrap_or(Duration::ZERO)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;
    use crate::plan::TaskSpec;

    fn task(id: &str, deps: &[&str], claim: &str) -> TaskSpec {
        let mut spec = TaskSpec::exec(id, "true");
        spec.deps = deps.iter().map(|d| TaskId::new(*d)).collect();
        spec.claims = ClaimSet::parse(&[claim.to_string()]).unwrap();
        spec
    }

    fn plan(tasks: Vec<TaskSpec>) -> Plan {
        Plan {
            goal: "test".into(),
            base: None,
            lanes: 2,
            gates: Vec::new(),
            merge_gates: Vec::new(),
            tasks,
            approval_threshold: None,
            merge_batch: None,
            merge_lanes: None,
        }
    }

    fn secs(pairs: &[(&str, u64)]) -> BTreeMap<TaskId, Duration> {
        pairs
            .iter()
            .map(|(id, s)| (TaskId::new(*id), Duration::from_secs(*s)))
            .collect()
    }

    /// a(10) and b(30) at level 0; c(30) needs a; d(10) needs b.
    fn example() -> (Plan, BTreeMap<TaskId, Duration>) {
        let p = plan(vec![
            task("a", &[], "a/**"),
            task("b", &[], "b/**"),
            task("c", &["a"], "c/**"),
            task("d", &["b"], "d/**"),
        ]);
        (p, secs(&[("a", 10), ("b", 30), ("c", 30), ("d", 10)]))
    }

    #[test]
    fn the_list_schedule_starts_a_task_as_soon_as_its_deps_merge() {
        let (p, durations) = example();
        // lane 1: a 0-10, c 10-40; lane 2: b 0-30, d 30-40.
        assert_eq!(
            simulate_list_schedule(&p, &p.dag(), 2, &durations),
            Duration::from_secs(40)
        );
    }

    #[test]
    fn the_level_barrier_waits_for_the_slowest_task_of_each_level() {
        let (p, durations) = example();
        // level 0: max(10, 30) = 30; level 1: max(30, 10) = 30.
        assert_eq!(
            simulate_level_barrier(&p.dag(), 2, &durations),
            Duration::from_secs(60)
        );
        // one lane: everything in sequence either way.
        assert_eq!(
            simulate_level_barrier(&p.dag(), 1, &durations),
            Duration::from_secs(80)
        );
    }

    #[test]
    fn conflicting_claims_serialise_the_list_schedule() {
        let p = plan(vec![task("a", &[], "src/**"), task("b", &[], "src/lib.rs")]);
        let durations = secs(&[("a", 10), ("b", 20)]);
        assert_eq!(
            simulate_list_schedule(&p, &p.dag(), 2, &durations),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn missing_durations_fall_back_to_the_estimates() {
        let p = plan(vec![task("a", &[], "a/**")]);
        assert_eq!(
            simulate_list_schedule(&p, &p.dag(), 1, &BTreeMap::new()),
            crate::dag::DEFAULT_ESTIMATE
        );
    }
}
