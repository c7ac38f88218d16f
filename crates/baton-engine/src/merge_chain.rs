//! Building a round of the merge queue: each stage's chain of merge commits (one per item, in
//! queue order, each conflict-checked with `merge-tree` on the tip before it), and gating the
//! stages' tips at once, one merge lane each.

use crate::EngineError;
use crate::context::RunCtx;
use crate::failpoint::fail_point;
use crate::gates::{GateFailure, GateSite, run_gates};
use crate::lanes::HeldLane;
use baton_core::{Gated, Stage};
use baton_git::{MergeCheck, Oid};
use baton_protocol::{MergeItemStatus, TaskStatus};
use baton_store::{MergeItemRow, MergeItemUpdate};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

/// A task whose branch conflicted this many times fails instead of running again.
pub(crate) const MAX_CONFLICTS: u32 = 3;

/// One item's link of a chain: the item (checking), its merge commit and the commit it was
/// made on.
pub(crate) struct Link {
    pub item: MergeItemRow,
    pub merge: Oid,
    pub parent: Oid,
    /// The merge commit's tree.
    pub tree: Oid,
}

/// A stage whose chain is built: gated on `tip` (= `base` when every item left it).
pub(crate) struct BuiltStage {
    pub depth: u32,
    pub stage: u32,
    pub base: Oid,
    pub tip: Oid,
    pub tree: Option<Oid>,
    pub links: Vec<Link>,
    /// The stored batch, once its gates started.
    pub batch: Option<i64>,
}

impl BuiltStage {
    /// The stage as the planner knows it, with only the items still in it.
    pub fn as_stage(&self) -> Stage<i64> {
        Stage {
            items: self.links.iter().map(|l| l.item.id).collect(),
            depth: self.depth,
        }
    }
}

/// What became of an item while its chain was built.
enum Placed {
    /// It is in the chain.
    Linked(Box<Link>),
    /// It left the queue (merged already, conflicted with the head, blamed for tampering).
    Left,
    /// It conflicts only with an item ahead of it in this round: it waits for them.
    Deferred,
}

/// Builds every stage's chain on the one before it, starting at `head`. Items are moved to
/// `checking` (with `head` as their checked head) as they are placed.
pub(crate) async fn build_round(
    ctx: &RunCtx,
    head: &Oid,
    stages: Vec<Stage<i64>>,
    rows: &std::collections::BTreeMap<i64, MergeItemRow>,
) -> Result<Vec<BuiltStage>, EngineError> {
    let mut built = Vec::new();
    let mut base = head.clone();
    for (index, stage) in stages.into_iter().enumerate() {
        let mut tip = base.clone();
        let mut tree = None;
        let mut links = Vec::new();
        for id in stage.items {
            let Some(row) = rows.get(&id) else { continue };
            match place(ctx, head, &tip, row.clone()).await? {
                Placed::Linked(link) => {
                    tip = link.merge.clone();
                    tree = Some(link.tree.clone());
                    links.push(*link);
                }
                Placed::Left | Placed::Deferred => {}
            }
        }
        built.push(BuiltStage {
            depth: stage.depth,
            stage: u32::try_from(index).unwrap_or(u32::MAX),
            base: base.clone(),
            tip: tip.clone(),
            tree,
            links,
            batch: None,
        });
        base = tip;
    }
    fail_point("batch.built.after");
    Ok(built)
}

/// Checks one item against the tip of its chain and, when it merges cleanly, makes its merge
/// commit there.
async fn place(
    ctx: &RunCtx,
    head: &Oid,
    tip: &Oid,
    item: MergeItemRow,
) -> Result<Placed, EngineError> {
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
        crate::merge_queue::reject(ctx, &item, MergeItemStatus::Failed, &why).await?;
        return Ok(Placed::Left);
    }
    // Merged already, by an engine that died before it could record it: record it now.
    if checked_before && ctx.git.is_ancestor(&task_commit, head).await? {
        crate::merge_queue::record_found_merge(ctx, item, head, &task_commit).await?;
        return Ok(Placed::Left);
    }
    fail_point("merge.commit.before");
    let tree = match ctx.git.merge_tree(tip, &task_commit).await? {
        MergeCheck::Clean { tree } => tree,
        MergeCheck::Conflicted { paths, .. } => {
            // Against an item ahead of it that has not merged yet, it waits for that one's
            // verdict instead of running again: the item ahead may still fail its gates.
            if tip != head
                && matches!(
                    ctx.git.merge_tree(head, &task_commit).await?,
                    MergeCheck::Clean { .. }
                )
            {
                ctx.move_merge_item(
                    &item,
                    MergeItemStatus::Queued,
                    MergeItemUpdate {
                        detail: Some(format!(
                            "conflicts with an item ahead of it in the queue ({}); checked again \
                             once that one is merged or rejected",
                            paths.join(", ")
                        )),
                        ..MergeItemUpdate::default()
                    },
                )
                .await?;
                return Ok(Placed::Deferred);
            }
            let detail = crate::conflict::conflict_detail(ctx, &item, head, &paths).await;
            let row = ctx.task_row(&item.task_id).await?;
            let task_to = if row.conflicts + 1 < MAX_CONFLICTS {
                TaskStatus::Pending
            } else {
                ctx.out_of_attempts()
            };
            let events = ctx
                .store
                .reject_merge(&item, MergeItemStatus::Conflicted, &detail, task_to)
                .await?;
            ctx.emit(events);
            return Ok(Placed::Left);
        }
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
        .commit_tree(&tree, &[tip.clone(), task_commit], &message)
        .await?;
    fail_point("merge.commit.after");
    Ok(Placed::Linked(Box::new(Link {
        item,
        merge,
        parent: tip.clone(),
        tree,
    })))
}

