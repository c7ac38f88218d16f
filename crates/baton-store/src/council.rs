//! The escalation ladder in the store: a task moved to a fallback agent or to a council, and
//! the councils themselves (one row per candidate; each candidate is an attempt of its own, so
//! its agent, lane, ledger row and reservation are an attempt's). Every status change is one
//! transaction with its events.

use crate::events::insert_event;
use crate::tasks::{end_attempt, fail_in, move_task};
use crate::{Store, StoreError, now_text};
use baton_protocol::{
    AttemptStatus, CouncilCandidate, Event, EventBody, RunId, TaskId, TaskStatus,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Where a failed task goes up the ladder instead of failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escalation {
    /// Its next `attempts` attempts run on `agent`, in a new conversation.
    Fallback { agent: String, attempts: u32 },
    /// Its next attempt is a council of `members` (agents, in order).
    Council { members: Vec<String> },
}

/// A candidate about to start: its agent and the lane it holds.
#[derive(Debug, Clone)]
pub struct NewCandidate {
    pub agent: String,
    pub lane: String,
}

/// What a candidate came to, as the judge needs it.
#[derive(Debug, Clone, Default)]
pub struct CandidateResult {
    pub passed: bool,
    pub failure: Option<String>,
    pub diff_lines: Option<u64>,
    pub reviews_approved: Option<u32>,
    pub high_issues: u32,
    pub task_commit: Option<String>,
}

/// One candidate of a council, as stored (its cost from the ledger).
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub task_id: TaskId,
    pub attempt: u32,
    /// The council's first attempt number: which council of the task it sat on.
    pub council: u32,
    pub member: u32,
    pub agent: String,
    pub lane: String,
    /// `None` while it runs.
    pub passed: Option<bool>,
    pub failure: Option<String>,
    pub diff_lines: Option<u64>,
    pub reviews_approved: Option<u32>,
    pub high_issues: u32,
    pub task_commit: Option<String>,
    pub winner: bool,
    /// The judge's words, once the council ended.
    pub verdict: Option<String>,
    pub cost_micros: Option<u64>,
}

impl CandidateRow {
    fn from_row(row: &SqliteRow) -> Result<CandidateRow, StoreError> {
        let number = |column: &str| -> Result<u32, StoreError> {
            u32::try_from(row.try_get::<i64, _>(column)?)
                .map_err(|_| StoreError::Corrupt(format!("council candidate {column}")))
        };
        Ok(CandidateRow {
            task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
            attempt: number("attempt")?,
            council: number("council")?,
            member: number("member")?,
            agent: row.try_get("agent")?,
            lane: row.try_get("lane")?,
            passed: row.try_get::<Option<i64>, _>("passed")?.map(|p| p != 0),
            failure: row.try_get("failure")?,
            diff_lines: row
                .try_get::<Option<i64>, _>("diff_lines")?
                .and_then(|n| u64::try_from(n).ok()),
            reviews_approved: row
                .try_get::<Option<i64>, _>("reviews_approved")?
                .and_then(|n| u32::try_from(n).ok()),
            high_issues: number("high_issues")?,
            task_commit: row.try_get("task_commit")?,
            winner: row.try_get::<i64, _>("winner")? != 0,
            verdict: row.try_get("verdict")?,
            cost_micros: row
                .try_get::<Option<i64>, _>("cost_micros")?
                .and_then(|n| u64::try_from(n).ok()),
        })
    }

    /// The candidate as the event log and `baton status --json` show it.
    pub fn view(&self) -> CouncilCandidate {
        CouncilCandidate {
            member: self.member,
            agent: self.agent.clone(),
            attempt: self.attempt,
            lane: self.lane.clone(),
            passed: self.passed.unwrap_or(false),
            cost_micros: self.cost_micros,
            diff_lines: self.diff_lines,
            reviews_approved: self.reviews_approved,
            high_issues: self.high_issues,
            failure: self
                .failure
                .as_deref()
                .and_then(|f| f.lines().next())
                .map(str::to_owned),
            winner: self.winner,
        }
    }
}

