//! Merge batches: groups of queued items gated once on the tip of their merge chain (see
//! `baton_core::merge_batch`), kept for the report.

use crate::events::insert_event;
use crate::{Store, StoreError, now_text};
use baton_protocol::{Event, EventBody, RunId, TaskId};
use sqlx::Row;

/// How a batch's gates ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every merge gate passed on its tip.
    Passed,
    /// A merge gate failed on its tip.
    Failed,
    /// Its result could not be used: built on a tip that did not become the head, or its
    /// gates did not run to an end.
    Discarded,
}

impl BatchOutcome {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchOutcome::Passed => "passed",
            BatchOutcome::Failed => "failed",
            BatchOutcome::Discarded => "discarded",
        }
    }
}

/// A batch as the queue built it.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub run: &'a RunId,
    /// Its place in its round of speculative gates.
    pub stage: u32,
    /// 0 for a fresh batch, n for a part of a failed batch split n times.
    pub depth: u32,
    /// The commit its chain was built on, and the chain's tip and tree.
    pub base: &'a str,
    pub tip: &'a str,
    pub tree: &'a str,
    /// Its members, in queue order.
    pub items: &'a [(i64, TaskId)],
}

/// One stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeBatchRow {
    pub id: i64,
    pub stage: u32,
    pub depth: u32,
    pub base: String,
    pub tip: String,
    pub items: Vec<i64>,
    pub tasks: Vec<TaskId>,
    /// `None` while its gates run (or when the engine died meanwhile).
    pub outcome: Option<String>,
    /// Gate processes run for it (results taken from the cache not counted).
    pub gate_runs: u32,
    /// Gate results taken from the cache.
    pub cache_hits: u32,
}

fn join<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Records a batch whose gates are about to run; returns its id.
    pub async fn create_merge_batch(&self, batch: NewBatch<'_>) -> Result<i64, StoreError> {
        let id = sqlx::query(
            "INSERT INTO merge_batches (run_id, stage, depth, base, tip, tree, items, tasks,
                created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(batch.run.as_str())
        .bind(i64::from(batch.stage))
        .bind(i64::from(batch.depth))
        .bind(batch.base)
        .bind(batch.tip)
        .bind(batch.tree)
        .bind(join(batch.items.iter().map(|(id, _)| *id)))
        .bind(join(batch.items.iter().map(|(_, task)| task.as_str())))
        .bind(now_text())
        .fetch_one(&self.writer)
        .await?
        .try_get("id")?;
        Ok(id)
    }

    /// Records how a batch's gates ended, with its `merge.batch` event.
    pub async fn finish_merge_batch(
        &self,
        run: &RunId,
        id: i64,
        outcome: BatchOutcome,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "UPDATE merge_batches SET outcome = ?, finished_at = ? WHERE id = ? AND run_id = ?
             RETURNING stage, depth, tasks",
        )
        .bind(outcome.as_str())
        .bind(now_text())
        .bind(id)
        .bind(run.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("merge batch {id}")))?;
        let tasks: String = row.try_get("tasks")?;
        let event = insert_event(
            &mut tx,
            run,
            None,
            EventBody::MergeBatchGated {
                batch: id,
                tasks: split_tasks(&tasks),
                stage: u32::try_from(row.try_get::<i64, _>("stage")?).unwrap_or(0),
                depth: u32::try_from(row.try_get::<i64, _>("depth")?).unwrap_or(0),
                outcome: outcome.as_str().to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// A run's batches in the order they were built, with their gate counts.
    pub async fn merge_batches(&self, run: &RunId) -> Result<Vec<MergeBatchRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.*,
                (SELECT COUNT(*) FROM gate_results g WHERE g.batch_id = b.id AND g.cached = 0)
                    AS gate_runs,
                (SELECT COUNT(*) FROM gate_results g WHERE g.batch_id = b.id AND g.cached = 1)
                    AS cache_hits
             FROM merge_batches b WHERE b.run_id = ? ORDER BY b.id",
        )
        .bind(run.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let items: String = row.try_get("items")?;
                let tasks: String = row.try_get("tasks")?;
                Ok(MergeBatchRow {
                    id: row.try_get("id")?,
                    stage: u32::try_from(row.try_get::<i64, _>("stage")?).unwrap_or(0),
                    depth: u32::try_from(row.try_get::<i64, _>("depth")?).unwrap_or(0),
                    base: row.try_get("base")?,
                    tip: row.try_get("tip")?,
                    items: items
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            s.parse::<i64>().map_err(|e| {
                                StoreError::Corrupt(format!("merge batch items {items:?}: {e}"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    tasks: split_tasks(&tasks),
                    outcome: row.try_get("outcome")?,
                    gate_runs: u32::try_from(row.try_get::<i64, _>("gate_runs")?).unwrap_or(0),
                    cache_hits: u32::try_from(row.try_get::<i64, _>("cache_hits")?).unwrap_or(0),
                })
            })
            .collect()
    }
}

fn split_tasks(text: &str) -> Vec<TaskId> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(TaskId::new)
        .collect()
}
