//! The merge queue's items.

use crate::events::insert_event;
use crate::tasks::move_task as move_task_in;
use crate::{MergeItemRow, Store, StoreError, now_text};
use baton_core::merge_item_transition;
use baton_protocol::{Event, EventBody, MergeItemStatus, RunId, TaskId, TaskStatus};
use sqlx::SqliteConnection;

/// What a merge item transition also records.
#[derive(Debug, Clone, Default)]
pub struct MergeItemUpdate {
    /// A note for people (conflicting paths, the failing gate).
    pub detail: Option<String>,
    /// The integration head the item was checked against.
    pub checked_head: Option<String>,
    /// The would-be merge commit.
    pub merge_commit: Option<String>,
}

async fn move_item(
    conn: &mut SqliteConnection,
    item: &MergeItemRow,
    to: MergeItemStatus,
    update: &MergeItemUpdate,
) -> Result<Event, StoreError> {
    let from = item.status;
    merge_item_transition(from, to)?;
    let done = sqlx::query(
        "UPDATE merge_items SET status = ?, detail = COALESCE(?, detail),
            checked_head = COALESCE(?, checked_head), merge_commit = COALESCE(?, merge_commit),
            updated_at = ?
         WHERE id = ? AND status = ?",
    )
    .bind(to.as_str())
    .bind(&update.detail)
    .bind(&update.checked_head)
    .bind(&update.merge_commit)
    .bind(now_text())
    .bind(item.id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Stale {
            entity: "merge item",
            id: item.id.to_string(),
            expected: from.to_string(),
            actual: "changed".into(),
        });
    }
    insert_event(
        conn,
        &item.run_id,
        Some(&item.task_id),
        EventBody::MergeItemStatusChanged {
            item: item.id,
            from,
            to,
            detail: update.detail.clone(),
        },
    )
    .await
}

impl Store {
    /// The merge items of a run in queue order.
    pub async fn merge_items(&self, run: &RunId) -> Result<Vec<MergeItemRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM merge_items WHERE run_id = ? ORDER BY id")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(MergeItemRow::from_row).collect()
    }

    /// One merge item.
    pub async fn merge_item(&self, id: i64) -> Result<MergeItemRow, StoreError> {
        let row = sqlx::query("SELECT * FROM merge_items WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("merge item {id}")))?;
        MergeItemRow::from_row(&row)
    }

    /// Moves a merge item (compare-and-set on its current status) with its event.
    pub async fn transition_merge_item(
        &self,
        item: &MergeItemRow,
        to: MergeItemStatus,
        update: MergeItemUpdate,
    ) -> Result<Event, StoreError> {
        let mut tx = self.writer.begin().await?;
        let event = move_item(&mut tx, item, to, &update).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The integration branch moved to the item's merge commit: the item becomes merged and its
    /// task merged, with the `integration.advanced` event, in one transaction.
    pub async fn complete_merge(
        &self,
        item: &MergeItemRow,
        from_head: &str,
        merge_commit: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let update = MergeItemUpdate {
            merge_commit: Some(merge_commit.to_string()),
            ..MergeItemUpdate::default()
        };
        let moved_item = move_item(&mut tx, item, MergeItemStatus::Merged, &update).await?;
        let moved_task = move_task_in(
            &mut tx,
            &item.run_id,
            &item.task_id,
            TaskStatus::Queued,
            TaskStatus::Merged,
            None,
        )
        .await?;
        sqlx::query("UPDATE tasks SET merge_commit = ? WHERE run_id = ? AND id = ?")
            .bind(merge_commit)
            .bind(item.run_id.as_str())
            .bind(item.task_id.as_str())
            .execute(&mut *tx)
            .await?;
        let advanced = insert_event(
            &mut tx,
            &item.run_id,
            Some(&item.task_id),
            EventBody::IntegrationAdvanced {
                item: item.id,
                from: from_head.to_string(),
                to: merge_commit.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(vec![moved_item, moved_task, advanced])
    }

    /// The item could not merge (`to` is conflicted or failed): its task leaves the queue for
    /// `task_to` (pending to run again, or failed). A conflict counts in `conflicts`, a gate
    /// failure in `failures`.
    pub async fn reject_merge(
        &self,
        item: &MergeItemRow,
        to: MergeItemStatus,
        detail: &str,
        task_to: TaskStatus,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let update = MergeItemUpdate {
            detail: Some(detail.to_string()),
            ..MergeItemUpdate::default()
        };
        let moved_item = move_item(&mut tx, item, to, &update).await?;
        let moved_task = move_task_in(
            &mut tx,
            &item.run_id,
            &item.task_id,
            TaskStatus::Queued,
            task_to,
            Some(crate::readable_reason(
                detail,
                &item.run_id,
                item.task_id.as_str(),
            )),
        )
        .await?;
        let counter = if to == MergeItemStatus::Conflicted {
            "UPDATE tasks SET conflicts = conflicts + 1, last_failure = ? WHERE run_id = ? AND id = ?"
        } else {
            "UPDATE tasks SET failures = failures + 1, last_failure = ? WHERE run_id = ? AND id = ?"
        };
        sqlx::query(counter)
            .bind(detail)
            .bind(item.run_id.as_str())
            .bind(item.task_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(vec![moved_item, moved_task])
    }

    /// The latest merge item of a task, if any.
    pub async fn latest_merge_item(
        &self,
        run: &RunId,
        task: &TaskId,
    ) -> Result<Option<MergeItemRow>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM merge_items WHERE run_id = ? AND task_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(MergeItemRow::from_row).transpose()
    }
}