/// How a council ends.
#[derive(Debug, Clone)]
pub enum CouncilEnd {
    /// The candidate that ran as attempt `attempt` won: its attempt stays running (the
    /// engine delivers its change as any passing attempt's), the others end.
    Decided { attempt: u32 },
    /// No candidate passed: the task goes to `task_to` (`needs_human` or `failed`).
    Lost {
        task_to: TaskStatus,
        failure: String,
    },
    /// A cancel stopped it: every candidate is interrupted and the task is pending again, its
    /// council still due (it runs again on resume).
    Interrupted { why: String },
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Ends attempt `number` as failed and moves its task up the ladder instead of failing it:
    /// pending again, on a fallback agent (with that agent's round of attempts) or with a
    /// council due. One transaction with its events (`task.escalated` names who and why).
    pub async fn escalate_attempt(
        &self,
        run: &RunId,
        task: &TaskId,
        number: u32,
        failure: &str,
        escalation: &Escalation,
        why: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let (rung, agents, extra, agent, due) = match escalation {
            Escalation::Fallback { agent, attempts } => (
                "fallback",
                vec![agent.clone()],
                *attempts,
                Some(agent.clone()),
                0,
            ),
            Escalation::Council { members } => ("council", members.clone(), 1, None, 1),
        };
        let mut tx = self.writer.begin().await?;
        let mut events = fail_in(
            &mut tx,
            run,
            task,
            number,
            AttemptStatus::Failed,
            failure,
            (TaskStatus::Pending, why.to_string()),
            extra,
        )
        .await?;
        sqlx::query(
            "UPDATE tasks SET agent_override = COALESCE(?, agent_override), council_due = ?
             WHERE run_id = ? AND id = ?",
        )
        .bind(agent)
        .bind(due)
        .bind(run.as_str())
        .bind(task.as_str())
        .execute(&mut *tx)
        .await?;
        let escalated = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::TaskEscalated {
                rung: rung.into(),
                agents,
                who: "baton".into(),
                why: why.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        events.push(escalated);
        Ok(events)
    }

    /// Starts a council of `task`: the task goes pending -> running and each candidate gets an
    /// attempt row (its own number, agent and lane) and a candidate row, in one transaction.
    /// Returns the candidates' attempt numbers, in order, and the events.
    pub async fn start_council(
        &self,
        run: &RunId,
        task: &TaskId,
        candidates: &[NewCandidate],
        start_commit: &str,
        log_dir: &std::path::Path,
    ) -> Result<(Vec<u32>, Vec<Event>), StoreError> {
        let mut tx = self.writer.begin().await?;
        let moved = move_task(
            &mut tx,
            run,
            task,
            TaskStatus::Pending,
            TaskStatus::Running,
            Some(format!("a council of {} agents", candidates.len())),
        )
        .await?;
        let count = u32::try_from(candidates.len()).unwrap_or(u32::MAX);
        let row = sqlx::query(
            "UPDATE tasks SET attempts = attempts + ?, started_at = COALESCE(started_at, ?)
             WHERE run_id = ? AND id = ? RETURNING attempts",
        )
        .bind(i64::from(count))
        .bind(now_text())
        .bind(run.as_str())
        .bind(task.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let last = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(count);
        let first = last.saturating_sub(count) + 1;
        let mut numbers = Vec::new();
        let mut events = vec![moved];
        for (member, candidate) in (1..).zip(candidates) {
            let number = first + member - 1;
            let log_path = crate::attempt_log_path(log_dir, task, number);
            let now = now_text();
            sqlx::query(
                "INSERT INTO attempts (run_id, task_id, number, status, lane, start_commit,
                    log_path, started_at, agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run.as_str())
            .bind(task.as_str())
            .bind(i64::from(number))
            .bind(AttemptStatus::Running.as_str())
            .bind(&candidate.lane)
            .bind(start_commit)
            .bind(log_path.to_string_lossy().as_ref())
            .bind(&now)
            .bind(&candidate.agent)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO council_candidates (run_id, task_id, attempt, council, member,
                    agent, lane, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run.as_str())
            .bind(task.as_str())
            .bind(i64::from(number))
            .bind(i64::from(first))
            .bind(i64::from(member))
            .bind(&candidate.agent)
            .bind(&candidate.lane)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            events.push(
                insert_event(
                    &mut tx,
                    run,
                    Some(task),
                    EventBody::AttemptStarted {
                        attempt: number,
                        lane: candidate.lane.clone(),
                        start_commit: start_commit.to_string(),
                    },
                )
                .await?,
            );
            numbers.push(number);
        }
        tx.commit().await?;
        Ok((numbers, events))
    }

    /// A task whose council cannot be held (fewer than two agents are usable now) is no
    /// longer due one: its next attempt is an ordinary one (the attempt the council would have
    /// been). One transaction with its `warning` event.
    pub async fn skip_council(
        &self,
        run: &RunId,
        task: &TaskId,
        why: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE tasks SET council_due = 0 WHERE run_id = ? AND id = ?")
            .bind(run.as_str())
            .bind(task.as_str())
            .execute(&mut *tx)
            .await?;
        let warned = insert_event(
            &mut tx,
            run,
            Some(task),
            EventBody::Warning {
                message: why.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![warned])
    }

    /// Records what a candidate came to (its attempt stays running until the council ends).
    pub async fn record_candidate(
        &self,
        run: &RunId,
        task: &TaskId,
        attempt: u32,
        result: &CandidateResult,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE council_candidates SET passed = ?, failure = ?, diff_lines = ?,
                 reviews_approved = ?, high_issues = ?, task_commit = ?
             WHERE run_id = ? AND task_id = ? AND attempt = ?",
        )
        .bind(i64::from(result.passed))
        .bind(result.failure.as_deref())
        .bind(result.diff_lines.map(to_i64))
        .bind(result.reviews_approved.map(i64::from))
        .bind(i64::from(result.high_issues))
        .bind(result.task_commit.as_deref())
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(attempt))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The candidates of every council of `run` (of `task` only, when given), by task and
    /// attempt, with what each cost.
    pub async fn council_candidates(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
    ) -> Result<Vec<CandidateRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.*, l.cost_micros FROM council_candidates c
             LEFT JOIN ledger l ON l.run_id = c.run_id AND l.task_id = c.task_id
                 AND l.attempt = c.attempt
             WHERE c.run_id = ? AND (CAST(? AS TEXT) IS NULL OR c.task_id = ?)
             ORDER BY c.task_id, c.attempt",
        )
        .bind(run.as_str())
        .bind(task.map(|t| t.as_str()))
        .bind(task.map(|t| t.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CandidateRow::from_row).collect()
    }

    /// The `task.escalated` events of `run`, oldest first: which tasks moved to a fallback
    /// agent or a council, and why.
    pub async fn escalations(&self, run: &RunId) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, time, run_id, task_id, type, version, payload FROM events
             WHERE run_id = ? AND type = 'task.escalated' ORDER BY seq",
        )
        .bind(run.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::events::event_from_row).collect()
    }

    /// Every seat on a council that reached a verdict, over every run: (run, task, agent,
    /// whether it won).
    pub async fn council_seats(&self) -> Result<Vec<(RunId, TaskId, String, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, task_id, agent, winner FROM council_candidates
             WHERE passed IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    RunId::new(row.try_get::<String, _>("run_id")?),
                    TaskId::new(row.try_get::<String, _>("task_id")?),
                    row.try_get::<String, _>("agent")?,
                    row.try_get::<i64, _>("winner")? != 0,
                ))
            })
            .collect()
    }

    /// Ends the council that started at attempt `council` of `task`, in one transaction: every
    /// candidate attempt but the winner's ends (a loser that passed is interrupted, since it
    /// did not fail; the others fail), the task moves (to `task_to` when none passed, pending
    /// again after a cancel; with a winner it stays running until the engine delivers the
    /// winner's change like any passing attempt's), the verdict is kept on every candidate row,
    /// and `council.finished` is logged.
    pub async fn finish_council(
        &self,
        run: &RunId,
        task: &TaskId,
        council: u32,
        end: &CouncilEnd,
        verdict: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(
            "SELECT c.*, l.cost_micros, a.status AS attempt_status FROM council_candidates c
             JOIN attempts a ON a.run_id = c.run_id AND a.task_id = c.task_id
                 AND a.number = c.attempt
             LEFT JOIN ledger l ON l.run_id = c.run_id AND l.task_id = c.task_id
                 AND l.attempt = c.attempt
             WHERE c.run_id = ? AND c.task_id = ? AND c.council = ? ORDER BY c.member",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(council))
        .fetch_all(&mut *tx)
        .await?;
        let winner_attempt = match end {
            CouncilEnd::Decided { attempt } => Some(*attempt),
            _ => None,
        };
        let mut events = Vec::new();
        let mut candidates = Vec::new();
        for row in &rows {
            let mut candidate = CandidateRow::from_row(row)?;
            let status: String = row.try_get("attempt_status")?;
            candidate.winner = Some(candidate.attempt) == winner_attempt;
            // The winner's attempt ends when the engine delivers its change.
            if status == AttemptStatus::Running.as_str() && !candidate.winner {
                let (to, why) = match (end, candidate.passed) {
                    (CouncilEnd::Interrupted { why }, _) => {
                        (AttemptStatus::Interrupted, why.clone())
                    }
                    (_, Some(true)) => (
                        AttemptStatus::Interrupted,
                        format!("passed, but the council chose another: {verdict}"),
                    ),
                    _ => (
                        AttemptStatus::Failed,
                        candidate
                            .failure
                            .clone()
                            .unwrap_or_else(|| "the council ended before it finished".into()),
                    ),
                };
                let failure = (!why.is_empty()).then_some(why.as_str());
                events.push(end_attempt(&mut tx, run, task, candidate.attempt, to, failure).await?);
            }
            sqlx::query(
                "UPDATE council_candidates SET winner = ?, verdict = ?
                 WHERE run_id = ? AND task_id = ? AND attempt = ?",
            )
            .bind(i64::from(candidate.winner))
            .bind(verdict)
            .bind(run.as_str())
            .bind(task.as_str())
            .bind(i64::from(candidate.attempt))
            .execute(&mut *tx)
            .await?;
            candidates.push(candidate);
        }
        match end {
            CouncilEnd::Decided { .. } => {
                sqlx::query("UPDATE tasks SET council_due = 0 WHERE run_id = ? AND id = ?")
                    .bind(run.as_str())
                    .bind(task.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            CouncilEnd::Lost { task_to, failure } => {
                events.push(
                    move_task(
                        &mut tx,
                        run,
                        task,
                        TaskStatus::Running,
                        *task_to,
                        Some(crate::readable_reason(failure, run, task.as_str())),
                    )
                    .await?,
                );
                sqlx::query(
                    "UPDATE tasks SET failures = failures + 1, last_failure = ?, council_due = 0
                     WHERE run_id = ? AND id = ?",
                )
                .bind(failure)
                .bind(run.as_str())
                .bind(task.as_str())
                .execute(&mut *tx)
                .await?;
            }
            CouncilEnd::Interrupted { why } => {
                sqlx::query("UPDATE tasks SET council_due = 1 WHERE run_id = ? AND id = ?")
                    .bind(run.as_str())
                    .bind(task.as_str())
                    .execute(&mut *tx)
                    .await?;
                events.push(
                    move_task(
                        &mut tx,
                        run,
                        task,
                        TaskStatus::Running,
                        TaskStatus::Pending,
                        Some(why.clone()),
                    )
                    .await?,
                );
            }
        }
        let winner = candidates.iter().find(|c| c.winner);
        events.push(
            insert_event(
                &mut tx,
                run,
                Some(task),
                EventBody::CouncilFinished {
                    candidates: candidates.iter().map(CandidateRow::view).collect(),
                    winner: winner.map(|c| c.member),
                    winner_agent: winner.map(|c| c.agent.clone()),
                    why: verdict.to_string(),
                },
            )
            .await?,
        );
        tx.commit().await?;
        Ok(events)
    }

    /// The councils of `run` left running by an engine that stopped (crash or kill): each is
    /// ended as interrupted (it runs again), so no candidate is continued as an attempt of
    /// its own. Returns the events.
    pub async fn interrupt_councils(&self, run: &RunId) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT c.task_id, c.council FROM council_candidates c
             JOIN attempts a ON a.run_id = c.run_id AND a.task_id = c.task_id
                 AND a.number = c.attempt
             WHERE c.run_id = ? AND a.status = 'running'",
        )
        .bind(run.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut events = Vec::new();
        for row in rows {
            let task = TaskId::new(row.try_get::<String, _>("task_id")?);
            let council = u32::try_from(row.try_get::<i64, _>("council")?)
                .map_err(|_| StoreError::Corrupt("council number".into()))?;
            let why = "the engine stopped during the council; it runs again".to_string();
            let ended = self
                .finish_council(
                    run,
                    &task,
                    council,
                    &CouncilEnd::Interrupted { why: why.clone() },
                    &why,
                )
                .await?;
            events.extend(ended);
        }
        Ok(events)
    }
}
