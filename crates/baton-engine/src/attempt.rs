//! One attempt at a task: a lane at the integration head, the agent under supervision, a commit
//! of what it left, territory enforcement, the task's gates, then the merge queue. The agent's
//! run and the check of its change are `candidate.rs` (a council's candidates share them);
//! this module decides what becomes of the task.

use crate::EngineError;
use crate::candidate::{AgentEnd, AgentRun, ChangeEnd, PassedChange, check_change, run_agent};
use crate::context::{AttemptStop, RunCtx};
use crate::failpoint::fail_point;
use crate::lanes::HeldLane;
use crate::review::ReviewVerdict;
use crate::routing::Dispatch;
use baton_git::Oid;
use baton_protocol::{TaskId, TaskStatus};
use baton_store::AttemptRow;
use std::sync::Arc;

/// How an attempt ended, as the driver needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptEnd {
    /// Passed its gates; a merge item is queued.
    Enqueued,
    /// Passed its gates; its risk makes its change wait for approval before delivery.
    AwaitingApproval,
    /// Failed; the task was sent back to pending (retry) or failed.
    Failed,
    /// Stopped by a cancel before its agent finished; the task is pending again.
    Interrupted,
    /// Stopped by a cancel after its agent finished: the attempt stays running with its lane,
    /// so that resume continues it without running the agent again.
    Suspended,
}

/// The most bytes of an attempt's diff kept as its artifact.
const MAX_DIFF_ARTIFACT: usize = 1024 * 1024;

/// Starts and runs a new attempt of `task`.
/// `dispatch` is the agent the driver chose for it (holding one of the agent's slots).
pub(crate) async fn run_attempt(
    ctx: Arc<RunCtx>,
    task: TaskId,
    dispatch: Dispatch,
) -> Result<AttemptEnd, EngineError> {
    let Some(mut spec) = ctx.plan.task(&task).cloned() else {
        return Err(EngineError::Inconsistent {
            run: ctx.id().clone(),
            what: format!("task {task} is in the database but not in the plan"),
        });
    };
    // `baton retry --prompt-file` gave its next attempts another prompt; they start a new
    // conversation with it rather than resume the old one.
    let new_prompt = ctx.task_row(&task).await?.prompt_override;
    let fresh = new_prompt.is_some();
    if let Some(prompt) = new_prompt {
        spec.prompt = Some(baton_core::Prompt::Text(prompt));
    }
    // A retry whose agent can resume its session prefers the lane that session worked in.
    let previous = match fresh {
        true => None,
        false => ctx.store.attempts(ctx.id(), Some(&task)).await?.pop(),
    };
    let resumable_lane = previous
        .as_ref()
        .filter(|p| p.session_id.is_some())
        .map(|p| p.lane.clone());
    let lane = ctx
        .acquire_lane_preferring(Some(&task), "task", resumable_lane.as_deref())
        .await?;
    let head = ctx.integration_head().await?;
    let log_dir = ctx.home.log_dir(ctx.id().as_str());
    let started = ctx
        .store
        .start_attempt(ctx.id(), &task, &lane.name, head.as_str(), &log_dir)
        .await;
    let (number, events) = match started {
        Ok(started) => started,
        // A person's control (skip, force-complete) moved the task between the driver's
        // read and this start: nothing started, and the control stands.
        Err(baton_store::StoreError::Stale { .. }) => {
            ctx.release_lane(&lane.name).await?;
            return Ok(AttemptEnd::Interrupted);
        }
        Err(error) => return Err(error.into()),
    };
    ctx.emit(events);
    let stop = ctx.attempt_stop(&task, number);
    let (chosen, slot) = match dispatch {
        Dispatch::Exec => (Ok(None), None),
        Dispatch::Agent(adapter, slot) => (Ok(Some(adapter)), Some(slot)),
        Dispatch::Refused(why) => (Err(why), None),
    };
    let branch = ctx.task_branch(&task);
    let ran = run_agent(
        &ctx,
        AgentRun {
            spec: &spec,
            number,
            lane: &lane,
            head: &head,
            branch: &branch,
            stop: &stop,
            previous: previous.as_ref(),
            chosen,
            slot,
            feedback: None,
        },
    )
    .await?;
    match ran {
        AgentEnd::Finished => after_agent(&ctx, &task, number, &lane, &head, &stop).await,
        AgentEnd::Failed(why) => fail(&ctx, &task, number, &lane, &why).await,
        AgentEnd::Interrupted(why) => interrupted(&ctx, &task, number, &lane, &why).await,
        AgentEnd::Stopped => stopped(&ctx, &task, number, &lane).await,
        AgentEnd::BudgetStopped => budget_stopped(&ctx, &task, number, &lane).await,
        AgentEnd::Cancelled => {
            interrupted(&ctx, &task, number, &lane, "cancelled while the agent ran").await
        }
    }
}

