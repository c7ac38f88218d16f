//! The run's merge queue: finished tasks integrate one at a time, in finishing order. Each item
//! is checked for conflicts without a checkout (`merge-tree --write-tree`), its would-be merge
//! passes the merge gates in the merge lane, and only then does the integration branch move, by
//! compare-and-swap. The integration branch therefore only ever points at gate-passed commits.

use crate::EngineError;
use crate::context::RunCtx;
use crate::failpoint::fail_point;
use crate::gates::{GateSite, run_gates};
use crate::lanes::HeldLane;
use baton_git::{GitError, MergeCheck, Oid};
use baton_protocol::{MergeItemStatus, TaskStatus};
use baton_store::{MergeItemRow, MergeItemUpdate};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// A task whose branch conflicted this many times fails instead of running again.
pub(crate) const MAX_CONFLICTS: u32 = 3;

/// Processes queued items until `stop` (a child of the run's cancel token) is cancelled. Sends a message on `progress` after each item.
pub(crate) async fn merge_worker(
    ctx: Arc<RunCtx>,
    wake: Arc<Notify>,
    progress: mpsc::Sender<()>,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(), EngineError> {
    let mut lane: Option<HeldLane> = None;
    let result = async {
        loop {
            if stop.is_cancelled() {
                return Ok(());
            }
            let next = ctx
                .store
                .merge_items(ctx.id())
                .await?
                .into_iter()
                .find(|item| item.status == MergeItemStatus::Queued);
            match next {
                Some(item) => {
                    process_item(&ctx, item, &mut lane).await?;
                    // A wake-up for the loop; when its queue is full it is awake already.
                    let _ = progress.try_send(());
                }
                None => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = stop.cancelled() => return Ok(()),
                    }
                }
            }
        }
    }
    .await;
    if let Some(lane) = lane {
        ctx.release_lane(&lane.name).await?;
    }
    result
}

async fn process_item(
    ctx: &RunCtx,
    item: MergeItemRow,
    lane: &mut Option<HeldLane>,
) -> Result<(), EngineError> {
    ctx.guard_integration().await?;
    let head = ctx.integration_head().await?;
    // Only an item checked before (re-queued after a restart or a lost race) can already be on
    // the integration branch; a fresh one skips the ancestry check.
    let checked_before = item.checked_head.is_some();
    let item = ctx
        .move_merge_item(
            &item,
            MergeItemStatus::Checking,
            MergeItemUpdate {
                checked_head: Some(head.to_string()),
                ..MergeItemUpdate::default()
            },
        )
        .await?;
    let task_commit = ctx.oid(&item.task_commit)?;

    // Its attempt moved the integration branch after it had passed its own checks.
    if let Some(why) = ctx.take_tamper_blame(&item.task_id) {
        return reject(ctx, &item, MergeItemStatus::Failed, &why).await;
    }

    // Merged already, by an engine that died before it could record it: record it now.
    if checked_before && ctx.git.is_ancestor(&task_commit, &head).await? {
        let merge = find_merge_of(ctx, &head, &task_commit).await?;
        return record_merged(ctx, item, &merge.0, &merge.1).await;
    }

    fail_point("merge.commit.before");
    let tree = match ctx.git.merge_tree(&head, &task_commit).await? {
        MergeCheck::Conflicted { paths, .. } => {
            let detail = crate::conflict::conflict_detail(ctx, &item, &head, &paths).await;
            let row = ctx.task_row(&item.task_id).await?;
            let task_to = if row.conflicts + 1 < MAX_CONFLICTS {
                TaskStatus::Pending
            } else {
                TaskStatus::Failed
            };
            let events = ctx
                .store
                .reject_merge(&item, MergeItemStatus::Conflicted, &detail, task_to)
                .await?;
            ctx.emit(events);
            return Ok(());
        }
        MergeCheck::Clean { tree } => tree,
    };
    let title = ctx
        .plan
        .task(&item.task_id)
        .map(|t| t.title.clone())
        .unwrap_or_default();
    let message = format!(
        "baton: merge {task}: {title}\n\nBaton-Run: {run}\nBaton-Merged-Task: {task}\n",
        task = item.task_id,
        run = ctx.id()
    );
    let merge = ctx
        .git
        .commit_tree(&tree, &[head.clone(), task_commit.clone()], &message)
        .await?;
    fail_point("merge.commit.after");

    if !ctx.plan.merge_gates.is_empty() {
        let held = match lane.as_ref() {
            Some(held) => held.clone(),
            None => {
                let held = ctx.acquire_lane(Some(&item.task_id), "merge").await?;
                *lane = Some(held.clone());
                held
            }
        };
        ctx.pool.prepare(&held.name, None, &merge).await?;
        let failure = run_gates(
            ctx,
            &held.path,
            &item.task_id,
            &ctx.plan.merge_gates,
            GateSite::MergeItem(item.id),
            Some(&tree),
            &ctx.cancel,
        )
        .await?;
        if ctx.cancel.is_cancelled() {
            ctx.move_merge_item(&item, MergeItemStatus::Queued, MergeItemUpdate::default())
                .await?;
            return Ok(());
        }
        // A merge gate is a command too: it must not have moved the integration branch.
        ctx.guard_integration().await?;
        if let Some(failure) = failure {
            let detail = format!("on the would-be merge, {}", failure.describe());
            return reject(ctx, &item, MergeItemStatus::Failed, &detail).await;
        }
    }

    let item = ctx
        .move_merge_item(
            &item,
            MergeItemStatus::Merging,
            MergeItemUpdate {
                merge_commit: Some(merge.to_string()),
                ..MergeItemUpdate::default()
            },
        )
        .await?;
    fail_point("ref.update.before");
    let moved = {
        let _moving = ctx.ref_lock.lock().await;
        let moved = ctx
            .git
            .update_ref(&ctx.run.integration_ref, &merge, Some(&head))
            .await;
        if moved.is_ok() {
            ctx.set_integration_head(Some(merge.clone()));
        }
        moved
    };
    match moved {
        Ok(()) => {}
        Err(GitError::RefMoved { .. }) => {
            // Only this engine moves the ref: something else did. Put it back, check again.
            ctx.guard_integration().await?;
            ctx.move_merge_item(
                &item,
                MergeItemStatus::Queued,
                MergeItemUpdate {
                    detail: Some(
                        "the integration branch had been moved by something other than baton; \
                         it was put back and the item is checked again"
                            .into(),
                    ),
                    ..MergeItemUpdate::default()
                },
            )
            .await?;
            return Ok(());
        }
        Err(other) => return Err(other.into()),
    }
    fail_point("ref.update.after");
    let events = ctx
        .store
        .complete_merge(&item, head.as_str(), merge.as_str())
        .await?;
    ctx.emit(events);
    fail_point("state.merged.after");
    ctx.delete_task_branch(&item.task_id).await;
    Ok(())
}

