//! Rows as the engine and the CLI see them, read from the database with typed statuses.

use crate::StoreError;
use baton_protocol::{AttemptStatus, MergeItemStatus, RunId, RunStatus, TaskId, TaskStatus};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

fn parse_status<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} status {text:?}")))
}

/// What is needed to create a run.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: RunId,
    pub repo: String,
    pub goal: String,
    pub plan_origin: String,
    pub plan_source: String,
    pub base_ref: String,
    pub base_commit: String,
    pub integration_ref: String,
    pub lanes: u32,
    pub into_branch: Option<String>,
    pub into_expected: Option<String>,
    /// Tasks in plan order: id, title, failures allowed (retries + 1).
    pub tasks: Vec<(TaskId, String, u32)>,
}

/// Which engine process owns a run, and when it last said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub pid: u32,
    pub host: String,
    pub token: String,
    pub heartbeat_ms: i64,
}

/// A run.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: RunId,
    pub repo: String,
    pub goal: String,
    pub status: RunStatus,
    pub plan_origin: String,
    pub plan_source: String,
    pub base_ref: String,
    pub base_commit: String,
    pub integration_ref: String,
    pub lanes: u32,
    pub into_branch: Option<String>,
    pub into_expected: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub lease: Option<Lease>,
    pub cancel_requested: bool,
}

impl RunRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<RunRow, StoreError> {
        let status: String = row.try_get("status")?;
        let lease_pid: Option<i64> = row.try_get("lease_pid")?;
        let lease = match lease_pid {
            Some(pid) => Some(Lease {
                pid: u32::try_from(pid).unwrap_or_default(),
                host: row
                    .try_get::<Option<String>, _>("lease_host")?
                    .unwrap_or_default(),
                token: row
                    .try_get::<Option<String>, _>("lease_token")?
                    .unwrap_or_default(),
                heartbeat_ms: row
                    .try_get::<Option<i64>, _>("lease_heartbeat")?
                    .unwrap_or(0),
            }),
            None => None,
        };
        Ok(RunRow {
            id: RunId::new(row.try_get::<String, _>("id")?),
            repo: row.try_get("repo")?,
            goal: row.try_get("goal")?,
            status: parse_status(&status, RunStatus::parse, "run")?,
            plan_origin: row.try_get("plan_origin")?,
            plan_source: row.try_get("plan_source")?,
            base_ref: row.try_get("base_ref")?,
            base_commit: row.try_get("base_commit")?,
            integration_ref: row.try_get("integration_ref")?,
            lanes: u32::try_from(row.try_get::<i64, _>("lanes")?).unwrap_or(1),
            into_branch: row.try_get("into_branch")?,
            into_expected: row.try_get("into_expected")?,
            created_at: row.try_get("created_at")?,
            finished_at: row.try_get("finished_at")?,
            lease,
            cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        })
    }
}

/// A task of a run.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub run_id: RunId,
    pub id: TaskId,
    pub position: i64,
    pub title: String,
    pub status: TaskStatus,
    /// Attempts started so far (the next attempt's number is this plus one).
    pub attempts: u32,
    /// Attempts that failed (interrupted ones do not count).
    pub failures: u32,
    /// How many failures end the task (retries + 1).
    pub failures_allowed: u32,
    /// Times its branch conflicted in the merge queue.
    pub conflicts: u32,
    pub task_commit: Option<String>,
    pub merge_commit: Option<String>,
    /// What went wrong last (agent failure, claims, gate output, conflict): the next attempt's feedback.
    pub last_failure: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The agent its next attempts run on instead of the plan's (`baton retry --agent`,
    /// `baton reassign`).
    pub agent_override: Option<String>,
    /// The prompt its next attempts get instead of the plan's (`baton retry --prompt-file`).
    pub prompt_override: Option<String>,
    /// Whether its next attempt is a council (`[escalation] council`): its retries and
    /// fallbacks ran out.
    pub council_due: bool,
}