/// Continues an attempt whose agent had finished when the previous engine stopped.
pub(crate) async fn continue_attempt(
    ctx: Arc<RunCtx>,
    attempt: AttemptRow,
) -> Result<AttemptEnd, EngineError> {
    let lane = HeldLane {
        name: attempt.lane.clone(),
        path: ctx.pool.lane_path(&attempt.lane),
    };
    let start = ctx.oid(&attempt.start_commit)?;
    let stop = ctx.attempt_stop(&attempt.task_id, attempt.number);
    after_agent(&ctx, &attempt.task_id, attempt.number, &lane, &start, &stop).await
}

/// Commit, claims, gates, reviews, queue: everything after a successful agent. Idempotent, so
/// a resumed engine can run it again for an attempt whose agent had finished.
async fn after_agent(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
    start: &Oid,
    stop: &AttemptStop,
) -> Result<AttemptEnd, EngineError> {
    let Some(spec) = ctx.plan.task(task) else {
        return Err(EngineError::Inconsistent {
            run: ctx.id().clone(),
            what: format!("task {task} is not in the plan"),
        });
    };
    let passed = match check_change(ctx, spec, number, lane, start, stop).await? {
        ChangeEnd::Passed(passed) => passed,
        ChangeEnd::Failed(why) => return fail(ctx, task, number, lane, &why).await,
        ChangeEnd::Stopped => return stopped(ctx, task, number, lane).await,
        ChangeEnd::Suspended => return Ok(AttemptEnd::Suspended),
    };
    match &passed.review {
        None | Some(ReviewVerdict::Approved) => {}
        Some(ReviewVerdict::Rejected(feedback)) => {
            return review_rejected(ctx, task, number, lane, feedback).await;
        }
        Some(ReviewVerdict::Failed(why)) => return fail(ctx, task, number, lane, why).await,
    }
    deliver(ctx, spec, number, lane, start, &passed).await
}

/// Sends attempt `number`'s passed change on: kept as the diff artifact, then held for a
/// person's approval when its risk asks for one, else queued for merge. The lane goes back to
/// the pool. A council's winner goes the same way.
pub(crate) async fn deliver(
    ctx: &RunCtx,
    spec: &baton_core::TaskSpec,
    number: u32,
    lane: &HeldLane,
    start: &Oid,
    passed: &PassedChange,
) -> Result<AttemptEnd, EngineError> {
    let task = &spec.id;
    let commit = &passed.commit;
    // The change that passed, kept as the attempt's diff artifact.
    let diff = ctx.git.diff_text(start, commit, MAX_DIFF_ARTIFACT).await?;
    crate::artifacts::keep_artifact(
        &ctx.store,
        &ctx.home,
        Some(ctx.id()),
        Some(task),
        baton_protocol::ArtifactKind::Diff,
        &diff,
    )
    .await?;

    if crate::approval_risk::hold_for_delivery(ctx, spec, number, commit.as_str(), &passed.changed)
        .await?
    {
        // The change stays on the task's branch; the lane goes back to the pool.
        match ctx.pool.release(&lane.name).await {
            Ok(()) => ctx.store.free_lane(&ctx.lane_repo, &lane.name).await?,
            Err(_) => ctx.release_lane(&lane.name).await?,
        }
        return Ok(AttemptEnd::AwaitingApproval);
    }

    // Reset the lane before the task queues, so this git work does not compete with the
    // merge and the dispatch of dependents that follow; the lane stays held by the attempt in
    // the database until the task is queued, so a crash here still continues the attempt.
    let reset = ctx.pool.release(&lane.name).await;
    fail_point("state.enqueue.before");
    let (_item, events) = ctx
        .store
        .enqueue_attempt(ctx.id(), task, number, commit.as_str())
        .await?;
    ctx.emit(events);
    fail_point("state.enqueue.after");
    match reset {
        Ok(()) => ctx.store.free_lane(&ctx.lane_repo, &lane.name).await?,
        Err(_) => ctx.release_lane(&lane.name).await?,
    }
    Ok(AttemptEnd::Enqueued)
}

