//! The legal moves of runs, tasks, attempts and merge items. Everything else is a bug.
use baton_protocol::{AttemptStatus, MergeItemStatus, RunStatus, TaskStatus};

/// A status change the state machine of `entity` does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {entity} transition: {from} -> {to}")]
pub struct InvalidTransition {
    /// `run`, `task`, `attempt` or `merge item`.
    pub entity: &'static str,
    /// The current status.
    pub from: &'static str,
    /// The requested status.
    pub to: &'static str,
}

/// Checks a run status change; returns the new status when it is allowed.
pub fn run_transition(from: RunStatus, to: RunStatus) -> Result<RunStatus, InvalidTransition> {
    use RunStatus::*;
    match (from, to) {
        (Pending, Running | Cancelled | AwaitingInput)
        | (AwaitingInput, Running | Cancelled) // answered, or given up
        | (Running, Completed | Failed | Cancelled | BudgetExceeded)
        | (BudgetExceeded, Running | Cancelled) // resume with a higher budget, or give up
        | (Running, AwaitingApproval)
        | (AwaitingApproval, Running | Cancelled)
        | (Running, Paused | NeedsHuman) // `baton pause`; a task needs a person
        | (Paused | NeedsHuman, Running | Cancelled)
        | (Cancelled, Running) // resume
        | (Failed, Running) => Ok(to), // resume retries the failed tasks
        _ => Err(invalid("run", from.as_str(), to.as_str())),
    }
}

/// Checks a task status change; returns the new status when it is allowed.
pub fn task_transition(from: TaskStatus, to: TaskStatus) -> Result<TaskStatus, InvalidTransition> {
    use TaskStatus::*;
    match (from, to) {
        (Pending, Running | Blocked)
        | (Running, Queued | Failed)
        | (Running, Pending) // retry, or the engine was interrupted
        | (Queued, Merged | Failed)
        | (Queued, Pending) // conflict or merge gate failure with retries left
        | (Blocked | Failed, Pending) // resume of a failed run
        | (Pending, AwaitingApproval)
        | (AwaitingApproval, Pending | Failed) // approved, or rejected
        | (Running | Queued, NeedsHuman) // out of attempts, escalated to a person
        // A person's controls: skip, force-complete, retry and reset.
        | (Pending | Blocked | Failed | AwaitingApproval | NeedsHuman, Skipped)
        | (Pending | Blocked | Failed | AwaitingApproval | NeedsHuman | Skipped, ForceCompleted)
        | (NeedsHuman | Skipped | ForceCompleted, Pending)
        | (Running, AwaitingApproval) // gates passed; medium risk waits before delivery
        | (AwaitingApproval, Queued) => Ok(to), // delivery approved: into the merge queue
        _ => Err(invalid("task", from.as_str(), to.as_str())),
    }
}

/// Checks an attempt status change; returns the new status when it is allowed.
pub fn attempt_transition(
    from: AttemptStatus,
    to: AttemptStatus,
) -> Result<AttemptStatus, InvalidTransition> {
    use AttemptStatus::*;
    match (from, to) {
        (Running, Succeeded | Failed | Interrupted | Stopped) => Ok(to),
        _ => Err(invalid("attempt", from.as_str(), to.as_str())),
    }
}

/// Checks a merge item status change; returns the new status when it is allowed.
pub fn merge_item_transition(
    from: MergeItemStatus,
    to: MergeItemStatus,
) -> Result<MergeItemStatus, InvalidTransition> {
    use MergeItemStatus::*;
    match (from, to) {
        (Queued, Checking)
        | (Checking, Merging | Conflicted | Failed)
        | (Checking, Queued) // interrupted: check again
        | (Merging, Merged)
        | (Merging, Queued) => Ok(to), // interrupted before the ref moved, or the ref moved
        _ => Err(invalid("merge item", from.as_str(), to.as_str())),
    }
}

fn invalid(entity: &'static str, from: &'static str, to: &'static str) -> InvalidTransition {
    InvalidTransition { entity, from, to }
}

/// True when a run has stopped by itself and will not move without a resume.
pub fn run_is_terminal(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Completed
            | RunStatus::Failed
            | RunStatus::Cancelled
            | RunStatus::BudgetExceeded
            | RunStatus::AwaitingApproval
            | RunStatus::Paused
            | RunStatus::NeedsHuman
            | RunStatus::AwaitingInput
    )
}

/// True when a task needs nothing more in this run (`merged`, `failed`, `blocked`, `skipped`
/// or `force_completed`).
pub fn task_is_terminal(status: TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Merged
            | TaskStatus::Failed
            | TaskStatus::Blocked
            | TaskStatus::Skipped
            | TaskStatus::ForceCompleted
    )
}

