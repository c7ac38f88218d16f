//! What a person's command does to a task (`baton skip`, `retry`, `reassign`,
//! `force-complete`, `reset`): the status it moves the task to, or why it cannot, and which
//! dependents follow. Pure; the engine applies it.

use crate::dag::Dag;
use baton_protocol::{Control, TaskId, TaskStatus};
use std::collections::BTreeMap;

/// A command refused because of the task's status; says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {command} task {task}: it is {status}; {advice}")]
pub struct ControlRefused {
    pub command: &'static str,
    pub task: TaskId,
    pub status: TaskStatus,
    pub advice: String,
}

/// Where `control` moves a task that is `from`: `Ok(Some(to))` for a status change,
/// `Ok(None)` when the command only changes what its next attempt runs (a pending task
/// reassigned or reset), or why it cannot.
pub fn task_control_target(
    control: &Control,
    from: TaskStatus,
) -> Result<Option<TaskStatus>, ControlRefused> {
    use TaskStatus::*;
    let Some(task) = control.task() else {
        return Ok(None);
    };
    let refuse = |advice: &str| ControlRefused {
        command: control.name(),
        task: task.clone(),
        status: from,
        advice: advice.to_string(),
    };
    let busy = match from {
        Running => Some("its attempt is running: `baton stop RUN TASK` stops it first"),
        Queued => Some("it waits in the merge queue; its merge gates decide it"),
        Merged => Some("it is integrated already"),
        _ => None,
    };
    match control {
        Control::Pause | Control::Resume => Ok(None),
        Control::Skip { .. } => match from {
            Pending | Blocked | Failed | AwaitingApproval | NeedsHuman => Ok(Some(Skipped)),
            Skipped => Err(refuse("it is skipped already")),
            ForceCompleted => Err(refuse("it is done; `baton reset` starts it over first")),
            _ => Err(refuse(busy.unwrap_or("it cannot be skipped now"))),
        },
        Control::ForceComplete { .. } => match from {
            Pending | Blocked | Failed | AwaitingApproval | NeedsHuman | Skipped => {
                Ok(Some(ForceCompleted))
            }
            ForceCompleted => Err(refuse("it is force-completed already")),
            _ => Err(refuse(busy.unwrap_or("it cannot be force-completed now"))),
        },
        Control::Retry { .. } => match from {
            Failed | NeedsHuman | Skipped => Ok(Some(Pending)),
            Blocked => Err(refuse(
                "a dependency of it did not integrate: retry that dependency instead",
            )),
            Pending | AwaitingApproval => Err(refuse(
                "it has not failed; `baton reassign` changes its agent, `baton approve` decides \
                 an approval",
            )),
            ForceCompleted => Err(refuse("it is done; `baton reset` starts it over")),
            _ => Err(refuse(busy.unwrap_or("it cannot be retried now"))),
        },
        Control::Reassign { .. } => match from {
            Pending => Ok(None),
            Failed | NeedsHuman => Ok(Some(Pending)),
            AwaitingApproval => Err(refuse(
                "`baton approve RUN TASK --agent NAME` approves it on another agent",
            )),
            Blocked | Skipped | ForceCompleted => Err(refuse(
                "it will not run; `baton retry` or `baton reset` brings it back first",
            )),
            _ => Err(refuse(busy.unwrap_or("it cannot be reassigned now"))),
        },
        Control::Reset { .. } => match from {
            Pending => Ok(None),
            Failed | Blocked | NeedsHuman | Skipped | ForceCompleted => Ok(Some(Pending)),
            AwaitingApproval => Err(refuse("`baton approve` or `baton reject` decides it first")),
            _ => Err(refuse(busy.unwrap_or("it cannot be reset now"))),
        },
    }
}

/// The tasks a skip of `task` skips with it: every task that depends on it, directly or not,
/// and has not run (pending or blocked). In topological order.
pub fn skipped_with(
    dag: &Dag,
    status: &BTreeMap<TaskId, TaskStatus>,
    task: &TaskId,
) -> Vec<TaskId> {
    dependents_in(
        dag,
        status,
        task,
        &[TaskStatus::Pending, TaskStatus::Blocked],
    )
}

