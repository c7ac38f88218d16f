//! The run loop: start ready tasks in free lanes, feed finished ones to the merge queue, block
//! the dependents of failed tasks, and stop when every task is merged, failed or blocked, or
//! when the run is cancelled.
//!
//! Everything the loop starts is owned: attempts live in a [`JoinSet`], the merge worker in a
//! join handle, and every way out of the loop (settled, cancelled, an error, a panicking
//! attempt) goes through one wind-down that cancels and joins them all before the caller
//! releases the run's lease. No attempt outlives the drive that started it.

use crate::EngineError;
use crate::attempt::{AttemptEnd, continue_attempt, run_attempt};
use crate::context::RunCtx;
use crate::merge_queue::merge_worker;
use crate::routing::Dispatch;
use baton_core::{next_to_start, tasks_to_block};
use baton_protocol::{TaskId, TaskStatus};
use baton_store::AttemptRow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::{JoinError, JoinSet};

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopEnd {
    /// Every task is merged, failed or blocked.
    Settled,
    /// The run was cancelled; everything stopped and can be resumed.
    Cancelled,
    /// A budget would be exceeded: no attempt starts, the running ones ended; resumable.
    BudgetExceeded,
    /// Nothing can go on until a person approves or rejects the tasks that wait; resumable.
    AwaitingApproval,
    /// `baton pause`: nothing new started, and what ran has ended; `baton resume` continues.
    Paused,
    /// Nothing can go on until a person decides the `needs_human` tasks; resumable.
    NeedsHuman,
}

/// How often the loop looks for `baton stop` requests.
const STOP_POLL: Duration = Duration::from_millis(250);
/// How many times a busy database is asked again before the run gives up.
const STORE_RETRIES: u32 = 20;

/// How an attempt starts: a new one with its agent, or one whose agent had finished before
/// the previous engine stopped.
enum Start {
    New(Dispatch),
    Continue(Box<AttemptRow>),
    /// The task's council (`[escalation] council`): several agents at once.
    Council,
}

/// What the loop owns: the attempts it started (by task) and the merge worker.
struct Owned {
    attempts: JoinSet<Result<AttemptEnd, EngineError>>,
    running: HashMap<tokio::task::Id, TaskId>,
    merger: Option<tokio::task::JoinHandle<Result<(), EngineError>>>,
}

impl Owned {
    fn spawn_attempt(&mut self, ctx: &Arc<RunCtx>, task: TaskId, start: Start) {
        let ctx = Arc::clone(ctx);
        let id = task.clone();
        let handle = self.attempts.spawn(async move {
            match start {
                Start::Continue(attempt) => continue_attempt(ctx, *attempt).await,
                Start::New(dispatch) => run_attempt(ctx, id, dispatch).await,
                Start::Council => crate::council::run_council(ctx, id).await,
            }
        });
        self.running.insert(handle.id(), task);
    }

    fn is_running(&self, task: &TaskId) -> bool {
        self.running.values().any(|t| t == task)
    }

    /// The result of a joined attempt; a panic becomes an error naming the task.
    fn settle(
        &mut self,
        ctx: &RunCtx,
        joined: Result<(tokio::task::Id, Result<AttemptEnd, EngineError>), JoinError>,
    ) -> Result<AttemptEnd, EngineError> {
        match joined {
            Ok((id, result)) => {
                self.running.remove(&id);
                result
            }
            Err(join) => {
                let task = self
                    .running
                    .remove(&join.id())
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "?".into());
                Err(EngineError::Inconsistent {
                    run: ctx.id().clone(),
                    what: format!(
                        "the attempt of task {task} stopped abnormally ({join}); `baton resume` \
                         runs it again"
                    ),
                })
            }
        }
    }
}