/// Ends the attempt as failed and returns its lane. The task retries while it has failures
/// left; after the last it climbs the escalation ladder, and is failed (or needs a person)
/// at its top.
async fn fail(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
    why: &str,
) -> Result<AttemptEnd, EngineError> {
    let may_retry = ctx.task_row(task).await?.may_retry();
    // Out of attempts on its agent: the task climbs the escalation ladder (a fallback agent,
    // then a council) before it needs a person or fails.
    let rung = match may_retry {
        true => None,
        false => ctx.next_rung(task, number).await?,
    };
    let events = match rung {
        Some((escalation, because)) => {
            ctx.store
                .escalate_attempt(ctx.id(), task, number, why, &escalation, &because)
                .await?
        }
        None => {
            let task_to = match may_retry {
                true => TaskStatus::Pending,
                false => ctx.out_of_attempts(),
            };
            ctx.store
                .fail_attempt(ctx.id(), task, number, why, task_to)
                .await?
        }
    };
    ctx.emit(events);
    ctx.release_lane(&lane.name).await?;
    Ok(AttemptEnd::Failed)
}

/// Ends an attempt whose change reviewers rejected: while the task has review iterations
/// left, it goes back to its implementer with the reports as feedback without using a retry;
/// after the last, the rejection is a failure like any other (retries, then the escalation
/// ladder).
async fn review_rejected(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
    feedback: &str,
) -> Result<AttemptEnd, EngineError> {
    let rejections = ctx.store.rejected_attempts(ctx.id(), task).await?;
    let allowed = ctx.review.as_ref().map_or(1, |r| r.max_iterations);
    if rejections >= allowed {
        let why = format!(
            "{feedback}\n(rejected {rejections} times, the most `[review] max_iterations` allows)"
        );
        return fail(ctx, task, number, lane, &why).await;
    }
    // A workflow template's `iteration: pause`: a person reads the reports before the change
    // goes back (`baton retry RUN TASK`).
    let task_to = match ctx.review.as_ref().is_some_and(|r| r.pause_on_rejection) {
        true => TaskStatus::NeedsHuman,
        false => TaskStatus::Pending,
    };
    let events = ctx
        .store
        .reject_reviewed_attempt(ctx.id(), task, number, feedback, task_to)
        .await?;
    ctx.emit(events);
    ctx.release_lane(&lane.name).await?;
    Ok(AttemptEnd::Failed)
}

/// Ends an attempt as interrupted (it uses no retry; the task runs again) and returns its lane.
async fn interrupted(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
    why: &str,
) -> Result<AttemptEnd, EngineError> {
    let events = ctx
        .store
        .interrupt_attempt(ctx.id(), task, number, why)
        .await?;
    ctx.emit(events);
    ctx.release_lane(&lane.name).await?;
    Ok(AttemptEnd::Interrupted)
}

/// Ends an attempt a person stopped (`baton stop`): it counts as a failure, so the task runs
/// again while it has retries left, and is failed after the last.
async fn stopped(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
) -> Result<AttemptEnd, EngineError> {
    let task_to = if ctx.task_row(task).await?.may_retry() {
        TaskStatus::Pending
    } else {
        ctx.out_of_attempts()
    };
    let why = format!(
        "attempt {number} was stopped by `baton stop {} {task}`",
        ctx.id()
    );
    let events = ctx
        .store
        .stop_attempt(ctx.id(), task, number, &why, task_to)
        .await?;
    ctx.emit(events);
    ctx.release_lane(&lane.name).await?;
    Ok(AttemptEnd::Failed)
}

/// Ends an attempt whose agent a budget stopped: its work so far is kept on the branch
/// `baton/<run>/partial/<task>-<attempt>` (not merged), the attempt is interrupted (it uses no
/// retry) and the task waits for the run to be resumed.
async fn budget_stopped(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
) -> Result<AttemptEnd, EngineError> {
    let reason = ctx.budget_pause_reason().unwrap_or_default();
    let partial = format!("baton/{}/partial/{task}-{number}", ctx.id());
    let kept = match ctx.git.is_dirty(&lane.path).await {
        Ok(true) => {
            let message = format!(
                "baton: {task}: partial work of attempt {number} (stopped by the budget)\n\n\
                 Baton-Run: {}\nBaton-Task: {task}\nBaton-Attempt: {number}\n",
                ctx.id()
            );
            match ctx.git.commit_all(&lane.path, &message).await {
                Ok(commit) => ctx
                    .git
                    .update_ref(&format!("refs/heads/{partial}"), &commit, None)
                    .await
                    .map(|()| format!("; its work so far is on branch {partial}")),
                Err(error) => Err(error),
            }
        }
        Ok(false) => Ok(String::new()),
        Err(error) => Err(error),
    };
    let kept = kept.unwrap_or_else(|error| format!("; its work could not be kept: {error}"));
    let why = format!("stopped mid-attempt by the budget: {reason}{kept}");
    interrupted(ctx, task, number, lane, &why).await
}