/// The tasks that come back to `pending` when `task` does (a retry or a reset): its
/// dependents, direct or not, that were blocked or skipped because of it. In topological order.
pub fn revived_with(
    dag: &Dag,
    status: &BTreeMap<TaskId, TaskStatus>,
    task: &TaskId,
) -> Vec<TaskId> {
    dependents_in(
        dag,
        status,
        task,
        &[TaskStatus::Blocked, TaskStatus::Skipped],
    )
}

fn dependents_in(
    dag: &Dag,
    status: &BTreeMap<TaskId, TaskStatus>,
    task: &TaskId,
    wanted: &[TaskStatus],
) -> Vec<TaskId> {
    let below = dag.transitive_dependents(task);
    dag.topo_order()
        .into_iter()
        .filter(|id| below.contains(id))
        .filter(|id| status.get(id).is_some_and(|s| wanted.contains(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, TaskSpec};

    fn skip(task: &str) -> Control {
        Control::Skip {
            task: TaskId::new(task),
        }
    }

    fn dag() -> Dag {
        let mut a = TaskSpec::exec("a", "true");
        a.deps = vec![];
        let mut b = TaskSpec::exec("b", "true");
        b.deps = vec![TaskId::new("a")];
        let mut c = TaskSpec::exec("c", "true");
        c.deps = vec![TaskId::new("b")];
        let d = TaskSpec::exec("d", "true");
        Dag::new(&Plan {
            goal: "g".into(),
            base: None,
            lanes: 2,
            gates: vec![],
            merge_gates: vec![],
            tasks: vec![a, b, c, d],
            approval_threshold: None,
            merge_batch: None,
            merge_lanes: None,
        })
    }

    fn statuses(pairs: &[(&str, TaskStatus)]) -> BTreeMap<TaskId, TaskStatus> {
        pairs.iter().map(|(id, s)| (TaskId::new(*id), *s)).collect()
    }

    #[test]
    fn every_command_moves_only_the_statuses_it_may_and_names_the_status_otherwise() {
        use TaskStatus::*;
        let t = TaskId::new("t");
        let commands = [
            skip("t"),
            Control::ForceComplete { task: t.clone() },
            Control::Retry {
                task: t.clone(),
                agent: None,
                prompt: None,
            },
            Control::Reassign {
                task: t.clone(),
                agent: "codex".into(),
            },
            Control::Reset { task: t.clone() },
        ];
        for command in &commands {
            for &from in TaskStatus::ALL {
                match task_control_target(command, from) {
                    Ok(Some(to)) => {
                        assert!(
                            crate::task_transition(from, to).is_ok(),
                            "{} moves {from} to {to}, which the task state machine refuses",
                            command.name()
                        );
                    }
                    Ok(None) => assert_eq!(from, Pending, "{} of {from}", command.name()),
                    Err(refused) => {
                        let text = refused.to_string();
                        assert!(
                            text.starts_with(&format!(
                                "cannot {} task t: it is {from}; ",
                                command.name()
                            )),
                            "{text}"
                        );
                    }
                }
            }
        }
        // A running, queued or merged task is never moved by a person's command.
        for command in &commands {
            for from in [Running, Queued, Merged] {
                assert!(task_control_target(command, from).is_err());
            }
        }
        assert_eq!(
            task_control_target(&skip("t"), NeedsHuman),
            Ok(Some(Skipped))
        );
        assert!(
            task_control_target(&skip("t"), Running)
                .unwrap_err()
                .to_string()
                .contains("baton stop")
        );
    }

    #[test]
    fn a_skip_takes_the_pending_dependents_along_and_a_retry_brings_them_back() {
        use TaskStatus::*;
        let dag = dag();
        let now = statuses(&[
            ("a", Failed),
            ("b", Blocked),
            ("c", Pending),
            ("d", Pending),
        ]);
        let along = skipped_with(&dag, &now, &TaskId::new("a"));
        assert_eq!(along, vec![TaskId::new("b"), TaskId::new("c")]);
        let later = statuses(&[
            ("a", Skipped),
            ("b", Skipped),
            ("c", Skipped),
            ("d", Merged),
        ]);
        let back = revived_with(&dag, &later, &TaskId::new("a"));
        assert_eq!(back, vec![TaskId::new("b"), TaskId::new("c")]);
        assert!(revived_with(&dag, &later, &TaskId::new("d")).is_empty());
    }
}
