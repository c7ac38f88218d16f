//! Lanes of each repository's pool and the process groups engines started.

use crate::events::insert_event;
use crate::{LaneRow, ProcessRow, Store, StoreError, now_text};
use baton_protocol::{Event, EventBody};
use baton_protocol::{RunId, TaskId};

impl Store {
    /// The lanes of one repository's pool, by name.
    pub async fn lanes(&self, repo: &str) -> Result<Vec<LaneRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM lanes WHERE repo = ? ORDER BY name")
            .bind(repo)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(LaneRow::from_row).collect()
    }

    /// Every lane of every repository.
    pub async fn all_lanes(&self) -> Result<Vec<LaneRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM lanes ORDER BY repo, name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(LaneRow::from_row).collect()
    }

    /// Takes a free lane (creating its row if new) for a run. False if someone else holds it.
    pub async fn assign_lane(
        &self,
        repo: &str,
        name: &str,
        path: &str,
        run: &RunId,
        task: Option<&TaskId>,
        purpose: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("INSERT OR IGNORE INTO lanes (repo, name, path) VALUES (?, ?, ?)")
            .bind(repo)
            .bind(name)
            .bind(path)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "UPDATE lanes SET run_id = ?, task_id = ?, purpose = ?
             WHERE repo = ? AND name = ? AND run_id IS NULL",
        )
        .bind(run.as_str())
        .bind(task.map(|t| t.as_str()))
        .bind(purpose)
        .bind(repo)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Returns a lane to the pool.
    pub async fn free_lane(&self, repo: &str, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE lanes SET run_id = NULL, task_id = NULL, purpose = NULL
             WHERE repo = ? AND name = ?",
        )
        .bind(repo)
        .bind(name)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets a lane only if no run holds it, as one compare-and-set: true if it was free and
    /// is now gone (its worktree may then be removed; a run taking a lane of that name after
    /// this records it anew).
    pub async fn delete_free_lane(&self, repo: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM lanes WHERE repo = ? AND name = ? AND run_id IS NULL")
            .bind(repo)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a lane (after its worktree was removed).
    pub async fn delete_lane(&self, repo: &str, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM lanes WHERE repo = ? AND name = ?")
            .bind(repo)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Remembers a process group started for a run, so a later engine can kill survivors;
    /// with `event`, logs it in the same transaction.
    pub async fn record_process(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
        pid: i32,
        pgid: i32,
        what: &str,
        event: Option<EventBody>,
    ) -> Result<Option<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT OR REPLACE INTO processes (run_id, pgid, pid, task_id, what, started_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(run.as_str())
        .bind(i64::from(pgid))
        .bind(i64::from(pid))
        .bind(task.map(|t| t.as_str()))
        .bind(what)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let written = match event {
            Some(body) => Some(insert_event(&mut tx, run, task, body).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(written)
    }

    /// Forgets a process group that has ended.
    pub async fn forget_process(&self, run: &RunId, pgid: i32) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM processes WHERE run_id = ? AND pgid = ?")
            .bind(run.as_str())
            .bind(i64::from(pgid))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The process groups recorded for a run.
    pub async fn processes(&self, run: &RunId) -> Result<Vec<ProcessRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM processes WHERE run_id = ? ORDER BY started_at")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ProcessRow::from_row).collect()
    }
}
