//! Tasks, their attempts and gate results.

use crate::events::insert_event;
use crate::{AttemptRow, GateResultRow, Store, StoreError, TaskRow, now_text};
use baton_core::{attempt_transition, task_transition};
use baton_protocol::{AttemptStatus, EndReason, Event, EventBody, RunId, TaskId, TaskStatus};
use sqlx::{Row, SqliteConnection};

/// Moves a task inside the caller's transaction (compare-and-set) and logs its event.
pub(crate) async fn move_task(
    conn: &mut SqliteConnection,
    run: &RunId,
    task: &TaskId,
    from: TaskStatus,
    to: TaskStatus,
    reason: Option<String>,
) -> Result<Event, StoreError> {
    task_transition(from, to)?;
    let finished = baton_core::task_is_terminal(to).then(now_text);
    let done = sqlx::query(
        "UPDATE tasks SET status = ?, finished_at = ? WHERE run_id = ? AND id = ? AND status = ?",
    )
    .bind(to.as_str())
    .bind(finished)
    .bind(run.as_str())
    .bind(task.as_str())
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        let actual: Option<String> =
            sqlx::query("SELECT status FROM tasks WHERE run_id = ? AND id = ?")
                .bind(run.as_str())
                .bind(task.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| row.try_get("status"))
                .transpose()?;
        return Err(StoreError::Stale {
            entity: "task",
            id: task.to_string(),
            expected: from.to_string(),
            actual: actual.unwrap_or_else(|| "missing".into()),
        });
    }
    insert_event(
        conn,
        run,
        Some(task),
        EventBody::TaskStatusChanged { from, to, reason },
    )
    .await
}

/// Moves an attempt out of `running` inside the caller's transaction and logs its event.
pub(crate) async fn end_attempt(
    conn: &mut SqliteConnection,
    run: &RunId,
    task: &TaskId,
    number: u32,
    to: AttemptStatus,
    failure: Option<&str>,
) -> Result<Event, StoreError> {
    let from = AttemptStatus::Running;
    attempt_transition(from, to)?;
    let done = sqlx::query(
        "UPDATE attempts SET status = ?, failure = ?, finished_at = ?
         WHERE run_id = ? AND task_id = ? AND number = ? AND status = ?",
    )
    .bind(to.as_str())
    .bind(failure)
    .bind(now_text())
    .bind(run.as_str())
    .bind(task.as_str())
    .bind(i64::from(number))
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Stale {
            entity: "attempt",
            id: format!("{task}#{number}"),
            expected: from.to_string(),
            actual: "not running".into(),
        });
    }
    insert_event(
        conn,
        run,
        Some(task),
        EventBody::AttemptStatusChanged {
            attempt: number,
            from,
            to,
            reason: failure.map(|f| crate::readable_reason(f, run, task.as_str())),
        },
    )
    .await
}

