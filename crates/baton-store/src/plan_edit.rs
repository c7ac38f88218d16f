//! `baton plan edit RUN`: a run whose tasks have not started takes a new plan.

use crate::events::insert_event;
use crate::runs::insert_tasks;
use crate::{Store, StoreError};
use baton_protocol::{Event, EventBody, RunId, RunStatus, TaskId};

/// A run's new plan.
#[derive(Debug, Clone)]
pub struct PlanReplacement {
    pub goal: String,
    pub plan_source: String,
    /// Tasks in plan order: id, title, failures allowed (retries + 1).
    pub tasks: Vec<(TaskId, String, u32)>,
}

impl Store {
    /// Replaces the plan of `run` (its goal, plan text and tasks) and appends the audit event
    /// `audit`, in one transaction; only while the run is not running nor finished and no
    /// attempt of it has started (`Stale` otherwise, nothing changed). Approvals given for the
    /// old tasks, and what waits for one, go with them: the new tasks are judged afresh.
    pub async fn replace_plan(
        &self,
        run: &RunId,
        plan: &PlanReplacement,
        audit: EventBody,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT status, (SELECT COUNT(*) FROM attempts WHERE run_id = runs.id)
             FROM runs WHERE id = ?",
        )
        .bind(run.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (status, attempts) = row.ok_or_else(|| StoreError::NoSuchRun(run.to_string()))?;
        let editable = [
            RunStatus::Pending,
            RunStatus::AwaitingInput,
            RunStatus::AwaitingApproval,
            RunStatus::Paused,
            RunStatus::Cancelled,
        ]
        .iter()
        .any(|s| s.as_str() == status);
        if !editable || attempts > 0 {
            return Err(StoreError::Stale {
                entity: "run",
                id: run.to_string(),
                expected: "not running, no attempt started".into(),
                actual: format!("{status} with {attempts} attempt(s)"),
            });
        }
        for table in ["tasks", "approvals", "approval_waits"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE run_id = ?"))
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
        }
        insert_tasks(&mut tx, run, &plan.tasks).await?;
        sqlx::query("UPDATE runs SET goal = ?, plan_source = ? WHERE id = ?")
            .bind(&plan.goal)
            .bind(&plan.plan_source)
            .bind(run.as_str())
            .execute(&mut *tx)
            .await?;
        let event = insert_event(&mut tx, run, None, audit).await?;
        tx.commit().await?;
        Ok(event)
    }
}
