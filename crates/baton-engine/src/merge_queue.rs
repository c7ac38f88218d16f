//! The run's merge queue. Finished tasks wait in finishing order; the queue takes them in
//! rounds. A round is up to `[merge] lanes` stages, each a batch of up to `[merge] batch`
//! items (`baton_core::MergePlanner` decides): each batch's chain of merge commits is built on
//! the tip of the one before it (the first on the integration head) without a checkout
//! (`merge-tree --write-tree`, `commit-tree`), and the merge gates run once on each tip, all
//! at once in separate merge lanes. The passing stages at the front merge in order: the
//! integration branch moves to each tip by compare-and-swap, so it only ever points at
//! gate-passed commits, and its first-parent history shows one merge commit per task. A failed
//! batch is bisected; a lone failing item goes back to its task with the gate's output.

use crate::EngineError;
use crate::context::RunCtx;
use crate::failpoint::fail_point;
use crate::lanes::HeldLane;
use crate::merge_chain::{BuiltStage, StageGated, build_round, gate_round};
use baton_core::{MergePlanner, Verdict};
use baton_git::{GitError, Oid};
use baton_protocol::{MergeItemStatus, TaskStatus};
use baton_store::{BatchOutcome, MergeItemRow, MergeItemUpdate};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// Processes queued items until `stop` (a child of the run's cancel token) is cancelled. Sends
/// a message on `progress` after each round.
pub(crate) async fn merge_worker(
    ctx: Arc<RunCtx>,
    wake: Arc<Notify>,
    progress: mpsc::Sender<()>,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(), EngineError> {
    let mut lanes: Vec<HeldLane> = Vec::new();
    let mut planner: MergePlanner<i64> = MergePlanner::new(ctx.merge_batch, ctx.merge_lanes);
    // Whether the queue already waited for more items before its next round.
    let mut gathered = false;
    let result = async {
        loop {
            if stop.is_cancelled() {
                return Ok(());
            }
            let waiting = queued_items(&ctx).await?;
            if waiting.is_empty() {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = stop.cancelled() => return Ok(()),
                }
                continue;
            }
            if !gathered
                && waiting.len() < planner.round_room()
                && more_may_come(&ctx, &waiting).await?
            {
                // A round with room to spare while tasks are still finishing: give them a
                // moment to join it (one gate run for them all) instead of gating a few now
                // and the rest a whole gate time later.
                gathered = true;
                let deadline = tokio::time::Instant::now() + ctx.merge_wait;
                loop {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep_until(deadline) => break,
                        _ = stop.cancelled() => return Ok(()),
                    }
                    let queued = queued_items(&ctx).await?;
                    if queued.len() >= planner.round_room() || !more_may_come(&ctx, &queued).await?
                    {
                        break;
                    }
                }
                continue;
            }
            gathered = false;
            run_round(&ctx, &mut planner, waiting, &mut lanes).await?;
            // A wake-up for the loop; when its queue is full it is awake already.
            let _ = progress.try_send(());
        }
    }
    .await;
    for lane in lanes {
        ctx.release_lane(&lane.name).await?;
    }
    result
}

/// The items waiting in the queue, in queue order.
async fn queued_items(ctx: &RunCtx) -> Result<Vec<MergeItemRow>, EngineError> {
    Ok(ctx
        .store
        .merge_items(ctx.id())
        .await?
        .into_iter()
        .filter(|item| item.status == MergeItemStatus::Queued)
        .collect())
}

/// Whether the queue should wait for more items: one may join soon (a task of the run is
/// running, or waits with every dependency merged, about to start), and no task waits for an
/// item already queued (the critical path is not held up for a fuller batch).
async fn more_may_come(ctx: &RunCtx, waiting: &[MergeItemRow]) -> Result<bool, EngineError> {
    if ctx.merge_wait.is_zero() {
        return Ok(false);
    }
    let tasks = ctx.store.tasks(ctx.id()).await?;
    let pending = |id: &baton_protocol::TaskId| {
        tasks
            .iter()
            .any(|t| &t.id == id && t.status == TaskStatus::Pending)
    };
    if waiting
        .iter()
        .any(|item| ctx.dag.dependents(&item.task_id).iter().any(pending))
    {
        return Ok(false);
    }
    let merged = |id: &baton_protocol::TaskId| {
        tasks
            .iter()
            .any(|t| &t.id == id && t.status == TaskStatus::Merged)
    };
    Ok(tasks.iter().any(|task| match task.status {
        TaskStatus::Running => true,
        TaskStatus::Pending => ctx.dag.deps(&task.id).iter().all(merged),
        _ => false,
    }))
}

