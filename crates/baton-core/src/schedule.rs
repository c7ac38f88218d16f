//! What may start now, and what can never start: the scheduler's decisions, without side effects.
use crate::dag::Dag;
use crate::plan::{Plan, TaskSpec};
use baton_protocol::{TaskId, TaskStatus};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// The tasks to start now, at most `free_lanes` of them, in start order.
///
/// Candidates are pending tasks whose deps are all merged (or force-completed), ordered by priority (high first),
/// then longest remaining path, then id. Each is picked when its claims conflict neither with a
/// task holding claims (running, or queued for merge) nor with a task picked before it.
/// A task missing from `status` counts as pending.
pub fn next_to_start(
    plan: &Plan,
    dag: &Dag,
    status: &BTreeMap<TaskId, TaskStatus>,
    free_lanes: usize,
) -> Vec<TaskId> {
    let status_of = |id: &TaskId| status.get(id).copied().unwrap_or(TaskStatus::Pending);
    let mut candidates: Vec<&TaskSpec> = plan
        .tasks
        .iter()
        .filter(|task| status_of(&task.id) == TaskStatus::Pending)
        .filter(|task| {
            task.deps
                .iter()
                .all(|dep| crate::state::task_is_done(status_of(dep)))
        })
        .collect();
    candidates.sort_by_key(|task| {
        (
            Reverse(task.priority.rank()),
            Reverse(dag.remaining_path(&task.id)),
            task.id.clone(),
        )
    });
    let mut holding: Vec<&TaskSpec> = plan
        .tasks
        .iter()
        .filter(|task| {
            matches!(
                status_of(&task.id),
                TaskStatus::Running | TaskStatus::Queued
            )
        })
        .collect();
    let mut picked = Vec::new();
    for task in candidates {
        if picked.len() >= free_lanes {
            break;
        }
        if holding
            .iter()
            .all(|other| !task.claims.conflicts_with(&other.claims))
        {
            picked.push(task.id.clone());
            holding.push(task);
        }
    }
    picked
}

