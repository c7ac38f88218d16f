//! Reviews of changes: each reviewer's report, with its `review.finished` event.

use crate::events::insert_event;
use crate::{Store, StoreError, now_text};
use baton_protocol::{Event, EventBody, ReviewKind, ReviewReport, RunId, TaskId};
use sqlx::Row;

/// One review, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    /// `None`: the whole run's change.
    pub task_id: Option<TaskId>,
    pub attempt: Option<u32>,
    pub kind: ReviewKind,
    pub provider: String,
    pub model: String,
    pub report: ReviewReport,
    pub created_at: String,
}

/// What is reviewed: an attempt's change, or the whole run's.
#[derive(Debug, Clone, Copy)]
pub enum Reviewed<'a> {
    Attempt(&'a TaskId, u32),
    Run,
}

impl Store {
    /// Records one reviewer's report and its event, in one transaction.
    pub async fn record_review(
        &self,
        run: &RunId,
        reviewed: Reviewed<'_>,
        kind: ReviewKind,
        provider: &str,
        model: &str,
        report: &ReviewReport,
    ) -> Result<Event, StoreError> {
        let (task, attempt) = match reviewed {
            Reviewed::Attempt(task, number) => (Some(task), Some(number)),
            Reviewed::Run => (None, None),
        };
        let text = serde_json::to_string(report)
            .map_err(|e| StoreError::Corrupt(format!("a review report: {e}")))?;
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO reviews (run_id, task_id, attempt, kind, provider, model, approved,
                 report, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.as_str())
        .bind(task.map(|t| t.as_str()))
        .bind(attempt.map(i64::from))
        .bind(kind.as_str())
        .bind(provider)
        .bind(model)
        .bind(i64::from(report.approved))
        .bind(&text)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let event = insert_event(
            &mut tx,
            run,
            task,
            EventBody::ReviewFinished {
                attempt,
                kind,
                approved: report.approved,
                summary: report.summary.clone(),
                issues: report.issues.len(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Every review of a run, oldest first.
    pub async fn reviews(&self, run: &RunId) -> Result<Vec<ReviewRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM reviews WHERE run_id = ? ORDER BY id")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let report: String = row.try_get("report")?;
                Ok(ReviewRow {
                    id: row.try_get("id")?,
                    task_id: row
                        .try_get::<Option<String>, _>("task_id")?
                        .map(TaskId::new),
                    attempt: row
                        .try_get::<Option<i64>, _>("attempt")?
                        .and_then(|n| u32::try_from(n).ok()),
                    kind: ReviewKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("review kind {kind:?}")))?,
                    provider: row.try_get("provider")?,
                    model: row.try_get("model")?,
                    report: serde_json::from_str(&report)
                        .map_err(|e| StoreError::Corrupt(format!("a review report: {e}")))?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// How many attempts of `task` had their change rejected by a review.
    pub async fn rejected_attempts(&self, run: &RunId, task: &TaskId) -> Result<u32, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT attempt) AS n FROM reviews
             WHERE run_id = ? AND task_id = ? AND approved = 0",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }
}