/// Drives the run until it settles or is cancelled, then winds everything down.
pub(crate) async fn run_loop(
    ctx: Arc<RunCtx>,
    continuing: Vec<AttemptRow>,
) -> Result<LoopEnd, EngineError> {
    let (merged_tx, mut merged_rx) = mpsc::channel::<()>(16);
    let wake = Arc::new(Notify::new());
    let stop_merging = ctx.cancel.child_token();
    let mut owned = Owned {
        attempts: JoinSet::new(),
        running: HashMap::new(),
        merger: Some(tokio::spawn(merge_worker(
            Arc::clone(&ctx),
            Arc::clone(&wake),
            merged_tx,
            stop_merging.clone(),
        ))),
    };
    let driven = match ctx.check_agent_health().await {
        Ok(()) => drive(&ctx, &mut owned, continuing, &wake, &mut merged_rx).await,
        Err(error) => Err(error),
    };

    // One wind-down for every way out: an error or a panic cancels the run's work (it stays
    // resumable), then every attempt and the merge worker are joined.
    if driven.is_err() {
        ctx.cancel.cancel();
    }
    stop_merging.cancel();
    let mut errors = Vec::new();
    while let Some(joined) = owned.attempts.join_next_with_id().await {
        if let Err(error) = owned.settle(&ctx, joined) {
            errors.push(error);
        }
    }
    if let Some(merger) = owned.merger.take() {
        match merger.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => errors.push(error),
            Err(join) => errors.push(EngineError::Inconsistent {
                run: ctx.id().clone(),
                what: format!("the merge queue stopped abnormally: {join}"),
            }),
        }
    }
    match driven {
        Err(error) => {
            for other in errors {
                tracing::warn!("also while winding down: {other}");
            }
            Err(error)
        }
        Ok(end) => match errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(end),
        },
    }
}