/// Pending tasks that can never start because a dependency failed or is blocked, directly or
/// through other pending tasks. Returned in plan order.
pub fn tasks_to_block(
    plan: &Plan,
    dag: &Dag,
    status: &BTreeMap<TaskId, TaskStatus>,
) -> Vec<TaskId> {
    let status_of = |id: &TaskId| status.get(id).copied().unwrap_or(TaskStatus::Pending);
    let mut doomed: BTreeSet<TaskId> = BTreeSet::new();
    for id in dag.topo_order() {
        let Some(task) = plan.task(&id) else {
            continue;
        };
        let failed_dep = task.deps.iter().any(|dep| {
            matches!(status_of(dep), TaskStatus::Failed | TaskStatus::Blocked)
                || doomed.contains(dep)
        });
        if failed_dep && status_of(&id) == TaskStatus::Pending {
            doomed.insert(id);
        }
    }
    plan.tasks
        .iter()
        .filter(|task| doomed.contains(&task.id))
        .map(|task| task.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;
    use baton_protocol::Priority;
    use proptest::prelude::*;
    use std::time::Duration;

    fn claims(globs: &[&str]) -> ClaimSet {
        let texts: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
        ClaimSet::parse(&texts).unwrap()
    }

    fn task(id: &str, deps: &[&str], globs: &[&str]) -> TaskSpec {
        let mut spec = TaskSpec::exec(id, "true");
        spec.deps = deps.iter().map(|d| TaskId::new(*d)).collect();
        spec.claims = claims(globs);
        spec
    }

    fn plan(tasks: Vec<TaskSpec>) -> Plan {
        Plan {
            goal: "test".into(),
            base: None,
            lanes: 4,
            gates: Vec::new(),
            merge_gates: Vec::new(),
            tasks,
            approval_threshold: None,
            merge_batch: None,
            merge_lanes: None,
        }
    }

    fn statuses(pairs: &[(&str, TaskStatus)]) -> BTreeMap<TaskId, TaskStatus> {
        pairs.iter().map(|(id, s)| (TaskId::new(*id), *s)).collect()
    }

    fn ids(names: &[&str]) -> Vec<TaskId> {
        names.iter().map(|n| TaskId::new(*n)).collect()
    }

    #[test]
    fn tasks_with_disjoint_claims_start_together_up_to_the_free_lanes() {
        let p = plan(vec![
            task("a", &[], &["a/**"]),
            task("b", &[], &["b/**"]),
            task("c", &[], &["c/**"]),
        ]);
        let dag = p.dag();
        assert_eq!(
            next_to_start(&p, &dag, &BTreeMap::new(), 2),
            ids(&["a", "b"])
        );
        assert_eq!(next_to_start(&p, &dag, &BTreeMap::new(), 0), ids(&[]));
    }

    #[test]
    fn a_task_waits_until_every_dep_is_merged() {
        let p = plan(vec![
            task("a", &[], &["a/**"]),
            task("b", &["a"], &["b/**"]),
        ]);
        let dag = p.dag();
        let queued = statuses(&[("a", TaskStatus::Queued)]);
        assert!(next_to_start(&p, &dag, &queued, 4).is_empty());
        let merged = statuses(&[("a", TaskStatus::Merged)]);
        assert_eq!(next_to_start(&p, &dag, &merged, 4), ids(&["b"]));
    }

    #[test]
    fn a_queued_task_keeps_its_claims_until_merged() {
        let p = plan(vec![
            task("a", &[], &["src/**"]),
            task("b", &[], &["src/lib.rs"]),
        ]);
        let dag = p.dag();
        let queued = statuses(&[("a", TaskStatus::Queued)]);
        assert!(next_to_start(&p, &dag, &queued, 4).is_empty());
    }

    #[test]
    fn shared_claims_let_tasks_run_side_by_side() {
        let p = plan(vec![
            task("a", &[], &["a/**", "shared:Cargo.lock"]),
            task("b", &[], &["b/**", "shared:Cargo.lock"]),
            task("c", &[], &["Cargo.lock"]),
        ]);
        let dag = p.dag();
        assert_eq!(
            next_to_start(&p, &dag, &BTreeMap::new(), 4),
            ids(&["a", "b"])
        );
    }

    #[test]
    fn priority_then_remaining_path_then_id_decides_the_order() {
        let mut urgent = task("z", &[], &["z/**"]);
        urgent.priority = Priority::High;
        let mut long = task("y", &[], &["y/**"]);
        long.estimate = Some(Duration::from_secs(600));
        let p = plan(vec![
            task("b", &[], &["b/**"]),
            task("a", &[], &["a/**"]),
            long,
            urgent,
        ]);
        let dag = p.dag();
        assert_eq!(
            next_to_start(&p, &dag, &BTreeMap::new(), 4),
            ids(&["z", "y", "a", "b"])
        );
    }

    #[test]
    fn a_task_without_claims_runs_alone() {
        let p = plan(vec![task("a", &[], &[]), task("b", &[], &["b/**"])]);
        let dag = p.dag();
        assert_eq!(next_to_start(&p, &dag, &BTreeMap::new(), 4), ids(&["a"]));
    }

    #[test]
    fn pending_tasks_behind_a_failure_are_blocked_transitively() {
        let p = plan(vec![
            task("a", &[], &["a/**"]),
            task("b", &["a"], &["b/**"]),
            task("c", &["b"], &["c/**"]),
            task("d", &[], &["d/**"]),
            task("e", &["d"], &["e/**"]),
        ]);
        let dag = p.dag();
        let s = statuses(&[("a", TaskStatus::Failed), ("d", TaskStatus::Merged)]);
        assert_eq!(tasks_to_block(&p, &dag, &s), ids(&["b", "c"]));
        let s = statuses(&[("b", TaskStatus::Blocked), ("a", TaskStatus::Merged)]);
        assert_eq!(tasks_to_block(&p, &dag, &s), ids(&["c"]));
    }

    const GLOBS: &[&str] = &[
        "src/**",
        "src/lib.rs",
        "src/a/**",
        "src/*.rs",
        "docs/**",
        "shared:Cargo.lock",
        "Cargo.lock",
        "shared:docs/**",
        "tests/**",
        "**/*.md",
    ];

    const STATUSES: &[TaskStatus] = &[
        TaskStatus::Pending,
        TaskStatus::Pending,
        TaskStatus::Running,
        TaskStatus::Queued,
        TaskStatus::Merged,
        TaskStatus::Merged,
        TaskStatus::Failed,
    ];

    /// Random plans: task i may depend only on tasks before it.
    fn scenario() -> impl Strategy<Value = (Plan, BTreeMap<TaskId, TaskStatus>, usize)> {
        let task = (
            prop::collection::vec(prop::sample::select(GLOBS), 0..3),
            prop::collection::vec(any::<prop::sample::Index>(), 0..3),
            prop::sample::select(STATUSES),
            prop::sample::select(Priority::ALL),
            0u64..100,
        );
        (prop::collection::vec(task, 1..9), 0usize..5).prop_map(|(specs, free)| {
            let mut tasks = Vec::new();
            let mut status = BTreeMap::new();
            for (i, (globs, deps, st, priority, secs)) in specs.into_iter().enumerate() {
                let mut spec = task_with(i, &globs);
                if i > 0 {
                    let mut deps: Vec<TaskId> = deps
                        .iter()
                        .map(|d| TaskId::new(format!("t{}", d.index(i))))
                        .collect();
                    deps.sort();
                    deps.dedup();
                    spec.deps = deps;
                }
                spec.priority = priority;
                spec.estimate = Some(Duration::from_secs(secs));
                status.insert(spec.id.clone(), st);
                tasks.push(spec);
            }
            (plan(tasks), status, free)
        })
    }

    fn task_with(i: usize, globs: &[&str]) -> TaskSpec {
        let mut spec = TaskSpec::exec(&format!("t{i}"), "true");
        spec.claims = claims(globs);
        spec
    }

    proptest! {
        #[test]
        fn picks_respect_claims_deps_lanes_and_leave_nothing_startable((p, status, free) in scenario()) {
            let dag = p.dag();
            let picked = next_to_start(&p, &dag, &status, free);
            prop_assert!(picked.len() <= free);

            let spec = |id: &TaskId| p.task(id).unwrap();
            let mut holders: Vec<&TaskSpec> = p
                .tasks
                .iter()
                .filter(|t| matches!(status[&t.id], TaskStatus::Running | TaskStatus::Queued))
                .collect();
            holders.extend(picked.iter().map(spec));
            for (i, a) in holders.iter().enumerate() {
                for b in &holders[i + 1..] {
                    let both_held = !picked.contains(&a.id) && !picked.contains(&b.id);
                    prop_assert!(
                        both_held || !a.claims.conflicts_with(&b.claims),
                        "{} and {} conflict", a.id, b.id
                    );
                }
            }
            for id in &picked {
                prop_assert_eq!(status[id], TaskStatus::Pending);
                for dep in &spec(id).deps {
                    prop_assert_eq!(status[dep], TaskStatus::Merged);
                }
            }
            if picked.len() < free {
                for task in &p.tasks {
                    let candidate = status[&task.id] == TaskStatus::Pending
                        && task.deps.iter().all(|d| status[d] == TaskStatus::Merged)
                        && !picked.contains(&task.id);
                    if candidate {
                        let blocked = holders.iter().any(|h| h.claims.conflicts_with(&task.claims));
                        prop_assert!(blocked, "{} could also have started", task.id);
                    }
                }
            }
        }

        #[test]
        fn blocked_tasks_are_pending_and_have_a_failed_or_blocked_dep_after_blocking((p, status, _free) in scenario()) {
            let dag = p.dag();
            let blocked = tasks_to_block(&p, &dag, &status);
            let mut after = status.clone();
            for id in &blocked {
                prop_assert_eq!(status[id], TaskStatus::Pending);
                after.insert(id.clone(), TaskStatus::Blocked);
            }
            for id in &blocked {
                let deps = &p.task(id).unwrap().deps;
                prop_assert!(deps.iter().any(|d| matches!(after[d], TaskStatus::Failed | TaskStatus::Blocked)));
            }
            // One call resolves everything: nothing more to block afterwards.
            prop_assert!(tasks_to_block(&p, &dag, &after).is_empty());
        }
    }
}
