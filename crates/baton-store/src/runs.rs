//! Runs: creation, status transitions, the owner lease and cancel requests.

use crate::events::insert_event;
use crate::{Lease, NewRun, RunRow, Store, StoreError, now_text};
use baton_core::run_transition;
use baton_protocol::{Event, EventBody, RunId, RunStatus, TaskStatus};
use sqlx::Row;

impl Store {
    /// Creates a run and its tasks (all pending) with a `run.created` event, in one transaction.
    pub async fn create_run(&self, run: &NewRun) -> Result<Event, StoreError> {
        let now = now_text();
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO runs (id, repo, goal, status, plan_origin, plan_source, base_ref,
                base_commit, integration_ref, lanes, into_branch, into_expected, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.id.as_str())
        .bind(&run.repo)
        .bind(&run.goal)
        .bind(RunStatus::Pending.as_str())
        .bind(&run.plan_origin)
        .bind(&run.plan_source)
        .bind(&run.base_ref)
        .bind(&run.base_commit)
        .bind(&run.integration_ref)
        .bind(i64::from(run.lanes))
        .bind(&run.into_branch)
        .bind(&run.into_expected)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        insert_tasks(&mut tx, &run.id, &run.tasks).await?;
        let event = insert_event(
            &mut tx,
            &run.id,
            None,
            EventBody::RunCreated {
                goal: run.goal.clone(),
                base: run.base_ref.clone(),
                base_commit: run.base_commit.clone(),
                lanes: run.lanes,
                tasks: run.tasks.len(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// One run, or `NoSuchRun`.
    pub async fn run(&self, id: &RunId) -> Result<RunRow, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))?;
        RunRow::from_row(&row)
    }

    /// All runs, newest first.
    pub async fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM runs ORDER BY created_at DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(RunRow::from_row).collect()
    }

    /// Moves a run from `from` to `to` if it is still `from`, with its event.
    pub async fn transition_run(
        &self,
        id: &RunId,
        from: RunStatus,
        to: RunStatus,
        reason: Option<String>,
    ) -> Result<Event, StoreError> {
        run_transition(from, to)?;
        let finished = matches!(
            to,
            RunStatus::Completed
                | RunStatus::Failed
                | RunStatus::Cancelled
                | RunStatus::BudgetExceeded
                | RunStatus::AwaitingApproval
        )
        .then(now_text);
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET status = ?, finished_at = ?, cancel_requested = 0
             WHERE id = ? AND status = ?",
        )
        .bind(to.as_str())
        .bind(finished)
        .bind(id.as_str())
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            drop(tx);
            let actual = self.run(id).await?.status;
            return Err(StoreError::Stale {
                entity: "run",
                id: id.to_string(),
                expected: from.to_string(),
                actual: actual.to_string(),
            });
        }
        let event = insert_event(
            &mut tx,
            id,
            None,
            EventBody::RunStatusChanged { from, to, reason },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Takes the run's lease if its current token is `expected` (None: nobody holds it).
    /// Returns false when someone else changed the lease first.
    pub async fn take_lease(
        &self,
        id: &RunId,
        expected: Option<&str>,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET lease_pid = ?, lease_host = ?, lease_token = ?, lease_heartbeat = ?
             WHERE id = ? AND lease_token IS ?",
        )
        .bind(i64::from(lease.pid))
        .bind(&lease.host)
        .bind(&lease.token)
        .bind(lease.heartbeat_ms)
        .bind(id.as_str())
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_event(
            &mut tx,
            id,
            None,
            EventBody::RunOwned {
                pid: lease.pid,
                host: lease.host.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Renews the lease; false when this token no longer holds it.
    pub async fn heartbeat(
        &self,
        id: &RunId,
        token: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE runs SET lease_heartbeat = ? WHERE id = ? AND lease_token = ?")
                .bind(now_ms)
                .bind(id.as_str())
                .bind(token)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease up if this token holds it.
    pub async fn release_lease(&self, id: &RunId, token: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET lease_pid = NULL, lease_host = NULL, lease_token = NULL,
                lease_heartbeat = NULL WHERE id = ? AND lease_token = ?",
        )
        .bind(id.as_str())
        .bind(token)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Asks the run's owner to cancel it (seen at its next heartbeat).
    pub async fn request_cancel(&self, id: &RunId) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = ?")
            .bind(id.as_str())
            .execute(&self.writer)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NoSuchRun(id.to_string()));
        }
        Ok(())
    }

    /// Whether a cancel was requested and not yet honoured.
    pub async fn cancel_requested(&self, id: &RunId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT cancel_requested FROM runs WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))?;
        Ok(row.try_get::<i64, _>("cancel_requested")? != 0)
    }

    /// Clears a cancel request (on resume).
    pub async fn clear_cancel(&self, id: &RunId) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET cancel_requested = 0 WHERE id = ?")
            .bind(id.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

impl Store {
    /// A run that waited for answers takes its answered plan and starts: `plan_source` is
    /// replaced and the run goes `awaiting_input -> running`, in one transaction.
    pub async fn answer_run(
        &self,
        id: &RunId,
        plan_source: &str,
        reason: String,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET plan_source = ?, status = 'running' WHERE id = ? AND status = ?",
        )
        .bind(plan_source)
        .bind(id.as_str())
        .bind(RunStatus::AwaitingInput.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale {
                entity: "run",
                id: id.to_string(),
                expected: RunStatus::AwaitingInput.to_string(),
                actual: "another status".into(),
            });
        }
        let event = insert_event(
            &mut tx,
            id,
            None,
            EventBody::RunStatusChanged {
                from: RunStatus::AwaitingInput,
                to: RunStatus::Running,
                reason: Some(reason),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }
}

/// Inserts a run's tasks (all pending), in plan order: id, title, failures allowed.
pub(crate) async fn insert_tasks(
    tx: &mut sqlx::SqliteConnection,
    run: &RunId,
    tasks: &[(baton_protocol::TaskId, String, u32)],
) -> Result<(), StoreError> {
    for (position, (task, title, failures_allowed)) in tasks.iter().enumerate() {
        sqlx::query(
            "INSERT INTO tasks (run_id, id, position, title, status, failures_allowed)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(title)
        .bind(TaskStatus::Pending.as_str())
        .bind(i64::from(*failures_allowed))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
