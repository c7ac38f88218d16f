//! Approvals: tasks wait for a person before their agent starts (an estimate past the approval
//! threshold, or high risk) or before their gate-passed change is delivered (medium risk). The
//! wait (where, why, since when) and the decision (who, what, when, why) are kept, so both
//! survive a restart and form the audit log.

use crate::events::insert_event;
use crate::tasks::{end_attempt, insert_merge_item, move_task};
use crate::{Store, StoreError, now_text};
use baton_protocol::{
    ApprovalPoint, AttemptStatus, Event, EventBody, RiskLevel, RunId, TaskId, TaskStatus,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

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
    /// Who decided (`None` for decisions recorded by older builds and `--auto-approve`).
    pub decided_by: Option<String>,
    /// Where the task waited.
    pub point: Option<ApprovalPoint>,
    /// For a delivery: the commit the decision lets through.
    pub commit: Option<String>,
}

impl Approval {
    /// Whether this decision lets `task`'s change `commit` be delivered without waiting.
    pub fn delivers(&self, task: &TaskId, commit: &str) -> bool {
        self.approved
            && (self.task_id.as_str() == EVERY_TASK
                || (&self.task_id == task && self.commit.as_deref() == Some(commit)))
    }
}

/// Why a task is to wait before its agent starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// The agent it would run on.
    pub agent: String,
    /// The estimate and the threshold, in micro-dollars (0 when risk is why it waits).
    pub estimate: u64,
    pub threshold: u64,
    /// Its risk, when risk is why it waits.
    pub risk: Option<RiskLevel>,
    /// Why it waits, in short (`risk high: matches migrations (**/migrations/**)`).
    pub reason: String,
    /// The request's words, with what to do.
    pub message: String,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    pub approved: bool,
    /// Approved to run on this agent instead (a wait before start only).
    pub agent: Option<&'a str>,
    pub why: Option<&'a str>,
    /// Who decides: the OS user, or `baton` for a timeout.
    pub by: &'a str,
}

/// A task that waits now, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitRow {
    pub run_id: RunId,
    pub task_id: TaskId,
    pub point: ApprovalPoint,
    pub risk: Option<RiskLevel>,
    pub reason: String,
    /// When it started waiting (`None`: the wait was recorded by an older build).
    pub since: Option<String>,
}

/// Inserts or replaces the wait of `task` inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn record_wait(
    conn: &mut sqlx::SqliteConnection,
    run: &RunId,
    task: &TaskId,
    point: ApprovalPoint,
    risk: Option<RiskLevel>,
    reason: &str,
    delivery: Option<(u32, &str)>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO approval_waits (run_id, task_id, point, risk, reason, attempt, task_commit,
             requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, task_id) DO UPDATE SET point = excluded.point,
             risk = excluded.risk, reason = excluded.reason, attempt = excluded.attempt,
             task_commit = excluded.task_commit, requested_at = excluded.requested_at",
    )
    .bind(run.as_str())
    .bind(task.as_str())
    .bind(point.as_str())
    .bind(risk.map(RiskLevel::as_str))
    .bind(reason)
    .bind(delivery.map(|(attempt, _)| i64::from(attempt)))
    .bind(delivery.map(|(_, commit)| commit))
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The stored wait of a task: point, reason, and for a delivery the attempt and commit.
struct StoredWait {
    point: ApprovalPoint,
    reason: Option<String>,
    delivery: Option<(u32, String)>,
}

async fn stored_wait(
    conn: &mut sqlx::SqliteConnection,
    run: &RunId,
    task: &TaskId,
) -> Result<StoredWait, StoreError> {
    let row = sqlx::query(
        "SELECT point, reason, attempt, task_commit FROM approval_waits
         WHERE run_id = ? AND task_id = ?",
    )
    .bind(run.as_str())
    .bind(task.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    // A task that waits with no row waited before this table existed: before its start.
    let Some(row) = row else {
        return Ok(StoredWait {
            point: ApprovalPoint::Start,
            reason: None,
            delivery: None,
        });
    };
    let point = point_of(&row)?;
    let attempt: Option<i64> = row.try_get("attempt")?;
    let commit: Option<String> = row.try_get("task_commit")?;
    let delivery = match (point, attempt, commit) {
        (ApprovalPoint::Delivery, Some(attempt), Some(commit)) => {
            Some((u32::try_from(attempt).unwrap_or(0), commit))
        }
        (ApprovalPoint::Delivery, _, _) => {
            return Err(StoreError::Corrupt(format!(
                "task {task} of run {run} waits before delivery without its attempt and commit"
            )));
        }
        _ => None,
    };
    Ok(StoredWait {
        point,
        reason: Some(row.try_get("reason")?),
        delivery,
    })
}

fn point_of(row: &SqliteRow) -> Result<ApprovalPoint, StoreError> {
    let text: String = row.try_get("point")?;
    ApprovalPoint::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown approval point {text:?}")))
}

fn risk_of(row: &SqliteRow) -> Result<Option<RiskLevel>, StoreError> {
    let text: Option<String> = row.try_get("risk")?;
    text.map(|t| {
        RiskLevel::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("unknown risk {t:?}")))
    })
    .transpose()
}