/// Sends the item's task back (to run again while it has retries, else failed) with `detail`.
async fn reject(
    ctx: &RunCtx,
    item: &MergeItemRow,
    to: MergeItemStatus,
    detail: &str,
) -> Result<(), EngineError> {
    let task_to = if ctx.task_row(&item.task_id).await?.may_retry() {
        TaskStatus::Pending
    } else {
        TaskStatus::Failed
    };
    let events = ctx.store.reject_merge(item, to, detail, task_to).await?;
    ctx.emit(events);
    Ok(())
}

/// The merge commit on the integration branch whose second parent is `task_commit`, and the
/// head it was made on.
async fn find_merge_of(
    ctx: &RunCtx,
    head: &Oid,
    task_commit: &Oid,
) -> Result<(Oid, Oid), EngineError> {
    let commits = ctx
        .git
        .commits(&format!("{}..{head}", ctx.run.base_commit))
        .await?;
    for commit in commits {
        if commit.parents.len() == 2 && &commit.parents[1] == task_commit {
            return Ok((commit.parents[0].clone(), commit.oid));
        }
    }
    Err(EngineError::Inconsistent {
        run: ctx.id().clone(),
        what: format!(
            "task commit {task_commit} is on the integration branch without a baton merge commit"
        ),
    })
}

/// Records a merge that already happened on the integration branch.
async fn record_merged(
    ctx: &RunCtx,
    item: MergeItemRow,
    from: &Oid,
    merge: &Oid,
) -> Result<(), EngineError> {
    let item = ctx
        .move_merge_item(
            &item,
            MergeItemStatus::Merging,
            MergeItemUpdate {
                merge_commit: Some(merge.to_string()),
                detail: Some("found already merged after a restart".into()),
                ..MergeItemUpdate::default()
            },
        )
        .await?;
    let events = ctx
        .store
        .complete_merge(&item, from.as_str(), merge.as_str())
        .await?;
    ctx.emit(events);
    ctx.delete_task_branch(&item.task_id).await;
    Ok(())
}