/// Ends a running attempt as `status` with `failure` inside the caller's transaction: the task
/// moves running -> `task_to.0` (with the reason `task_to.1`), counts the failure, gets `spare`
/// more failures allowed and keeps `failure` as the next attempt's feedback. Returns the
/// events.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn fail_in(
    conn: &mut SqliteConnection,
    run: &RunId,
    task: &TaskId,
    number: u32,
    status: AttemptStatus,
    failure: &str,
    task_to: (TaskStatus, String),
    spare: u32,
) -> Result<Vec<Event>, StoreError> {
    let ended = end_attempt(conn, run, task, number, status, Some(failure)).await?;
    let moved = move_task(
        conn,
        run,
        task,
        TaskStatus::Running,
        task_to.0,
        Some(task_to.1),
    )
    .await?;
    sqlx::query(
        "UPDATE tasks SET failures = failures + 1, failures_allowed = failures_allowed + ?,
             last_failure = ? WHERE run_id = ? AND id = ?",
    )
    .bind(i64::from(spare))
    .bind(failure)
    .bind(run.as_str())
    .bind(task.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(vec![ended, moved])
}

/// Puts attempt `number`'s `commit` of `task` in the merge queue inside the caller's
/// transaction; returns the merge item's id.
pub(crate) async fn insert_merge_item(
    conn: &mut SqliteConnection,
    run: &RunId,
    task: &TaskId,
    number: u32,
    commit: &str,
) -> Result<i64, StoreError> {
    let now = now_text();
    Ok(sqlx::query(
        "INSERT INTO merge_items (run_id, task_id, attempt, status, task_commit, created_at,
            updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?) RETURNING id",
    )
    .bind(run.as_str())
    .bind(task.as_str())
    .bind(i64::from(number))
    .bind(commit)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

/// Where the output of attempt `number` of `task` is logged, under the run's log directory.
pub fn attempt_log_path(
    log_dir: &std::path::Path,
    task: &TaskId,
    number: u32,
) -> std::path::PathBuf {
    log_dir.join(format!("{task}.{number}.log"))
}

impl Store {
    /// The tasks of a run in plan order.
    pub async fn tasks(&self, run: &RunId) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM tasks WHERE run_id = ? ORDER BY position")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(TaskRow::from_row).collect()
    }

    /// The attempts of a run (optionally of one task), oldest first.
    pub async fn attempts(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM attempts WHERE run_id = ? AND (? IS NULL OR task_id = ?)
             ORDER BY started_at, task_id, number",
        )
        .bind(run.as_str())
        .bind(task.map(|t| t.as_str()))
        .bind(task.map(|t| t.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AttemptRow::from_row).collect()
    }

    /// Moves a task between statuses outside any attempt (blocking, resetting on resume).
    /// `failures_allowed`, when given, replaces the task's failure budget.
    pub async fn transition_task(
        &self,
        run: &RunId,
        task: &TaskId,
        from: TaskStatus,
        to: TaskStatus,
        reason: Option<String>,
        failures_allowed: Option<u32>,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let event = move_task(&mut tx, run, task, from, to, reason).await?;
        if let Some(allowed) = failures_allowed {
            sqlx::query("UPDATE tasks SET failures_allowed = ? WHERE run_id = ? AND id = ?")
                .bind(i64::from(allowed))
                .bind(run.as_str())
                .bind(task.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(event)
    }

    /// Starts the task's next attempt in `lane`: the task goes pending -> running and an attempt
    /// row is written, in one transaction. Returns the attempt number and the events.
    pub async fn start_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        lane: &str,
        start_commit: &str,
        log_dir: &std::path::Path,
    ) -> Result<(u32, Vec<Event>), StoreError> {
        let mut tx = self.writer.begin().await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Pending,
            TaskStatus::Running,
            None,
        )
        .await?;
        let row = sqlx::query(
            "UPDATE tasks SET attempts = attempts + 1, started_at = COALESCE(started_at, ?)
             WHERE run_id = ? AND id = ? RETURNING attempts",
        )
        .bind(now_text())
        .bind(run.as_str())
        .bind(task.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let number = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(1);
        let log_path = attempt_log_path(log_dir, task, number);
        sqlx::query(
            "INSERT INTO attempts (run_id, task_id, number, status, lane, start_commit, log_path,
                started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(number))
        .bind(AttemptStatus::Running.as_str())
        .bind(lane)
        .bind(start_commit)
        .bind(log_path.to_string_lossy().as_ref())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let started = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::AttemptStarted {
                attempt: number,
                lane: lane.to_string(),
                start_commit: start_commit.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((number, vec![moved, started]))
    }

    /// Records which agent ran the attempt and the client session it reported.
    pub async fn set_attempt_agent(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        agent: &str,
        session: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE attempts SET agent = ?, session_id = ? WHERE run_id = ? AND task_id = ? AND number = ?",
        )
        .bind(agent)
        .bind(session)
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(number))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records how the agent process of an attempt ended, with its captured output.
    pub async fn set_agent_end(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        end: &EndReason,
        output: &str,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let end_text = serde_json::to_string(end)
            .map_err(|e| StoreError::Corrupt(format!("end reason: {e}")))?;
        sqlx::query(
            "UPDATE attempts SET agent_end = ?, output = ? WHERE run_id = ? AND task_id = ? AND number = ?",
        )
        .bind(end_text)
        .bind(output)
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(number))
        .execute(&mut *tx)
        .await?;
        let event = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::AttemptAgentEnded {
                attempt: number,
                end: end.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Records the commit baton made of what the agent left, and the paths it changed.
    pub async fn set_attempt_commit(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        commit: &str,
        changed_paths: &[String],
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let paths = serde_json::to_string(changed_paths)
            .map_err(|e| StoreError::Corrupt(format!("changed paths: {e}")))?;
        sqlx::query(
            "UPDATE attempts SET task_commit = ?, changed_paths = ?
             WHERE run_id = ? AND task_id = ? AND number = ?",
        )
        .bind(commit)
        .bind(paths)
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(number))
        .execute(&mut *tx)
        .await?;
        let event = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::AttemptCommitted {
                attempt: number,
                commit: commit.to_string(),
                changed_paths: changed_paths.to_vec(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Asks the engine that owns the run to stop a running attempt. False if the attempt is
    /// not running (any more).
    pub async fn request_stop(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE attempts SET stop_requested = 1
             WHERE run_id = ? AND task_id = ? AND number = ? AND status = ?",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(number))
        .bind(AttemptStatus::Running.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The running attempts of a run that a person asked to stop: (task, attempt number).
    pub async fn stop_requests(&self, run: &RunId) -> Result<Vec<(TaskId, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, number FROM attempts
             WHERE run_id = ? AND status = ? AND stop_requested = 1",
        )
        .bind(run.as_str())
        .bind(AttemptStatus::Running.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let task: String = row.try_get("task_id")?;
                let number: i64 = row.try_get("number")?;
                let number = u32::try_from(number)
                    .map_err(|_| StoreError::Corrupt(format!("attempt number {number}")))?;
                Ok((TaskId::new(task), number))
            })
            .collect()
    }

    /// Ends a running attempt as failed; the task goes back to pending (to retry) or to failed.
    pub async fn fail_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        failure: &str,
        task_to: TaskStatus,
    ) -> Result<Vec<Event>, StoreError> {
        self.end_attempt_as_failure(
            run,
            task,
            number,
            AttemptStatus::Failed,
            failure,
            task_to,
            0,
        )
        .await
    }

    /// Ends a running attempt that a person stopped (`baton stop`): like a failure, it counts
    /// against the task's retries, and the task goes to `task_to`.
    pub async fn stop_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        why: &str,
        task_to: TaskStatus,
    ) -> Result<Vec<Event>, StoreError> {
        self.end_attempt_as_failure(run, task, number, AttemptStatus::Stopped, why, task_to, 0)
            .await
    }

    /// Ends a running attempt whose change reviewers rejected, with iterations left: like a
    /// failure (the rejection is the next attempt's feedback) but without using a retry. The
    /// task goes to `task_to`: pending (back to its implementer), or `needs_human` when a
    /// person reads each rejection first.
    pub async fn reject_reviewed_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        feedback: &str,
        task_to: TaskStatus,
    ) -> Result<Vec<Event>, StoreError> {
        self.end_attempt_as_failure(
            run,
            task,
            number,
            AttemptStatus::Failed,
            feedback,
            task_to,
            1,
        )
        .await
    }

    /// `spare` is added to the task's failure budget in the same write (1: this failure uses
    /// no retry).
    #[allow(clippy::too_many_arguments)]
    async fn end_attempt_as_failure(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        status: AttemptStatus,
        failure: &str,
        task_to: TaskStatus,
        spare: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = fail_in(
            &mut tx,
            run,
            task,
            number,
            status,
            failure,
            (task_to, crate::readable_reason(failure, run, task.as_str())),
            spare,
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends a running attempt as interrupted (cancel or crash); the task goes back to pending
    /// and the interruption does not count as a failure.
    pub async fn interrupt_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        why: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = end_attempt(
            &mut tx,
            run,
            task,
            number,
            AttemptStatus::Interrupted,
            Some(why),
        )
        .await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Running,
            TaskStatus::Pending,
            Some(why.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(vec![ended, moved])
    }

    /// The attempt succeeded: it ends, the task goes running -> queued and a merge item is
    /// queued for `commit`, all in one transaction. Returns the merge item id and the events.
    pub async fn enqueue_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        commit: &str,
    ) -> Result<(i64, Vec<Event>), StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = end_attempt(&mut tx, run, task, number, AttemptStatus::Succeeded, None).await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Running,
            TaskStatus::Queued,
            None,
        )
        .await?;
        sqlx::query("UPDATE tasks SET task_commit = ? WHERE run_id = ? AND id = ?")
            .bind(commit)
            .bind(run.as_str())
            .bind(task.as_str())
            .execute(&mut *tx)
            .await?;
        let item = insert_merge_item(&mut tx, run, task, number, commit).await?;
        tx.commit().await?;
        Ok((item, vec![ended, moved]))
    }

    /// Records one gate run (in a lane for an attempt, or on a would-be merge for a merge item).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_gate(
        &self,
        run: &RunId,
        task: &TaskId,
        attempt: Option<u32>,
        merge_item: Option<i64>,
        batch: Option<i64>,
        gate: &str,
        end: &EndReason,
        passed: bool,
        duration_ms: u64,
        output: &str,
        tree: Option<&str>,
        cached: bool,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let end_text = serde_json::to_string(end)
            .map_err(|e| StoreError::Corrupt(format!("end reason: {e}")))?;
        sqlx::query(
            "INSERT INTO gate_results (run_id, task_id, attempt, merge_item, gate, passed,
                end_reason, duration_ms, output, finished_at, tree, cached, batch_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(attempt.map(i64::from))
        .bind(merge_item)
        .bind(gate)
        .bind(i64::from(passed))
        .bind(end_text)
        .bind(i64::try_from(duration_ms).unwrap_or(i64::MAX))
        .bind(output)
        .bind(now_text())
        .bind(tree)
        .bind(i64::from(cached))
        .bind(batch)
        .execute(&mut *tx)
        .await?;
        let event = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::GateFinished {
                gate: gate.to_string(),
                passed,
                end: end.clone(),
                duration_ms,
                merge_item,
                cached,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The first result of `gate` run (not taken from the cache) on `tree` in `run`: how it
    /// ended and its output.
    pub async fn gate_result_on_tree(
        &self,
        run: &RunId,
        gate: &str,
        tree: &str,
    ) -> Result<Option<(EndReason, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT end_reason, output FROM gate_results
             WHERE run_id = ? AND gate = ? AND tree = ? AND cached = 0 ORDER BY id LIMIT 1",
        )
        .bind(run.as_str())
        .bind(gate)
        .bind(tree)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let end: String = row.try_get("end_reason")?;
        let end = serde_json::from_str(&end)
            .map_err(|e| StoreError::Corrupt(format!("gate end reason: {e}")))?;
        Ok(Some((end, row.try_get("output")?)))
    }

    /// Every gate result of a run, oldest first.
    pub async fn gate_results(&self, run: &RunId) -> Result<Vec<GateResultRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM gate_results WHERE run_id = ? ORDER BY id")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(GateResultRow::from_row).collect()
    }
}

impl Store {
    /// Every AI attempt that ended succeeded or failed, in every run: (run, task, agent,
    /// succeeded). Interrupted and stopped attempts say nothing about the agent and are left
    /// out.
    pub async fn agent_outcomes(&self) -> Result<Vec<(RunId, TaskId, String, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, task_id, agent, status FROM attempts
             WHERE agent IS NOT NULL AND agent != 'exec' AND status IN ('succeeded', 'failed')",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    RunId::new(row.try_get::<String, _>("run_id")?),
                    TaskId::new(row.try_get::<String, _>("task_id")?),
                    row.try_get::<String, _>("agent")?,
                    row.try_get::<String, _>("status")? == "succeeded",
                ))
            })
            .collect()
    }
}