impl Store {
    /// Moves a pending task to `awaiting_approval` before its agent starts, with an
    /// `approval.requested` event.
    pub async fn request_approval(
        &self,
        run: &RunId,
        task: &TaskId,
        request: &ApprovalRequest,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Pending,
            TaskStatus::AwaitingApproval,
            Some(request.message.clone()),
        )
        .await?;
        record_wait(
            &mut tx,
            run,
            task,
            ApprovalPoint::Start,
            request.risk,
            &request.reason,
            None,
        )
        .await?;
        let requested = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::ApprovalRequested {
                agent: request.agent.clone(),
                estimate: request.estimate,
                threshold: request.threshold,
                message: request.message.clone(),
                risk: request.risk,
                point: Some(ApprovalPoint::Start),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![moved, requested])
    }

    /// Ends attempt `number` of `task` as succeeded with its gate-passed `commit` kept, and
    /// moves the task to `awaiting_approval` before delivery instead of the merge queue. One
    /// transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn hold_for_delivery(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        commit: &str,
        agent: &str,
        risk: RiskLevel,
        reason: &str,
        message: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = end_attempt(&mut tx, run, task, number, AttemptStatus::Succeeded, None).await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Running,
            TaskStatus::AwaitingApproval,
            Some(message.to_owned()),
        )
        .await?;
        sqlx::query("UPDATE tasks SET task_commit = ? WHERE run_id = ? AND id = ?")
            .bind(commit)
            .bind(run.as_str())
            .bind(task.as_str())
            .execute(&mut *tx)
            .await?;
        record_wait(
            &mut tx,
            run,
            task,
            ApprovalPoint::Delivery,
            Some(risk),
            reason,
            Some((number, commit)),
        )
        .await?;
        let requested = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::ApprovalRequested {
                agent: agent.to_owned(),
                estimate: 0,
                threshold: 0,
                message: message.to_owned(),
                risk: Some(risk),
                point: Some(ApprovalPoint::Delivery),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![ended, moved, requested])
    }

    /// Records a decision on a task that awaits approval. Approved before its start, it is
    /// pending again (on `agent` when given); approved before delivery, its kept change enters
    /// the merge queue; rejected, it fails with `why`. One transaction.
    pub async fn decide_approval(
        &self,
        run: &RunId,
        task: &TaskId,
        decision: &Decision<'_>,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let wait = stored_wait(&mut tx, run, task).await?;
        sqlx::query(
            "INSERT INTO approvals (run_id, task_id, approved, agent, why, decided_at,
                 decided_by, point, waited_for, task_commit)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, task_id) DO UPDATE SET approved = excluded.approved,
                 agent = excluded.agent, why = excluded.why, decided_at = excluded.decided_at,
                 decided_by = excluded.decided_by, point = excluded.point,
                 waited_for = excluded.waited_for, task_commit = excluded.task_commit",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(decision.approved))
        .bind(decision.agent)
        .bind(decision.why)
        .bind(now_text())
        .bind(decision.by)
        .bind(wait.point.as_str())
        .bind(wait.reason.as_deref())
        .bind(wait.delivery.as_ref().map(|(_, commit)| commit.as_str()))
        .execute(&mut *tx)
        .await?;
        let by = decision.by;
        let (to, reason) = if decision.approved {
            let reason = match decision.agent {
                Some(agent) => format!("approved by {by}, to run on {agent}"),
                None => format!("approved by {by}"),
            };
            match &wait.delivery {
                Some((attempt, commit)) => {
                    insert_merge_item(&mut tx, run, task, *attempt, commit).await?;
                    (TaskStatus::Queued, reason)
                }
                None => (TaskStatus::Pending, reason),
            }
        } else {
            let reason = format!(
                "rejected by {by}: {}",
                decision.why.unwrap_or("no reason given")
            );
            sqlx::query("UPDATE tasks SET last_failure = ? WHERE run_id = ? AND id = ?")
                .bind(&reason)
                .bind(run.as_str())
                .bind(task.as_str())
                .execute(&mut *tx)
                .await?;
            (TaskStatus::Failed, reason)
        };
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::AwaitingApproval,
            to,
            Some(reason),
        )
        .await?;
        let decided = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::ApprovalDecided {
                approved: decision.approved,
                agent: decision.agent.map(str::to_owned),
                why: decision.why.map(str::to_owned),
                by: Some(by.to_owned()),
                point: Some(wait.point),
                waited_for: wait.reason,
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
                let point: Option<String> = row.try_get("point")?;
                Ok(Approval {
                    task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
                    approved: approved != 0,
                    agent: row.try_get("agent")?,
                    why: row.try_get("why")?,
                    decided_by: row.try_get("decided_by")?,
                    point: point.as_deref().and_then(ApprovalPoint::parse),
                    commit: row.try_get("task_commit")?,
                })
            })
            .collect()
    }

    /// The tasks that wait for approval now, of `run` or of every run, oldest wait first.
    pub async fn approval_waits(&self, run: Option<&RunId>) -> Result<Vec<WaitRow>, StoreError> {
        let of_run = if run.is_some() {
            "AND t.run_id = ?"
        } else {
            ""
        };
        let sql = format!(
            "SELECT t.run_id, t.id, w.point, w.risk, w.reason, w.requested_at
             FROM tasks t LEFT JOIN approval_waits w ON w.run_id = t.run_id AND w.task_id = t.id
             WHERE t.status = ? {of_run}
             ORDER BY w.requested_at, t.run_id, t.position"
        );
        let mut query = sqlx::query(&sql).bind(TaskStatus::AwaitingApproval.as_str());
        if let Some(run) = run {
            query = query.bind(run.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let point: Option<String> = row.try_get("point")?;
                let (point, risk) = match point {
                    Some(_) => (point_of(row)?, risk_of(row)?),
                    None => (ApprovalPoint::Start, None),
                };
                let reason: Option<String> = row.try_get("reason")?;
                Ok(WaitRow {
                    run_id: RunId::new(row.try_get::<String, _>("run_id")?),
                    task_id: TaskId::new(row.try_get::<String, _>("id")?),
                    point,
                    risk,
                    reason: reason.unwrap_or_else(|| {
                        "its estimated cost is past the approval threshold".to_owned()
                    }),
                    since: row.try_get("requested_at")?,
                })
            })
            .collect()
    }
}