/// The loop itself. Returns early on the first error; the caller winds down.
async fn drive(
    ctx: &Arc<RunCtx>,
    owned: &mut Owned,
    continuing: Vec<AttemptRow>,
    wake: &Arc<Notify>,
    merged_rx: &mut mpsc::Receiver<()>,
) -> Result<LoopEnd, EngineError> {
    for attempt in continuing {
        owned.spawn_attempt(
            ctx,
            attempt.task_id.clone(),
            Start::Continue(Box::new(attempt)),
        );
    }
    wake.notify_one();
    let mut stop_poll = tokio::time::interval(STOP_POLL);
    stop_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lanes = usize::try_from(ctx.run.lanes).unwrap_or(1).max(1);
    loop {
        if ctx.cancel.is_cancelled() {
            return Ok(LoopEnd::Cancelled);
        }
        let rows = with_retry(ctx, || ctx.store.tasks(ctx.id())).await?;
        // Waits past `[risk] approval_timeout` are rejected (or warned about) first.
        crate::approval_risk::expire_waits(ctx).await?;
        let mut status: BTreeMap<TaskId, TaskStatus> =
            rows.iter().map(|t| (t.id.clone(), t.status)).collect();
        // `baton retry --agent` and `baton reassign` move a task's next attempts.
        let council_due: std::collections::BTreeSet<TaskId> = rows
            .iter()
            .filter(|t| t.council_due)
            .map(|t| t.id.clone())
            .collect();
        let reassigned: BTreeMap<TaskId, String> = rows
            .into_iter()
            .filter_map(|t| Some((t.id, t.agent_override?)))
            .collect();
        block_dependents_of_failures(ctx, &mut status).await?;
        // A task spawned a moment ago may not have written its start yet.
        for task in owned.running.values() {
            if status.get(task) == Some(&TaskStatus::Pending) {
                status.insert(task.clone(), TaskStatus::Running);
            }
        }
        let settled = status.values().all(|s| baton_core::task_is_terminal(*s));
        if settled && owned.running.is_empty() {
            return Ok(LoopEnd::Settled);
        }
        // Read on every pass, before anything starts: a pause a person asked for before this
        // decision is honoured by it (a poll could let one more task start first).
        let paused_by_person = with_retry(ctx, || ctx.store.pause_requested(ctx.id())).await?;
        let paused = ctx.budget_paused() || paused_by_person;
        // A task waiting in the merge queue keeps its lane's slot until it merges. Its
        // dependents (often the critical path) become ready only then, tens of milliseconds
        // after the lane itself is free; handing the slot at once to whatever else is ready
        // would let a lower-priority task take it from them (a list-scheduling anomaly that
        // cost the scheduling bench several percent).
        // (One whose attempt has queued it but not yet reported back is running already.)
        // Only a task something waits for keeps its slot: with none depending on it, holding
        // the slot protects nothing and would cap the merge queue's batches at the lane count.
        let holds_slot = |id: &TaskId| {
            ctx.dag
                .dependents(id)
                .iter()
                .any(|d| status.get(d) == Some(&TaskStatus::Pending))
        };
        let queued = status
            .iter()
            .filter(|(id, s)| **s == TaskStatus::Queued && !owned.is_running(id))
            .count();
        let holding = status
            .iter()
            .filter(|(id, s)| **s == TaskStatus::Queued && !owned.is_running(id) && holds_slot(id))
            .count();
        // A budget paused the run: nothing new starts; it ends once its attempts have and what
        // they queued has merged (that work is paid for).
        if paused && owned.running.is_empty() && queued == 0 {
            if ctx.budget_paused() {
                return Ok(LoopEnd::BudgetExceeded);
            }
            return Ok(LoopEnd::Paused);
        }
        let free = lanes.saturating_sub(owned.running.len() + holding);
        let mut started = 0;
        if free > 0 && !paused {
            let approvals = with_retry(ctx, || ctx.store.approvals(ctx.id())).await?;
            // A task whose agents are all at their `max_concurrency` waits for a slot (a
            // finished agent frees one; the stop poll looks again) and the next task may go.
            for id in next_to_start(&ctx.plan, &ctx.dag, &status, ctx.plan.tasks.len()) {
                let Some(spec) = ctx.plan.task(&id) else {
                    continue;
                };
                // A council waits until none of its members is at its `max_concurrency`, then
                // takes one slot of each itself; it counts as one running task.
                if council_due.contains(&id) {
                    if ctx.council_waits(spec) {
                        continue;
                    }
                    if request_council_approval(ctx, spec, &approvals).await? {
                        status.insert(id, TaskStatus::AwaitingApproval);
                        continue;
                    }
                    owned.spawn_attempt(ctx, id, Start::Council);
                    started += 1;
                    if started == free {
                        break;
                    }
                    continue;
                }
                let moved_to = reassigned.get(&id).cloned().or_else(|| {
                    approvals
                        .iter()
                        .find(|approval| approval.task_id == id && approval.approved)
                        .and_then(|approval| approval.agent.clone())
                });
                let Some(dispatch) = ctx.dispatch(spec, moved_to.as_deref()) else {
                    continue;
                };
                if request_approval(ctx, spec, &dispatch, &approvals).await? {
                    status.insert(id, TaskStatus::AwaitingApproval);
                    continue;
                }
                owned.spawn_attempt(ctx, id, Start::New(dispatch));
                started += 1;
                if started == free {
                    break;
                }
            }
        }
        // Nothing runs, nothing is queued, nothing could start: what is left waits for a person
        // (and the run pauses, unless a timeout is to reject what waits: then it stays live).
        let awaiting = status.values().any(|s| *s == TaskStatus::AwaitingApproval);
        if awaiting
            && started == 0
            && owned.running.is_empty()
            && queued == 0
            && !crate::approval_risk::waits_live(ctx)
        {
            return Ok(LoopEnd::AwaitingApproval);
        }
        // The same when what is left waits on tasks out of attempts that need a person.
        let needs_human = status.values().any(|s| *s == TaskStatus::NeedsHuman);
        if needs_human && started == 0 && owned.running.is_empty() && queued == 0 {
            return Ok(LoopEnd::NeedsHuman);
        }
        tokio::select! {
            Some(joined) = owned.attempts.join_next_with_id() => {
                if owned.settle(ctx, joined)? == AttemptEnd::Enqueued {
                    wake.notify_one();
                }
            }
            Some(()) = merged_rx.recv() => {}
            joined = async {
                match owned.merger.as_mut() {
                    Some(merger) => merger.await,
                    None => std::future::pending().await,
                }
            } => {
                owned.merger = None;
                match joined {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Err(error),
                    Err(join) => {
                        return Err(EngineError::Inconsistent {
                            run: ctx.id().clone(),
                            what: format!("the merge queue stopped abnormally: {join}"),
                        });
                    }
                }
            }
            _ = stop_poll.tick() => {
                // A delivery approved by a person queued a task no attempt reported.
                if queued > 0 {
                    wake.notify_one();
                }
                for (task, number) in with_retry(ctx, || ctx.store.stop_requests(ctx.id())).await? {
                    ctx.request_attempt_stop(&task, number);
                }

            }
            _ = ctx.cancel.cancelled() => {}
        }
    }
}