/// One round: build the stages' chains, gate their tips at once, carry out the verdicts.
async fn run_round(
    ctx: &RunCtx,
    planner: &mut MergePlanner<i64>,
    waiting: Vec<MergeItemRow>,
    lanes: &mut Vec<HeldLane>,
) -> Result<(), EngineError> {
    ctx.guard_integration().await?;
    let head = ctx.integration_head().await?;
    let ids: Vec<i64> = waiting.iter().map(|item| item.id).collect();
    let rows: BTreeMap<i64, MergeItemRow> =
        waiting.into_iter().map(|item| (item.id, item)).collect();
    let stages = planner.next_round(&ids);
    let mut built = build_round(ctx, &head, stages, &rows).await?;
    let gated = gate_round(ctx, &mut built, lanes).await?;
    if ctx.cancel.is_cancelled() {
        // Interrupted: everything still checking waits again (resume gates it again).
        return requeue_rest(ctx, &built, &[]).await;
    }
    // A merge gate is a command too: it must not have moved the integration branch.
    ctx.guard_integration().await?;
    let round: Vec<baton_core::Stage<i64>> = built.iter().map(BuiltStage::as_stage).collect();
    let outcomes: Vec<baton_core::Gated> = gated.iter().map(|g| g.gated).collect();
    let verdicts = planner.settle(round, &outcomes);
    carry_out(ctx, &head, &built, &gated, verdicts).await
}

/// Records how a stage's batch ended (a stage with no gates run has no batch).
async fn finish_batch(
    ctx: &RunCtx,
    stage: &BuiltStage,
    outcome: BatchOutcome,
) -> Result<(), EngineError> {
    if let Some(batch) = stage.batch {
        let event = ctx
            .store
            .finish_merge_batch(ctx.id(), batch, outcome)
            .await?;
        ctx.emit([event]);
    }
    Ok(())
}

/// Carries out a settled round's verdicts in order: merges move the integration branch stage
/// by stage, a culprit goes back to its task, bisected and waiting items are queued again.
async fn carry_out(
    ctx: &RunCtx,
    head: &Oid,
    built: &[BuiltStage],
    gated: &[StageGated],
    verdicts: Vec<Verdict<i64>>,
) -> Result<(), EngineError> {
    let stage_of = |id: i64| {
        built
            .iter()
            .position(|stage| stage.links.iter().any(|link| link.item.id == id))
    };
    let link_of = |id: i64| {
        built
            .iter()
            .flat_map(|stage| stage.links.iter())
            .find(|link| link.item.id == id)
    };
    let mut finished = vec![false; built.len()];
    let mut current = head.clone();
    for verdict in verdicts {
        match verdict {
            Verdict::Merge(ids) => {
                let Some(index) = ids.first().and_then(|id| stage_of(*id)) else {
                    continue;
                };
                finish_batch(ctx, &built[index], BatchOutcome::Passed).await?;
                finished[index] = true;
                if !merge_stage(ctx, &current, &built[index]).await? {
                    // The branch had been moved by something else: it was put back, and the
                    // rest of the round waits to be checked again.
                    requeue_rest(ctx, built, &finished).await?;
                    return Ok(());
                }
                current = built[index].tip.clone();
            }
            Verdict::Reject(id) => {
                let (Some(index), Some(link)) = (stage_of(id), link_of(id)) else {
                    continue;
                };
                finish_batch(ctx, &built[index], BatchOutcome::Failed).await?;
                finished[index] = true;
                let detail = match &gated[index].failure {
                    Some(failure) => format!("on the would-be merge, {}", failure.describe()),
                    None => "the merge gates failed on the would-be merge".to_string(),
                };
                reject(ctx, &link.item, MergeItemStatus::Failed, &detail).await?;
            }
            Verdict::Bisected { items, depth } => {
                let Some(index) = items.first().and_then(|id| stage_of(*id)) else {
                    continue;
                };
                if !finished[index] {
                    finish_batch(ctx, &built[index], BatchOutcome::Failed).await?;
                    finished[index] = true;
                }
                let size = built[index].links.len();
                for id in items.iter() {
                    if let Some(link) = link_of(*id) {
                        let detail = format!(
                            "its batch of {size} failed the merge gates; gated again in a part of {} \
                             (bisection step {depth})",
                            items.len()
                        );
                        ctx.move_merge_item(
                            &link.item,
                            MergeItemStatus::Queued,
                            MergeItemUpdate {
                                detail: Some(detail),
                                ..MergeItemUpdate::default()
                            },
                        )
                        .await?;
                    }
                }
            }
            Verdict::Wait(ids) => {
                for id in ids {
                    if let Some(link) = link_of(id) {
                        ctx.move_merge_item(
                            &link.item,
                            MergeItemStatus::Queued,
                            MergeItemUpdate::default(),
                        )
                        .await?;
                    }
                }
            }
        }
    }
    for (index, stage) in built.iter().enumerate() {
        if !finished[index] {
            finish_batch(ctx, stage, BatchOutcome::Discarded).await?;
        }
    }
    Ok(())
}