/// How one stage's gates ended, with the failure when they failed.
pub(crate) struct StageGated {
    pub gated: Gated,
    pub failure: Option<GateFailure>,
}

/// Gates every stage's tip at once, stage k in merge lane k (taken from the pool as needed and
/// kept in `lanes`). When a stage fails, the stages behind it are cancelled: they were built on
/// its tip. A stage with no items, or a run with no merge gates, passes without a process.
pub(crate) async fn gate_round(
    ctx: &RunCtx,
    built: &mut [BuiltStage],
    lanes: &mut Vec<HeldLane>,
) -> Result<Vec<StageGated>, EngineError> {
    let mut results: Vec<StageGated> = built
        .iter()
        .map(|_| StageGated {
            gated: Gated::NotRun,
            failure: None,
        })
        .collect();
    let cancels: Vec<CancellationToken> = built.iter().map(|_| ctx.cancel.child_token()).collect();
    let mut running = FuturesUnordered::new();
    for (index, stage) in built.iter_mut().enumerate() {
        let Some(last) = stage.links.last() else {
            results[index].gated = Gated::Passed;
            continue;
        };
        if ctx.plan.merge_gates.is_empty() {
            results[index].gated = Gated::Passed;
            continue;
        }
        let items: Vec<(i64, baton_protocol::TaskId)> = stage
            .links
            .iter()
            .map(|l| (l.item.id, l.item.task_id.clone()))
            .collect();
        let tree = stage
            .tree
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        let batch = ctx
            .store
            .create_merge_batch(baton_store::NewBatch {
                run: ctx.id(),
                stage: stage.stage,
                depth: stage.depth,
                base: stage.base.as_str(),
                tip: stage.tip.as_str(),
                tree: &tree,
                items: &items,
            })
            .await?;
        stage.batch = Some(batch);
        if lanes.len() <= index {
            lanes.push(ctx.acquire_lane(Some(&last.item.task_id), "merge").await?);
        }
        let lane = lanes[index].clone();
        if stage.depth > 0 {
            fail_point("bisect.gate.before");
        }
        let task = last.item.task_id.clone();
        let site = GateSite::Batch {
            batch,
            item: last.item.id,
        };
        let tip = stage.tip.clone();
        let tree = stage.tree.clone();
        let cancel = cancels[index].clone();
        running.push(async move {
            ctx.pool.prepare(&lane.name, None, &tip).await?;
            let failure = run_gates(
                ctx,
                &lane.path,
                &task,
                &ctx.plan.merge_gates,
                site,
                tree.as_ref(),
                &cancel,
            )
            .await?;
            Ok::<_, EngineError>((index, failure, cancel.is_cancelled()))
        });
    }
    while let Some(done) = running.next().await {
        let (index, failure, cancelled) = done?;
        results[index] = match (cancelled, failure) {
            (true, _) => StageGated {
                gated: Gated::NotRun,
                failure: None,
            },
            (false, Some(failure)) => {
                // Everything behind a failing tip was built on it.
                for later in cancels.iter().skip(index + 1) {
                    later.cancel();
                }
                StageGated {
                    gated: Gated::Failed,
                    failure: Some(failure),
                }
            }
            (false, None) => {
                if index > 0 {
                    fail_point("speculation.passed.after");
                }
                StageGated {
                    gated: Gated::Passed,
                    failure: None,
                }
            }
        };
    }
    Ok(results)
}
