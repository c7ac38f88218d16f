//! The task graph: orders, levels, estimates and the critical path.
use crate::plan::Plan;
use baton_protocol::TaskId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// The estimate of a task whose plan entry gives none: 60 seconds.
pub const DEFAULT_ESTIMATE: Duration = Duration::from_secs(60);

/// The dependency graph of a plan's tasks. Edges point from a task to the tasks it needs.
///
/// Built from a validated (acyclic) plan. Should a hand-built plan contain a cycle, its tasks
/// come last in [`Dag::topo_order`] and take no part in path lengths; nothing panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dag {
    ids: Vec<TaskId>,
    index: BTreeMap<TaskId, usize>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    estimates: Vec<Option<Duration>>,
    topo: Vec<usize>,
    level: Vec<usize>,
    remaining: Vec<Duration>,
}

impl Dag {
    /// Builds the graph of `plan`'s tasks; deps naming no task are ignored.
    pub fn new(plan: &Plan) -> Dag {
        let ids: Vec<TaskId> = plan.tasks.iter().map(|task| task.id.clone()).collect();
        let index: BTreeMap<TaskId, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let deps: Vec<Vec<usize>> = plan
            .tasks
            .iter()
            .map(|task| {
                let mut deps: Vec<usize> = task
                    .deps
                    .iter()
                    .filter_map(|dep| index.get(dep).copied())
                    .collect();
                deps.sort_unstable();
                deps.dedup();
                deps
            })
            .collect();
        let mut dependents = vec![Vec::new(); ids.len()];
        for (task, task_deps) in deps.iter().enumerate() {
            for &dep in task_deps {
                dependents[dep].push(task);
            }
        }
        let topo = topological(&deps, &dependents);
        let mut level = vec![0; ids.len()];
        for &task in &topo {
            level[task] = deps[task].iter().map(|&d| level[d] + 1).max().unwrap_or(0);
        }
        let estimates: Vec<Option<Duration>> = plan.tasks.iter().map(|t| t.estimate).collect();
        let mut remaining = vec![Duration::ZERO; ids.len()];
        for &task in topo.iter().rev() {
            let tail = dependents[task]
                .iter()
                .map(|&d| remaining[d])
                .max()
                .unwrap_or(Duration::ZERO);
            remaining[task] = estimates[task].unwrap_or(DEFAULT_ESTIMATE) + tail;
        }
        Dag {
            ids,
            index,
            deps,
            dependents,
            estimates,
            topo,
            level,
            remaining,
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the plan has no tasks.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every task id, in plan order.
    pub fn ids(&self) -> &[TaskId] {
        &self.ids
    }

    /// Every task after all of its deps; ties keep plan order.
    pub fn topo_order(&self) -> Vec<TaskId> {
        self.names(&self.topo)
    }

    /// Tasks grouped by depth: level 0 has no deps, level n's longest dep chain has n links.
    pub fn levels(&self) -> Vec<Vec<TaskId>> {
        let depth = self.level.iter().max().map_or(0, |max| max + 1);
        let mut levels = vec![Vec::new(); depth];
        for &task in &self.topo {
            levels[self.level[task]].push(self.ids[task].clone());
        }
        levels
    }

    /// The tasks `id` needs, in plan order.
    pub fn deps(&self, id: &TaskId) -> Vec<TaskId> {
        self.lookup(id)
            .map_or_else(Vec::new, |i| self.names(&self.deps[i]))
    }

    /// The tasks that need `id` directly, in plan order.
    pub fn dependents(&self, id: &TaskId) -> Vec<TaskId> {
        self.lookup(id)
            .map_or_else(Vec::new, |i| self.names(&self.dependents[i]))
    }

    /// Every task that needs `id` directly or indirectly, in topological order.
    pub fn transitive_dependents(&self, id: &TaskId) -> Vec<TaskId> {
        let Some(start) = self.lookup(id) else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(task) = queue.pop_front() {
            for &dependent in &self.dependents[task] {
                if seen.insert(dependent) {
                    queue.push_back(dependent);
                }
            }
        }
        let ordered: Vec<usize> = self
            .topo
            .iter()
            .copied()
            .filter(|task| seen.contains(task))
            .collect();
        self.names(&ordered)
    }

    /// The task's estimate, or [`DEFAULT_ESTIMATE`] when the plan gives none.
    pub fn estimate(&self, id: &TaskId) -> Duration {
        self.lookup(id)
            .and_then(|i| self.estimates[i])
            .unwrap_or(DEFAULT_ESTIMATE)
    }

    /// True when the plan gives the task an estimate.
    pub fn estimated(&self, id: &TaskId) -> bool {
        self.lookup(id).is_some_and(|i| self.estimates[i].is_some())
    }

    /// The task's estimate plus the longest remaining path through its dependents.
    pub fn remaining_path(&self, id: &TaskId) -> Duration {
        self.lookup(id)
            .map_or(Duration::ZERO, |i| self.remaining[i])
    }

    /// The longest chain of estimates from a root to a leaf, and its length.
    pub fn critical_path(&self) -> (Vec<TaskId>, Duration) {
        let roots = (0..self.len()).filter(|&task| self.deps[task].is_empty());
        let Some(mut task) = roots.max_by_key(|&t| (self.remaining[t], std::cmp::Reverse(t)))
        else {
            return (Vec::new(), Duration::ZERO);
        };
        let length = self.remaining[task];
        let mut path = vec![task];
        let next = |t: usize| {
            self.dependents[t]
                .iter()
                .copied()
                .max_by_key(|&d| (self.remaining[d], std::cmp::Reverse(d)))
        };
        while let Some(dependent) = next(task) {
            if path.contains(&dependent) {
                break; // only possible in a hand-built cyclic plan
            }
            path.push(dependent);
            task = dependent;
        }
        (self.names(&path), length)
    }

    /// The sum of every task's estimate.
    pub fn total_work(&self) -> Duration {
        self.estimates
            .iter()
            .map(|e| e.unwrap_or(DEFAULT_ESTIMATE))
            .sum()
    }

    /// No schedule on `lanes` lanes can finish sooner: max(total work / lanes, critical path).
    pub fn lower_bound_makespan(&self, lanes: usize) -> Duration {
        let lanes = u32::try_from(lanes.max(1)).unwrap_or(u32::MAX);
        (self.total_work() / lanes).max(self.critical_path().1)
    }

    fn lookup(&self, id: &TaskId) -> Option<usize> {
        self.index.get(id).copied()
    }

    fn names(&self, tasks: &[usize]) -> Vec<TaskId> {
        tasks.iter().map(|&task| self.ids[task].clone()).collect()
    }
}

/// Kahn's algorithm, smallest plan index first; tasks left on a cycle are appended at the end.
fn topological(deps: &[Vec<usize>], dependents: &[Vec<usize>]) -> Vec<usize> {
    let mut missing: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..deps.len()).filter(|&t| missing[t] == 0).collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(task) = ready.pop_first() {
        order.push(task);
        for &dependent in &dependents[task] {
            missing[dependent] -= 1;
            if missing[dependent] == 0 {
                ready.insert(dependent);
            }
        }
    }
    if order.len() < deps.len() {
        let placed: BTreeSet<usize> = order.iter().copied().collect();
        order.extend((0..deps.len()).filter(|t| !placed.contains(t)));
    }
    order
}

/// How close a schedule came to the best possible: makespan / max(work / lanes, critical path).
/// At least 1 for a real schedule, ideally near 1; 1.0 when the bound is zero.
pub fn parallel_efficiency(
    makespan: Duration,
    total_work: Duration,
    lanes: usize,
    critical_path: Duration,
) -> f64 {
    let bound = (total_work.as_secs_f64() / lanes.max(1) as f64).max(critical_path.as_secs_f64());
    if bound <= 0.0 {
        1.0
    } else {
        makespan.as_secs_f64() / bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TaskSpec;

    fn task(id: &str, deps: &[&str], secs: Option<u64>) -> TaskSpec {
        let mut spec = TaskSpec::exec(id, "true");
        spec.deps = deps.iter().map(|d| TaskId::new(*d)).collect();
        spec.estimate = secs.map(Duration::from_secs);
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

    fn ids(names: &[&str]) -> Vec<TaskId> {
        names.iter().map(|n| TaskId::new(*n)).collect()
    }

    /// a(10) -> b(20) -> d(5); a -> c(40) -> d; e(unestimated) alone.
    fn diamond() -> Dag {
        plan(vec![
            task("d", &["b", "c"], Some(5)),
            task("a", &[], Some(10)),
            task("b", &["a"], Some(20)),
            task("c", &["a"], Some(40)),
            task("e", &[], None),
        ])
        .dag()
    }

    #[test]
    fn topological_order_puts_every_task_after_its_deps() {
        assert_eq!(diamond().topo_order(), ids(&["a", "b", "c", "d", "e"]));
    }

    #[test]
    fn levels_follow_the_longest_dep_chain() {
        assert_eq!(
            diamond().levels(),
            vec![ids(&["a", "e"]), ids(&["b", "c"]), ids(&["d"])]
        );
    }

    #[test]
    fn deps_and_dependents_are_both_directions_of_an_edge() {
        let dag = diamond();
        assert_eq!(dag.deps(&TaskId::new("d")), ids(&["b", "c"]));
        assert_eq!(dag.dependents(&TaskId::new("a")), ids(&["b", "c"]));
        assert_eq!(
            dag.transitive_dependents(&TaskId::new("a")),
            ids(&["b", "c", "d"])
        );
        assert!(dag.deps(&TaskId::new("nope")).is_empty());
    }

    #[test]
    fn a_missing_estimate_counts_as_sixty_seconds() {
        let dag = diamond();
        assert_eq!(dag.estimate(&TaskId::new("e")), DEFAULT_ESTIMATE);
        assert!(!dag.estimated(&TaskId::new("e")));
        assert!(dag.estimated(&TaskId::new("a")));
    }

    #[test]
    fn remaining_path_adds_the_longest_tail() {
        let dag = diamond();
        assert_eq!(
            dag.remaining_path(&TaskId::new("a")),
            Duration::from_secs(55)
        );
        assert_eq!(
            dag.remaining_path(&TaskId::new("b")),
            Duration::from_secs(25)
        );
        assert_eq!(
            dag.remaining_path(&TaskId::new("e")),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn the_critical_path_is_the_longest_chain() {
        let (path, length) = diamond().critical_path();
        assert_eq!(path, ids(&["e"]));
        assert_eq!(length, Duration::from_secs(60));
        let dag = plan(vec![
            task("a", &[], Some(10)),
            task("b", &["a"], Some(20)),
            task("c", &["a"], Some(40)),
            task("d", &["b", "c"], Some(5)),
        ])
        .dag();
        assert_eq!(
            dag.critical_path(),
            (ids(&["a", "c", "d"]), Duration::from_secs(55))
        );
    }

    #[test]
    fn the_lower_bound_is_the_larger_of_work_per_lane_and_critical_path() {
        let dag = diamond();
        assert_eq!(dag.total_work(), Duration::from_secs(135));
        assert_eq!(dag.lower_bound_makespan(1), Duration::from_secs(135));
        assert_eq!(dag.lower_bound_makespan(2), Duration::from_millis(67_500));
        assert_eq!(dag.lower_bound_makespan(10), Duration::from_secs(60));
    }

    #[test]
    fn parallel_efficiency_is_one_for_a_perfect_schedule_and_for_no_work() {
        let s = Duration::from_secs;
        assert_eq!(parallel_efficiency(s(50), s(100), 2, s(10)), 1.0);
        assert_eq!(parallel_efficiency(s(100), s(100), 2, s(10)), 2.0);
        assert_eq!(parallel_efficiency(s(0), s(0), 4, s(0)), 1.0);
    }

    #[test]
    fn a_hand_built_cycle_does_not_panic() {
        let dag = plan(vec![task("a", &["b"], None), task("b", &["a"], None)]).dag();
        assert_eq!(dag.topo_order().len(), 2);
        let _ = dag.critical_path();
        let _ = dag.levels();
    }
}
