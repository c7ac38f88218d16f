//! The run loop: start ready tasks in free lanes, feed finished ones to the merge queue, block
//! the dependents of failed tasks, and stop when every task is merged, failed or blocked, or
//! when the run is cancelled.

use crate::EngineError;
use crate::attempt::{AttemptEnd, continue_attempt, run_attempt};
use crate::context::RunCtx;
use crate::merge_queue::merge_worker;
use baton_core::{next_to_start, tasks_to_block};
use baton_protocol::{TaskId, TaskStatus};
use baton_store::AttemptRow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopEnd {
    /// Every task is merged, failed or blocked.
    Settled,
    /// The run was cancelled; everything stopped and can be resumed.
    Cancelled,
}

struct AttemptDone {
    task: TaskId,
    result: Result<AttemptEnd, EngineError>,
}

fn spawn_attempt(
    ctx: &Arc<RunCtx>,
    task: TaskId,
    continuing: Option<AttemptRow>,
    done: &mpsc::UnboundedSender<AttemptDone>,
) {
    let ctx = Arc::clone(ctx);
    let done = done.clone();
    tokio::spawn(async move {
        let result = match continuing {
            Some(attempt) => continue_attempt(ctx, attempt).await,
            None => run_attempt(ctx, task.clone()).await,
        };
        let _ = done.send(AttemptDone { task, result });
    });
}

/// Drives the run until it settles or is cancelled.
pub(crate) async fn run_loop(
    ctx: Arc<RunCtx>,
    continuing: Vec<AttemptRow>,
) -> Result<LoopEnd, EngineError> {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<AttemptDone>();
    let (merged_tx, mut merged_rx) = mpsc::unbounded_channel::<()>();
    let wake = Arc::new(Notify::new());
    let stop_merging = ctx.cancel.child_token();
    let mut merger = tokio::spawn(merge_worker(
        Arc::clone(&ctx),
        Arc::clone(&wake),
        merged_tx,
        stop_merging.clone(),
    ));
    let mut merger_done = false;

    let mut running: HashSet<TaskId> = HashSet::new();
    for attempt in continuing {
        running.insert(attempt.task_id.clone());
        spawn_attempt(&ctx, attempt.task_id.clone(), Some(attempt), &done_tx);
    }
    wake.notify_one();

    let lanes = usize::try_from(ctx.run.lanes).unwrap_or(1).max(1);
    let mut fatal: Option<EngineError> = None;
    let end = loop {
        if ctx.cancel.is_cancelled() {
            break LoopEnd::Cancelled;
        }
        let mut status: BTreeMap<TaskId, TaskStatus> = ctx
            .store
            .tasks(ctx.id())
            .await?
            .into_iter()
            .map(|t| (t.id, t.status))
            .collect();
        for id in tasks_to_block(&ctx.plan, &ctx.dag, &status) {
            let failed_dep = ctx
                .dag
                .deps(&id)
                .iter()
                .find(|d| {
                    matches!(
                        status.get(*d),
                        Some(TaskStatus::Failed | TaskStatus::Blocked)
                    )
                })
                .map(|d| d.to_string())
                .unwrap_or_default();
            let event = ctx
                .store
                .transition_task(
                    ctx.id(),
                    &id,
                    TaskStatus::Pending,
                    TaskStatus::Blocked,
                    Some(format!("dependency {failed_dep} did not integrate")),
                    None,
                )
                .await?;
            ctx.emit([event]);
            status.insert(id, TaskStatus::Blocked);
        }
        // A task spawned a moment ago may not have written its start yet.
        for id in &running {
            if status.get(id) == Some(&TaskStatus::Pending) {
                status.insert(id.clone(), TaskStatus::Running);
            }
        }
        let settled = status.values().all(|s| {
            matches!(
                s,
                TaskStatus::Merged | TaskStatus::Failed | TaskStatus::Blocked
            )
        });
        if settled && running.is_empty() {
            break LoopEnd::Settled;
        }
        // A task waiting in the merge queue keeps its lane's slot until it merges. Its
        // dependents (often the critical path) become ready only then, tens of milliseconds
        // after the lane itself is free; handing the slot at once to whatever else is ready
        // would let a lower-priority task take it from them (a list-scheduling anomaly that
        // cost the scheduling bench several percent).
        // (One whose attempt has queued it but not yet reported back is in `running` already.)
        let queued = status
            .iter()
            .filter(|(id, s)| **s == TaskStatus::Queued && !running.contains(*id))
            .count();
        let free = lanes.saturating_sub(running.len() + queued);
        if free > 0 {
            for id in next_to_start(&ctx.plan, &ctx.dag, &status, free) {
                running.insert(id.clone());
                spawn_attempt(&ctx, id, None, &done_tx);
            }
        }
        tokio::select! {
            Some(done) = done_rx.recv() => {
                running.remove(&done.task);
                match done.result {
                    Ok(AttemptEnd::Enqueued) => wake.notify_one(),
                    Ok(_) => {}
                    Err(error) => {
                        fatal = Some(error);
                        ctx.cancel.cancel();
                    }
                }
            }
            Some(()) = merged_rx.recv() => {}
            joined = &mut merger, if !merger_done => {
                merger_done = true;
                match joined {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        fatal = Some(error);
                        ctx.cancel.cancel();
                    }
                    Err(join) => {
                        fatal = Some(EngineError::Inconsistent {
                            run: ctx.id().clone(),
                            what: format!("the merge queue stopped: {join}"),
                        });
                        ctx.cancel.cancel();
                    }
                }
            }
            _ = ctx.cancel.cancelled() => {}
        }
    };

    // Wind down: attempts see the cancel (or are all done), the merge queue stops.
    stop_merging.cancel();
    while !running.is_empty() {
        let Some(done) = done_rx.recv().await else {
            break;
        };
        running.remove(&done.task);
        if let Err(error) = done.result {
            fatal.get_or_insert(error);
        }
    }
    if !merger_done {
        match merger.await {
            Ok(Err(error)) => {
                fatal.get_or_insert(error);
            }
            Err(join) => {
                fatal.get_or_insert(EngineError::Inconsistent {
                    run: ctx.id().clone(),
                    what: format!("the merge queue stopped: {join}"),
                });
            }
            Ok(Ok(())) => {}
        }
    }
    match fatal {
        Some(error) => Err(error),
        None => Ok(end),
    }
}
