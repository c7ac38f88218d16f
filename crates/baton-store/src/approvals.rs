//! Approvals: tasks whose estimate is past the approval threshold wait for a person, whose
//! decision is kept (so it survives a restart).

use crate::events::insert_event;
use crate::tasks::move_task;
use crate::{Store, StoreError, now_text};
use baton_protocol::{Event, EventBody, RunId, TaskId, TaskStatus};
use sqlx::Row;

/// The task id of a decision that covers every task of a run (`--auto-approve`).
pub const EVERY_TASK: &str = "*";

/// A person's decision on a task (or on every task: [`EVERY_TASK`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub task_id: TaskId,
    pub approved: bool,
    /// The agent the task is to run on instead, when the approval said so.
    pub agent: Option<String>,
    pub why: Option<String>,
}

impl Store {
    /// Moves a pending task to `awaiting_approval`, with an `approval.requested` event.
    pub async fn request_approval(
        &self,
        run: &RunId,
        task: &TaskId,
        agent: &str,
        estimate: u64,
        threshold: u64,
        message: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Pending,
            TaskStatus::AwaitingApproval,
            Some(message.to_owned()),
        )
        .await?;
        let requested = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::ApprovalRequested {
                agent: agent.to_owned(),
                estimate,
                threshold,
                message: message.to_owned(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![moved, requested])
    }

    /// Records a decision on a task that awaits approval: approved, it is pending again (on
    /// `agent` when given); rejected, it fails with `why`. One transaction.
    pub async fn decide_approval(
        &self,
        run: &RunId,
        task: &TaskId,
        approved: bool,
        agent: Option<&str>,
        why: Option<&str>,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO approvals (run_id, task_id, approved, agent, why, decided_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, task_id) DO UPDATE SET approved = excluded.approved,
                 agent = excluded.agent, why = excluded.why, decided_at = excluded.decided_at",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(approved))
        .bind(agent)
        .bind(why)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let (to, reason) = if approved {
            (
                TaskStatus::Pending,
                Some(match agent {
                    Some(agent) => format!("approved by a person, to run on {agent}"),
                    None => "approved by a person".to_owned(),
                }),
            )
        } else {
            let reason = format!("rejected by a person: {}", why.unwrap_or("no reason given"));
            sqlx::query("UPDATE tasks SET last_failure = ? WHERE run_id = ? AND id = ?")
                .bind(&reason)
                .bind(run.as_str())
                .bind(task.as_str())
                .execute(&mut *tx)
                .await?;
            (TaskStatus::Failed, Some(reason))
        };
        let moved = move_task(&mut tx, run, task, TaskStatus::AwaitingApproval, to, reason).await?;
        let decided = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::ApprovalDecided {
                approved,
                agent: agent.map(str::to_owned),
                why: why.map(str::to_owned),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![decided, moved])
    }

    /// Approves every task of `run` in advance (`--auto-approve`).
    pub async fn approve_every_task(&self, run: &RunId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO approvals (run_id, task_id, approved, decided_at) VALUES (?, ?, 1, ?)
             ON CONFLICT (run_id, task_id) DO UPDATE SET approved = 1",
        )
        .bind(run.as_str())
        .bind(EVERY_TASK)
        .bind(now_text())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every decision taken on `run`'s tasks.
    pub async fn approvals(&self, run: &RunId) -> Result<Vec<Approval>, StoreError> {
        let rows = sqlx::query("SELECT * FROM approvals WHERE run_id = ? ORDER BY task_id")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let approved: i64 = row.try_get("approved")?;
                Ok(Approval {
                    task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
                    approved: approved != 0,
                    agent: row.try_get("agent")?,
                    why: row.try_get("why")?,
                })
            })
            .collect()
    }
}