fn count(row: &SqliteRow, column: &str) -> Result<u32, StoreError> {
    Ok(u32::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

impl TaskRow {
    /// Whether one more failure would still leave the task an attempt (retries left).
    pub fn may_retry(&self) -> bool {
        self.failures + 1 < self.failures_allowed
    }

    pub(crate) fn from_row(row: &SqliteRow) -> Result<TaskRow, StoreError> {
        let status: String = row.try_get("status")?;
        Ok(TaskRow {
            run_id: RunId::new(row.try_get::<String, _>("run_id")?),
            id: TaskId::new(row.try_get::<String, _>("id")?),
            position: row.try_get("position")?,
            title: row.try_get("title")?,
            status: parse_status(&status, TaskStatus::parse, "task")?,
            attempts: count(row, "attempts")?,
            failures: count(row, "failures")?,
            failures_allowed: count(row, "failures_allowed")?,
            conflicts: count(row, "conflicts")?,
            task_commit: row.try_get("task_commit")?,
            merge_commit: row.try_get("merge_commit")?,
            last_failure: row.try_get("last_failure")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            agent_override: row.try_get("agent_override")?,
            prompt_override: row.try_get("prompt_override")?,
            council_due: row.try_get::<i64, _>("council_due")? != 0,
        })
    }
}

/// One attempt at a task.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub run_id: RunId,
    pub task_id: TaskId,
    pub number: u32,
    pub status: AttemptStatus,
    pub lane: String,
    pub start_commit: String,
    /// How the agent process ended, as JSON of `baton_protocol::EndReason`, once known.
    pub agent_end: Option<String>,
    pub task_commit: Option<String>,
    pub changed_paths: Vec<String>,
    pub failure: Option<String>,
    pub output: Option<String>,
    pub log_path: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The agent that ran the attempt (an adapter's name), once its process ended.
    pub agent: Option<String>,
    /// The client session the agent reported, for a retry to resume.
    pub session_id: Option<String>,
}

impl AttemptRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<AttemptRow, StoreError> {
        let status: String = row.try_get("status")?;
        let changed: Option<String> = row.try_get("changed_paths")?;
        let changed_paths = match changed {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("changed_paths: {e}")))?,
            None => Vec::new(),
        };
        Ok(AttemptRow {
            run_id: RunId::new(row.try_get::<String, _>("run_id")?),
            task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
            number: count(row, "number")?,
            status: parse_status(&status, AttemptStatus::parse, "attempt")?,
            lane: row.try_get("lane")?,
            start_commit: row.try_get("start_commit")?,
            agent_end: row.try_get("agent_end")?,
            task_commit: row.try_get("task_commit")?,
            changed_paths,
            failure: row.try_get("failure")?,
            output: row.try_get("output")?,
            log_path: row.try_get("log_path")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            agent: row.try_get("agent")?,
            session_id: row.try_get("session_id")?,
        })
    }

    /// The agent's end, decoded.
    pub fn agent_end(&self) -> Option<baton_protocol::EndReason> {
        self.agent_end
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
    }
}

/// A task's turn in the merge queue.
#[derive(Debug, Clone)]
pub struct MergeItemRow {
    pub id: i64,
    pub run_id: RunId,
    pub task_id: TaskId,
    pub attempt: u32,
    pub status: MergeItemStatus,
    pub task_commit: String,
    pub checked_head: Option<String>,
    pub merge_commit: Option<String>,
    pub detail: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl MergeItemRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<MergeItemRow, StoreError> {
        let status: String = row.try_get("status")?;
        Ok(MergeItemRow {
            id: row.try_get("id")?,
            run_id: RunId::new(row.try_get::<String, _>("run_id")?),
            task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
            attempt: count(row, "attempt")?,
            status: parse_status(&status, MergeItemStatus::parse, "merge item")?,
            task_commit: row.try_get("task_commit")?,
            checked_head: row.try_get("checked_head")?,
            merge_commit: row.try_get("merge_commit")?,
            detail: row.try_get("detail")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// The result of one gate run.
#[derive(Debug, Clone)]
pub struct GateResultRow {
    pub task_id: TaskId,
    pub attempt: Option<u32>,
    pub merge_item: Option<i64>,
    pub gate: String,
    pub passed: bool,
    pub end_reason: String,
    pub duration_ms: u64,
    pub output: String,
    /// Taken from an earlier run of the gate on the same tree.
    pub cached: bool,
}

impl GateResultRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<GateResultRow, StoreError> {
        let attempt: Option<i64> = row.try_get("attempt")?;
        Ok(GateResultRow {
            task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
            attempt: attempt.and_then(|a| u32::try_from(a).ok()),
            merge_item: row.try_get("merge_item")?,
            gate: row.try_get("gate")?,
            passed: row.try_get::<i64, _>("passed")? != 0,
            end_reason: row.try_get("end_reason")?,
            duration_ms: u64::try_from(row.try_get::<i64, _>("duration_ms")?).unwrap_or(0),
            output: row.try_get("output")?,
            cached: row.try_get::<i64, _>("cached")? != 0,
        })
    }
}

/// A lane of a repository's pool, and who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRow {
    pub repo: String,
    pub name: String,
    pub path: String,
    pub run_id: Option<RunId>,
    pub task_id: Option<TaskId>,
    /// `task` or `merge` while in use.
    pub purpose: Option<String>,
}

impl LaneRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<LaneRow, StoreError> {
        Ok(LaneRow {
            repo: row.try_get("repo")?,
            name: row.try_get("name")?,
            path: row.try_get("path")?,
            run_id: row.try_get::<Option<String>, _>("run_id")?.map(RunId::new),
            task_id: row
                .try_get::<Option<String>, _>("task_id")?
                .map(TaskId::new),
            purpose: row.try_get("purpose")?,
        })
    }
}

/// A process group an engine started for a run and has not yet seen end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    pub run_id: RunId,
    pub pgid: i32,
    pub pid: i32,
    pub task_id: Option<TaskId>,
    pub what: String,
}

impl ProcessRow {
    pub(crate) fn from_row(row: &SqliteRow) -> Result<ProcessRow, StoreError> {
        Ok(ProcessRow {
            run_id: RunId::new(row.try_get::<String, _>("run_id")?),
            pgid: i32::try_from(row.try_get::<i64, _>("pgid")?).unwrap_or(0),
            pid: i32::try_from(row.try_get::<i64, _>("pid")?).unwrap_or(0),
            task_id: row
                .try_get::<Option<String>, _>("task_id")?
                .map(TaskId::new),
            what: row.try_get("what")?,
        })
    }
}
