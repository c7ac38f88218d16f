//! `baton stop RUN TASK`: stop one running attempt, not the run. The request goes through the
//! database (the engine that owns the run may be another process); the owner sees it within a
//! quarter second, kills the attempt's processes, records the attempt as `stopped`, and the
//! task follows its retry rules.

use crate::{Engine, EngineError, lease};
use baton_protocol::{AttemptStatus, RunId, RunStatus, TaskId, TaskStatus};
use serde::Serialize;
use std::time::Duration;

/// What `stop` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopOutcome {
    pub run: RunId,
    pub task: TaskId,
    /// The attempt that was stopped.
    pub attempt: u32,
    /// How that attempt ended (`stopped`, or how it ended by itself just before).
    pub attempt_status: AttemptStatus,
    /// Where the stop sent the task: `pending` (it runs again; its next attempt may have
    /// started already) or `failed` (no retries left).
    pub task_status: TaskStatus,
}

/// How long `stop` waits for the owner to act.
const WAIT: Duration = Duration::from_secs(15);

impl Engine {
    /// Stops the running attempt of `task` in run `run_id` and waits until its owner has.
    pub async fn stop_attempt(
        &self,
        run_id: &RunId,
        task: &TaskId,
    ) -> Result<StopOutcome, EngineError> {
        let run = self.store.run(run_id).await?;
        let tasks = self.store.tasks(run_id).await?;
        let Some(row) = tasks.iter().find(|t| &t.id == task) else {
            let known: Vec<String> = tasks.iter().map(|t| t.id.to_string()).collect();
            return Err(EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: format!("it has no task {task} (its tasks: {})", known.join(", ")),
            });
        };
        let owned = run.lease.as_ref().is_some_and(lease::is_live);
        if run.status != RunStatus::Running || !owned {
            return Err(EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: "no baton process is driving it, so no attempt runs; `baton resume` \
                       continues it"
                    .into(),
            });
        }
        let attempt = self
            .store
            .attempts(run_id, Some(task))
            .await?
            .into_iter()
            .rev()
            .find(|a| a.status == AttemptStatus::Running)
            .ok_or_else(|| EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: format!("task {task} has no running attempt (it is {})", row.status),
            })?;
        self.store
            .request_stop(run_id, task, attempt.number)
            .await?;
        let until = tokio::time::Instant::now() + WAIT;
        loop {
            let now = self
                .store
                .attempts(run_id, Some(task))
                .await?
                .into_iter()
                .find(|a| a.number == attempt.number);
            if let Some(now) = now
                && now.status != AttemptStatus::Running
            {
                let now_status = self
                    .store
                    .tasks(run_id)
                    .await?
                    .into_iter()
                    .find(|t| &t.id == task)
                    .map_or(row.status, |t| t.status);
                // The engine may have started the next attempt (or even merged it) between the
                // stop and this read: the stop itself sent the task back to pending.
                let task_status = match now_status {
                    TaskStatus::Failed | TaskStatus::Blocked | TaskStatus::NeedsHuman => now_status,
                    _ => TaskStatus::Pending,
                };
                return Ok(StopOutcome {
                    run: run_id.clone(),
                    task: task.clone(),
                    attempt: attempt.number,
                    attempt_status: now.status,
                    task_status,
                });
            }
            if tokio::time::Instant::now() >= until {
                return Err(EngineError::Inconsistent {
                    run: run_id.clone(),
                    what: format!(
                        "its owner did not stop attempt {} of task {task} within {WAIT:?}; it \
                         may be stuck (`baton cancel {run_id}` stops the whole run)",
                        attempt.number
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