/// Asks a person to approve the council due on `spec` when its candidates' estimates
/// together are past the approval threshold; true when it now waits.
async fn request_council_approval(
    ctx: &RunCtx,
    spec: &baton_core::TaskSpec,
    approvals: &[baton_store::Approval],
) -> Result<bool, EngineError> {
    let members = ctx.council_members(spec);
    let Some((total, threshold)) = ctx
        .council_approval_needed(spec, &members, approvals)
        .await?
    else {
        return Ok(false);
    };
    let names: Vec<&str> = members.iter().map(|m| m.name()).collect();
    let request = baton_store::ApprovalRequest {
        agent: format!("council: {}", names.join(", ")),
        estimate: total.micros(),
        threshold: threshold.micros(),
        risk: None,
        reason: format!(
            "cost: a council of {} agents ({}) is estimated at {total} together, past the \
             approval threshold of {threshold}",
            names.len(),
            names.join(", ")
        ),
        message: format!(
            "task {} goes to a council of {} ({}) estimated at {total}, past the approval \
             threshold of {threshold}; `baton approve {} {}` holds it (or `baton reject ... \
             --why ...`)",
            spec.id,
            names.len(),
            names.join(", "),
            ctx.id(),
            spec.id
        ),
    };
    ask(ctx, spec, &request).await
}

/// Moves a task whose risk is high, or whose attempt is estimated past the approval threshold,
/// to `awaiting_approval` (its agent's slot is given back); returns whether it did.
async fn request_approval(
    ctx: &RunCtx,
    spec: &baton_core::TaskSpec,
    dispatch: &Dispatch,
    approvals: &[baton_store::Approval],
) -> Result<bool, EngineError> {
    let agent = match dispatch {
        Dispatch::Agent(adapter, _) => adapter.name(),
        _ => spec.agent.as_str(),
    };
    if let Some(request) = ctx.risk_request(spec, agent, approvals) {
        return ask(ctx, spec, &request).await;
    }
    let Dispatch::Agent(adapter, _) = dispatch else {
        return Ok(false);
    };
    let Some((estimate, threshold)) = ctx.approval_needed(spec, *adapter, approvals).await? else {
        return Ok(false);
    };
    let message = format!(
        "task {} on {} is estimated at {}, past the approval threshold of {}; `baton approve {} \
         {}` (or `--agent NAME` for another agent, or `baton reject ... --why ...`)",
        spec.id,
        adapter.name(),
        crate::budget_guard::describe_estimate(&estimate),
        threshold,
        ctx.id(),
        spec.id
    );
    let request = baton_store::ApprovalRequest {
        agent: adapter.name().to_owned(),
        estimate: estimate.amount.usd.micros(),
        threshold: threshold.micros(),
        risk: None,
        reason: format!(
            "cost: estimated at {}, past the approval threshold of {threshold}",
            crate::budget_guard::describe_estimate(&estimate)
        ),
        message,
    };
    ask(ctx, spec, &request).await
}

/// Records `request` for `spec` (the task turns `awaiting_approval`); always true.
async fn ask(
    ctx: &RunCtx,
    spec: &baton_core::TaskSpec,
    request: &baton_store::ApprovalRequest,
) -> Result<bool, EngineError> {
    let events = ctx
        .store
        .request_approval(ctx.id(), &spec.id, request)
        .await?;
    ctx.emit(events);
    Ok(true)
}

/// Blocks the pending tasks whose dependency failed or is blocked.
async fn block_dependents_of_failures(
    ctx: &RunCtx,
    status: &mut BTreeMap<TaskId, TaskStatus>,
) -> Result<(), EngineError> {
    for id in tasks_to_block(&ctx.plan, &ctx.dag, status) {
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
        let moved = ctx
            .store
            .transition_task(
                ctx.id(),
                &id,
                TaskStatus::Pending,
                TaskStatus::Blocked,
                Some(format!("dependency {failed_dep} did not integrate")),
                None,
            )
            .await;
        match moved {
            Ok(event) => {
                ctx.emit([event]);
                status.insert(id, TaskStatus::Blocked);
            }
            // A person's control (skip, force-complete) moved it first: theirs stands.
            Err(baton_store::StoreError::Stale { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Runs a store read again while the database says it is busy or locked (another process
/// writing), instead of stopping the run for it.
async fn with_retry<T, F, Fut>(ctx: &RunCtx, mut read: F) -> Result<T, EngineError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, baton_store::StoreError>>,
{
    let mut tries = 0;
    loop {
        match read().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_retryable() && tries < STORE_RETRIES => {
                tries += 1;
                tracing::warn!("run {}: database busy ({error}); trying again", ctx.id());
                tokio::time::sleep(Duration::from_millis(50 * u64::from(tries))).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}