/// True when a task counts as done for the tasks that depend on it and for the run's
/// completion: merged, or declared done by a person (`force_completed`).
pub fn task_is_done(status: TaskStatus) -> bool {
    matches!(status, TaskStatus::Merged | TaskStatus::ForceCompleted)
}

/// True when a run may complete with a task in this status: done, or skipped by a person.
pub fn task_is_settled_for_delivery(status: TaskStatus) -> bool {
    task_is_done(status) || status == TaskStatus::Skipped
}

/// True when an attempt has ended.
pub fn attempt_is_terminal(status: AttemptStatus) -> bool {
    !matches!(status, AttemptStatus::Running)
}

/// True when a merge item has left the queue for good.
pub fn merge_item_is_terminal(status: MergeItemStatus) -> bool {
    matches!(
        status,
        MergeItemStatus::Merged | MergeItemStatus::Conflicted | MergeItemStatus::Failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN_ALLOWED: &[(RunStatus, RunStatus)] = &[
        (RunStatus::Pending, RunStatus::Running),
        (RunStatus::Pending, RunStatus::Cancelled),
        (RunStatus::Running, RunStatus::Completed),
        (RunStatus::Running, RunStatus::Failed),
        (RunStatus::Running, RunStatus::Cancelled),
        (RunStatus::Cancelled, RunStatus::Running),
        (RunStatus::Failed, RunStatus::Running),
        (RunStatus::Running, RunStatus::BudgetExceeded),
        (RunStatus::BudgetExceeded, RunStatus::Running),
        (RunStatus::BudgetExceeded, RunStatus::Cancelled),
        (RunStatus::Running, RunStatus::AwaitingApproval),
        (RunStatus::AwaitingApproval, RunStatus::Running),
        (RunStatus::AwaitingApproval, RunStatus::Cancelled),
        (RunStatus::Running, RunStatus::Paused),
        (RunStatus::Running, RunStatus::NeedsHuman),
        (RunStatus::Paused, RunStatus::Running),
        (RunStatus::Paused, RunStatus::Cancelled),
        (RunStatus::NeedsHuman, RunStatus::Running),
        (RunStatus::NeedsHuman, RunStatus::Cancelled),
        (RunStatus::Pending, RunStatus::AwaitingInput),
        (RunStatus::AwaitingInput, RunStatus::Running),
        (RunStatus::AwaitingInput, RunStatus::Cancelled),
    ];

    const TASK_ALLOWED: &[(TaskStatus, TaskStatus)] = &[
        (TaskStatus::Pending, TaskStatus::Running),
        (TaskStatus::Pending, TaskStatus::Blocked),
        (TaskStatus::Running, TaskStatus::Queued),
        (TaskStatus::Running, TaskStatus::Pending),
        (TaskStatus::Running, TaskStatus::Failed),
        (TaskStatus::Queued, TaskStatus::Merged),
        (TaskStatus::Queued, TaskStatus::Pending),
        (TaskStatus::Queued, TaskStatus::Failed),
        (TaskStatus::Blocked, TaskStatus::Pending),
        (TaskStatus::Failed, TaskStatus::Pending),
        (TaskStatus::Pending, TaskStatus::AwaitingApproval),
        (TaskStatus::AwaitingApproval, TaskStatus::Pending),
        (TaskStatus::AwaitingApproval, TaskStatus::Failed),
        (TaskStatus::Running, TaskStatus::NeedsHuman),
        (TaskStatus::Queued, TaskStatus::NeedsHuman),
        (TaskStatus::Pending, TaskStatus::Skipped),
        (TaskStatus::Blocked, TaskStatus::Skipped),
        (TaskStatus::Failed, TaskStatus::Skipped),
        (TaskStatus::AwaitingApproval, TaskStatus::Skipped),
        (TaskStatus::NeedsHuman, TaskStatus::Skipped),
        (TaskStatus::Pending, TaskStatus::ForceCompleted),
        (TaskStatus::Blocked, TaskStatus::ForceCompleted),
        (TaskStatus::Failed, TaskStatus::ForceCompleted),
        (TaskStatus::AwaitingApproval, TaskStatus::ForceCompleted),
        (TaskStatus::NeedsHuman, TaskStatus::ForceCompleted),
        (TaskStatus::Skipped, TaskStatus::ForceCompleted),
        (TaskStatus::NeedsHuman, TaskStatus::Pending),
        (TaskStatus::Skipped, TaskStatus::Pending),
        (TaskStatus::ForceCompleted, TaskStatus::Pending),
        (TaskStatus::Running, TaskStatus::AwaitingApproval),
        (TaskStatus::AwaitingApproval, TaskStatus::Queued),
    ];

    const ATTEMPT_ALLOWED: &[(AttemptStatus, AttemptStatus)] = &[
        (AttemptStatus::Running, AttemptStatus::Succeeded),
        (AttemptStatus::Running, AttemptStatus::Failed),
        (AttemptStatus::Running, AttemptStatus::Interrupted),
        (AttemptStatus::Running, AttemptStatus::Stopped),
    ];

    const MERGE_ALLOWED: &[(MergeItemStatus, MergeItemStatus)] = &[
        (MergeItemStatus::Queued, MergeItemStatus::Checking),
        (MergeItemStatus::Checking, MergeItemStatus::Merging),
        (MergeItemStatus::Checking, MergeItemStatus::Conflicted),
        (MergeItemStatus::Checking, MergeItemStatus::Failed),
        (MergeItemStatus::Checking, MergeItemStatus::Queued),
        (MergeItemStatus::Merging, MergeItemStatus::Merged),
        (MergeItemStatus::Merging, MergeItemStatus::Queued),
    ];

    /// Every allowed pair succeeds; every other pair of `all` fails with the right message.
    fn check_exhaustively<S: Copy + PartialEq + std::fmt::Debug + std::fmt::Display>(
        entity: &str,
        all: &[S],
        allowed: &[(S, S)],
        transition: impl Fn(S, S) -> Result<S, InvalidTransition>,
    ) {
        for &from in all {
            for &to in all {
                let result = transition(from, to);
                if allowed.contains(&(from, to)) {
                    assert_eq!(result, Ok(to), "{entity} {from} -> {to} should be allowed");
                } else {
                    let error = result.expect_err("should be rejected");
                    assert_eq!(
                        error.to_string(),
                        format!("invalid {entity} transition: {from} -> {to}")
                    );
                }
            }
        }
    }

    #[test]
    fn every_allowed_run_transition_succeeds_and_every_other_pair_is_rejected() {
        check_exhaustively("run", RunStatus::ALL, RUN_ALLOWED, run_transition);
    }

    #[test]
    fn every_allowed_task_transition_succeeds_and_every_other_pair_is_rejected() {
        check_exhaustively("task", TaskStatus::ALL, TASK_ALLOWED, task_transition);
    }

    #[test]
    fn every_allowed_attempt_transition_succeeds_and_every_other_pair_is_rejected() {
        check_exhaustively(
            "attempt",
            AttemptStatus::ALL,
            ATTEMPT_ALLOWED,
            attempt_transition,
        );
    }

    #[test]
    fn every_allowed_merge_item_transition_succeeds_and_every_other_pair_is_rejected() {
        check_exhaustively(
            "merge item",
            MergeItemStatus::ALL,
            MERGE_ALLOWED,
            merge_item_transition,
        );
    }

    #[test]
    fn a_merged_task_cannot_run_again() {
        let error = task_transition(TaskStatus::Merged, TaskStatus::Running).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid task transition: merged -> running"
        );
    }

    #[test]
    fn representative_invalid_moves_are_rejected() {
        assert!(run_transition(RunStatus::Completed, RunStatus::Running).is_err());
        assert!(run_transition(RunStatus::Pending, RunStatus::Completed).is_err());
        assert!(task_transition(TaskStatus::Pending, TaskStatus::Merged).is_err());
        assert!(task_transition(TaskStatus::Blocked, TaskStatus::Running).is_err());
        assert!(attempt_transition(AttemptStatus::Failed, AttemptStatus::Running).is_err());
        assert!(merge_item_transition(MergeItemStatus::Queued, MergeItemStatus::Merged).is_err());
        assert!(merge_item_transition(MergeItemStatus::Merged, MergeItemStatus::Queued).is_err());
    }

    #[test]
    fn terminal_statuses_are_the_ones_nothing_leaves_by_itself() {
        assert!(run_is_terminal(RunStatus::Completed));
        assert!(!run_is_terminal(RunStatus::Running));
        assert!(task_is_terminal(TaskStatus::Merged));
        assert!(task_is_terminal(TaskStatus::Blocked));
        assert!(!task_is_terminal(TaskStatus::Queued));
        assert!(attempt_is_terminal(AttemptStatus::Interrupted));
        assert!(!attempt_is_terminal(AttemptStatus::Running));
        assert!(merge_item_is_terminal(MergeItemStatus::Conflicted));
        assert!(!merge_item_is_terminal(MergeItemStatus::Merging));
    }
}
