//! A person's controls on a run: the pause flag, a task's agent and prompt overrides, and
//! status changes written together with their audit event in one transaction.

use crate::events::insert_event;
use crate::tasks::move_task;
use crate::{Store, StoreError};
use baton_protocol::{Event, EventBody, RunId, TaskId, TaskStatus};

/// One task status change a control makes.
#[derive(Debug, Clone)]
pub struct TaskMove {
    pub task: TaskId,
    pub from: TaskStatus,
    pub to: TaskStatus,
    pub reason: String,
}

/// A change of one field of a task's overrides: `None` leaves it, `Some(None)` clears it,
/// `Some(Some(value))` sets it.
pub type OverrideChange = Option<Option<String>>;

/// Everything one control writes, applied at once or not at all.
#[derive(Debug, Clone, Default)]
pub struct ControlChange {
    /// Status changes, each a compare-and-set on the task's current status.
    pub moves: Vec<TaskMove>,
    /// The task whose overrides change, and how.
    pub agent_override: Option<(TaskId, OverrideChange)>,
    pub prompt_override: Option<(TaskId, OverrideChange)>,
    /// Tasks whose failure budget is replaced (a fresh set of attempts).
    pub failures_allowed: Vec<(TaskId, u32)>,
    /// Set or clear the run's pause request.
    pub pause: Option<bool>,
}

impl Store {
    /// Applies `change` and appends the audit event `audit` (on `task`, when about one) in one
    /// transaction. A task that moved meanwhile fails the whole change with `Stale`.
    pub async fn apply_control(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
        change: &ControlChange,
        audit: EventBody,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut events = Vec::new();
        if let Some(on) = change.pause {
            let done = sqlx::query("UPDATE runs SET pause_requested = ? WHERE id = ?")
                .bind(i64::from(on))
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NoSuchRun(run.to_string()));
            }
        }
        events.push(insert_event(&mut tx, run, task, audit).await?);
        for step in &change.moves {
            let event = move_task(
                &mut tx,
                run,
                &step.task,
                step.from,
                step.to,
                Some(step.reason.clone()),
            )
            .await?;
            events.push(event);
        }
        for (column, change) in [
            ("agent_override", &change.agent_override),
            ("prompt_override", &change.prompt_override),
        ] {
            if let Some((id, Some(value))) = change {
                sqlx::query(&format!(
                    "UPDATE tasks SET {column} = ? WHERE run_id = ? AND id = ?"
                ))
                .bind(value.as_deref())
                .bind(run.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        // A person who retries, reassigns or resets a task takes it off a council that was due
        // (one a cancel interrupted): what they asked for runs next.
        let taken_over = change
            .failures_allowed
            .iter()
            .map(|(id, _)| id)
            .chain(change.agent_override.as_ref().map(|(id, _)| id));
        for id in taken_over {
            sqlx::query("UPDATE tasks SET council_due = 0 WHERE run_id = ? AND id = ?")
                .bind(run.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for (id, allowed) in &change.failures_allowed {
            sqlx::query("UPDATE tasks SET failures_allowed = ? WHERE run_id = ? AND id = ?")
                .bind(i64::from(*allowed))
                .bind(run.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(events)
    }

    /// Whether a pause was requested and not yet undone.
    pub async fn pause_requested(&self, run: &RunId) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT pause_requested FROM runs WHERE id = ?")
            .bind(run.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let (flag,) = row.ok_or_else(|| StoreError::NoSuchRun(run.to_string()))?;
        Ok(flag != 0)
    }

    /// Clears a pause request (a drive of the run starts).
    pub async fn clear_pause(&self, run: &RunId) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET pause_requested = 0 WHERE id = ?")
            .bind(run.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