/// Puts the items of the stages not carried out (not `finished`) back in the queue.
async fn requeue_rest(
    ctx: &RunCtx,
    built: &[BuiltStage],
    finished: &[bool],
) -> Result<(), EngineError> {
    for (index, stage) in built.iter().enumerate() {
        if finished.get(index).copied().unwrap_or(false) {
            continue;
        }
        finish_batch(ctx, stage, BatchOutcome::Discarded).await?;
        for link in &stage.links {
            let row = ctx.store.merge_item(link.item.id).await?;
            if row.status == MergeItemStatus::Checking {
                ctx.move_merge_item(&row, MergeItemStatus::Queued, MergeItemUpdate::default())
                    .await?;
            }
        }
    }
    Ok(())
}

/// Moves the integration branch from `from` to the stage's tip (its gates passed) and records
/// its items merged. Returns false when the branch was not at `from` (moved by something other
/// than baton): it is put back and the stage's items are queued again.
async fn merge_stage(ctx: &RunCtx, from: &Oid, stage: &BuiltStage) -> Result<bool, EngineError> {
    let mut merging = Vec::new();
    for link in &stage.links {
        let item = ctx
            .move_merge_item(
                &link.item,
                MergeItemStatus::Merging,
                MergeItemUpdate {
                    merge_commit: Some(link.merge.to_string()),
                    ..MergeItemUpdate::default()
                },
            )
            .await?;
        merging.push(item);
    }
    fail_point("ref.update.before");
    let moved = {
        let _moving = ctx.ref_lock.lock().await;
        let moved = ctx
            .git
            .update_ref(&ctx.run.integration_ref, &stage.tip, Some(from))
            .await;
        if moved.is_ok() {
            ctx.set_integration_head(Some(stage.tip.clone()));
        }
        moved
    };
    match moved {
        Ok(()) => {}
        Err(GitError::RefMoved { .. }) => {
            // Only this engine moves the ref: something else did. Put it back, check again.
            ctx.guard_integration().await?;
            for item in &merging {
                ctx.move_merge_item(
                    item,
                    MergeItemStatus::Queued,
                    MergeItemUpdate {
                        detail: Some(
                            "the integration branch had been moved by something other than \
                             baton; it was put back and the item is checked again"
                                .into(),
                        ),
                        ..MergeItemUpdate::default()
                    },
                )
                .await?;
            }
            return Ok(false);
        }
        Err(other) => return Err(other.into()),
    }
    fail_point("ref.update.after");
    for (item, link) in merging.iter().zip(&stage.links) {
        let events = ctx
            .store
            .complete_merge(item, link.parent.as_str(), link.merge.as_str())
            .await?;
        ctx.emit(events);
        fail_point("state.merged.after");
        ctx.delete_task_branch(&item.task_id).await;
    }
    Ok(true)
}

/// Sends the item's task back (to run again while it has retries, else failed) with `detail`.
pub(crate) async fn reject(
    ctx: &RunCtx,
    item: &MergeItemRow,
    to: MergeItemStatus,
    detail: &str,
) -> Result<(), EngineError> {
    let task_to = if ctx.task_row(&item.task_id).await?.may_retry() {
        TaskStatus::Pending
    } else {
        ctx.out_of_attempts()
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

/// Records the merge of `task_commit` found on the integration branch at `head` (the previous
/// engine moved the branch and died before it wrote that down).
pub(crate) async fn record_found_merge(
    ctx: &RunCtx,
    item: MergeItemRow,
    head: &Oid,
    task_commit: &Oid,
) -> Result<(), EngineError> {
    let (from, merge) = find_merge_of(ctx, head, task_commit).await?;
    record_merged(ctx, item, &from, &merge).await
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
