//! One attempt at a task: a lane at the integration head, the agent under supervision, a commit
//! of what it left, territory enforcement, the task's gates, then the merge queue.

use crate::EngineError;
use crate::agent_run::{self, AgentStream};
use crate::context::{AttemptStop, RunCtx};
use crate::failpoint::fail_point;
use crate::gates::{GateSite, run_gates};
use crate::lanes::HeldLane;
use crate::review::ReviewVerdict;
use crate::routing::{self, Choice, Dispatch};
use crate::supervise::{Lines, run_supervised};
use baton_agents::{AgentAdapter, AgentRequest, exec_command};
use baton_git::Oid;
use baton_protocol::{EndReason, TaskId, TaskStatus};
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

/// The commit message baton writes for what an agent left.
fn commit_message(ctx: &RunCtx, task: &TaskId, title: &str, attempt: u32) -> String {
    format!(
        "baton: {task}: {title}\n\nBaton-Run: {}\nBaton-Task: {task}\nBaton-Attempt: {attempt}\n",
        ctx.id()
    )
}

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

    fail_point("lane.prepare.before");
    let branch = ctx.task_branch(&task);
    // Free lanes were left clean by `release_lane`, so the fast path applies; it falls back
    // to a full prepare for a new lane.
    // The refs are read beside the lane's checkout (two git processes at once): this is the
    // path from a dependency's merge to the next agent's start.
    let (prepared, refs_before) = tokio::join!(
        ctx.pool.prepare_released(&lane.name, Some(&branch), &head),
        ctx.snapshot_refs()
    );
    if let Err(error) = prepared {
        let why = format!("baton could not prepare lane {}: {error}", lane.name);
        return fail(&ctx, &task, number, &lane, &why).await;
    }
    fail_point("lane.prepare.after");
    let refs_before = refs_before?;

    let feedback_file = write_feedback(&ctx, &task, number).await?;
    let log_file = baton_store::attempt_log_path(&log_dir, &task, number);
    let cell = ctx
        .sandbox
        .cell(&lane.path, &format!("{task}.{number}"))
        .await?;
    let (chosen, slot) = match dispatch {
        Dispatch::Exec => (Ok(None), None),
        Dispatch::Agent(adapter, slot) => (Ok(Some(adapter)), Some(slot)),
        Dispatch::Refused(why) => (Err(why), None),
    };
    // An AI attempt reserves its estimated maximum first; one that cannot does not start.
    let mut live = None;
    let mut budget_left = None;
    if let Ok(Some(adapter)) = chosen {
        let model = agent_run::model_of(&ctx, adapter.name(), &spec);
        let estimate = ctx.estimate(&spec, adapter).await?;
        match ctx.reserve_attempt(&task, number, &estimate).await? {
            Ok(left) => {
                budget_left = left;
                live = Some(crate::budget_guard::LiveSpend {
                    reserved: estimate.amount,
                    model,
                });
            }
            Err(why) => {
                cell.leave().await;
                return interrupted(&ctx, &task, number, &lane, &why).await;
            }
        }
    }
    let started = agent_command(
        &ctx,
        &spec,
        chosen,
        budget_left,
        number,
        &lane,
        previous.as_ref(),
        &cell,
        feedback_file,
        log_file,
    )
    .await;
    let AgentStart {
        command,
        adapter,
        resumed,
    } = match started {
        Ok(started) => started,
        Err(why) => {
            cell.leave().await;
            return fail(&ctx, &task, number, &lane, &why).await;
        }
    };
    let mut stream = adapter.map(AgentStream::new);
    if let Some(stream) = stream.as_mut() {
        stream.live = live;
    }
    if let Some(adapter) = adapter {
        // Which agent runs is known before it starts, so a crash recovery can read its log.
        ctx.store
            .set_attempt_agent(ctx.id(), &task, number, adapter.name(), None)
            .await?;
    }
    let running = (task.clone(), number);
    if let Ok(mut agents) = ctx.agents_running.lock() {
        agents.insert(running.clone());
    }
    fail_point("agent.start.before");
    let outcome = run_supervised(
        &ctx,
        command.log_cap(ctx.log_cap),
        stop.token(),
        &task,
        "agent",
        Lines::AsEvents { attempt: number },
        stream.as_mut(),
        |_, _| fail_point("agent.start.after"),
    )
    .await;
    if let Ok(mut agents) = ctx.agents_running.lock() {
        agents.remove(&running);
    }
    let outcome = outcome?;
    cell.leave().await;
    // The agent's slot is free once its process ended; the gates do not hold it.
    drop(slot);
    let end = outcome.end.clone();
    // Money spent is recorded whatever happens next (a cancel, a failure).
    if let (Some(adapter), Some((usage, session))) = (
        adapter,
        stream
            .as_ref()
            .map(|s| (s.usage.clone(), adapter.and_then(|a| a.session_id(&s.kept)))),
    ) {
        agent_run::record_usage(&ctx, &task, number, adapter, spec.model.as_deref(), &usage)
            .await?;
        ctx.store
            .set_attempt_agent(ctx.id(), &task, number, adapter.name(), session.as_deref())
            .await?;
        agent_run::remove_state_files(&lane.path);
    }
    // Refs the agent created or moved in the shared repository go before anything else.
    let refs_restored = ctx
        .restore_refs(&refs_before, &lane.path, &task, number)
        .await;
    if end == baton_protocol::EndReason::Cancelled {
        if stop.stopped_alone(&ctx.cancel) && ctx.budget_paused() {
            return budget_stopped(&ctx, &task, number, &lane).await;
        }
        if stop.stopped_alone(&ctx.cancel) {
            return stopped(&ctx, &task, number, &lane).await;
        }
        return interrupted(&ctx, &task, number, &lane, "cancelled while the agent ran").await;
    }
    let output = outcome.output.text();
    let event = ctx
        .store
        .set_agent_end(ctx.id(), &task, number, &end, &output)
        .await?;
    ctx.emit([event]);
    fail_point("agent.exit.after");
    if let Err(error) = refs_restored {
        let why =
            format!("baton could not put the repository's refs back after the agent: {error}");
        return fail(&ctx, &task, number, &lane, &why).await;
    }
    // An AI client may exit 0 at its turn limit, or non-zero with a telling error event.
    let class = match (&end, adapter, stream.as_ref()) {
        (EndReason::Exited { code }, Some(adapter), Some(stream)) => {
            Some(adapter.classify_exit(*code, &stream.kept))
        }
        _ => None,
    };
    // A rate or usage limit is not the task's failure: an `auto` task moves to another agent
    // without using a retry.
    if let (Some(class), Some(adapter)) = (&class, adapter)
        && let Some((kind, reset_at)) = agent_run::limit_of(class)
    {
        ctx.mark_limited(adapter.name(), kind, reset_at.clone())
            .await?;
        let next = routing::choose_adapter(&spec, &ctx.avoid(), &ctx.agents, &routing::installed);
        let then = match next {
            Ok(Choice::Run(next)) if next.name() != adapter.name() => {
                Some("the next attempt uses another agent")
            }
            // Limited, with no other agent: the task waits for the limit to lift.
            Ok(Choice::Wait(next)) if next.name() == adapter.name() => {
                Some("no other agent may take the task, so it waits until the limit lifts")
            }
            Ok(Choice::Wait(_)) => Some("the next attempt uses another agent"),
            _ => None,
        };
        if let Some(then) = then {
            let why = format!(
                "agent {} is {}; {then}",
                adapter.name(),
                agent_run::exit_failure(class).unwrap_or_default()
            );
            return interrupted(&ctx, &task, number, &lane, &why).await;
        }
    }
    // A session the client could not resume (it is gone from the client's state) is baton's
    // miss, not the task's failure: the next attempt starts a new session.
    if let (Some(session), Some(stream)) = (&resumed, stream.as_ref())
        && class.as_ref() != Some(&baton_agents::ExitClass::Success)
        && baton_agents::last_session(&stream.kept).is_none()
    {
        let why = format!(
            "the agent could not resume its session {session}; the next attempt starts a new one"
        );
        return interrupted(&ctx, &task, number, &lane, &why).await;
    }
    // An agent that worked is not limited any more, whatever it said before.
    if let (Some(baton_agents::ExitClass::Success), Some(adapter)) = (&class, adapter) {
        ctx.clear_limit(adapter.name()).await?;
    }
    // Refused credentials will not heal during the run: `auto` and fallbacks avoid the agent.
    if let (Some(baton_agents::ExitClass::AuthFailure), Some(adapter)) = (&class, adapter) {
        ctx.mark_unhealthy(adapter.name(), "its credentials were refused")
            .await?;
    }
    let class_failure = class.as_ref().and_then(agent_run::exit_failure);
    if !end.is_success() || class_failure.is_some() {
        let refused = cell.refusal_note(&output);
        let said = class_failure
            .map(|why| format!(": {why}"))
            .unwrap_or_default();
        let why = format!(
            "the agent {end}{said}{refused}\n--- agent output (head and tail) ---\n{output}"
        );
        return fail(&ctx, &task, number, &lane, &why).await;
    }
    after_agent(&ctx, &task, number, &lane, &head, &stop).await
}

/// What an attempt's agent starts as.
struct AgentStart {
    command: baton_exec::CommandSpec,
    /// The AI client's adapter (`None` for an `exec` task).
    adapter: Option<&'static dyn AgentAdapter>,
    /// The client session this attempt continues, if it resumes one.
    resumed: Option<String>,
}

/// The command of an attempt's agent: the `exec` task's shell command, or the AI client's
/// headless command with the prompt baton renders, resuming the previous attempt's session when
/// the same agent runs again in the same lane. The error is the attempt's failure.
#[allow(clippy::too_many_arguments)]
async fn agent_command(
    ctx: &RunCtx,
    spec: &baton_core::TaskSpec,
    chosen: Result<Option<&'static dyn AgentAdapter>, String>,
    budget_left: Option<baton_core::Usd>,
    number: u32,
    held: &HeldLane,
    previous: Option<&AttemptRow>,
    cell: &crate::sandbox::Cell,
    feedback_file: Option<std::path::PathBuf>,
    log_file: std::path::PathBuf,
) -> Result<AgentStart, String> {
    let lane = held.path.as_path();
    let Some(adapter) = chosen? else {
        let request = AgentRequest {
            run: ctx.id().clone(),
            task: spec.id.clone(),
            attempt: number,
            lane_dir: lane.to_path_buf(),
            command: spec.run.clone(),
            feedback_file,
            timeout: spec.timeout,
            silence: spec.silence,
            log_file,
            confinement: cell.confinement(),
        };
        return Ok(AgentStart {
            command: exec_command(&request),
            adapter: None,
            resumed: None,
        });
    };
    // The previous failure itself (the feedback file wraps it in a header of its own).
    let failure = match &feedback_file {
        Some(_) => {
            ctx.task_row(&spec.id)
                .await
                .map_err(|e| format!("cannot read the task's last failure: {e}"))?
                .last_failure
        }
        None => None,
    };
    let (prompt, prompt_file) =
        crate::prompt::attempt_prompt(ctx, spec, number, failure.as_deref(), budget_left).await?;
    let mut invocation = agent_run::invocation(
        ctx,
        adapter.name(),
        spec,
        &spec.id,
        number,
        lane,
        prompt,
        prompt_file,
        log_file,
    );
    invocation.feedback_file = feedback_file;
    invocation.confinement = cell.with_home_dirs(agent_run::state_dirs(adapter.name()));
    invocation.resume = agent_run::session_to_resume(previous, adapter, &held.name);
    invocation.max_budget_micros = budget_left.map(baton_core::Usd::micros);
    Ok(AgentStart {
        command: adapter
            .command(&invocation)
            .max_line_bytes(agent_run::AGENT_MAX_LINE),
        adapter: Some(adapter),
        resumed: invocation.resume.clone(),
    })
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

/// Commit, claims, gates, queue: everything after a successful agent. Idempotent, so a
/// resumed engine can run it again for an attempt whose agent had finished.
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
    if let Some(why) = tampered(ctx, task).await? {
        return fail(ctx, task, number, lane, &why).await;
    }
    fail_point("agent.commit.before");
    let commit = match commit_leftovers(ctx, task, &spec.title, number, lane, start).await {
        Ok(commit) => commit,
        Err(error) => {
            let why = format!("baton could not commit what the agent left: {error}");
            return fail(ctx, task, number, lane, &why).await;
        }
    };
    fail_point("agent.commit.after");
    let changed = ctx.git.changed_paths(start, &commit).await?;
    let event = ctx
        .store
        .set_attempt_commit(ctx.id(), task, number, commit.as_str(), &changed)
        .await?;
    ctx.emit([event]);

    if let Some(why) = lane_only_submodule_commits(ctx, start, &commit).await? {
        return fail(ctx, task, number, lane, &why).await;
    }

    let outside = spec.claims.outside(&changed);
    if !outside.is_empty() {
        // The first line is what `baton status` and the report show: it names the paths.
        const NAMED: usize = 5;
        let mut named = outside
            .iter()
            .take(NAMED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if outside.len() > NAMED {
            named.push_str(&format!(" and {} more", outside.len() - NAMED));
        }
        let why = format!(
            "the change leaves the task's claims ({}): {named}; paths outside them:\n{}",
            spec.claims.as_strings().join(", "),
            outside
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        return fail(ctx, task, number, lane, &why).await;
    }

    let tree = ctx.git.tree_of(&commit).await?;
    let failure = run_gates(
        ctx,
        &lane.path,
        task,
        &spec.gates,
        GateSite::Attempt(number),
        Some(&tree),
        stop.token(),
    )
    .await?;
    if ctx.cancel.is_cancelled() {
        return Ok(AttemptEnd::Suspended);
    }
    if stop.stopped_alone(&ctx.cancel) {
        return stopped(ctx, task, number, lane).await;
    }
    if let Some(why) = tampered(ctx, task).await? {
        return fail(ctx, task, number, lane, &why).await;
    }
    if let Some(failure) = failure {
        return fail(ctx, task, number, lane, &failure.describe()).await;
    }
    // The gates passed: reviewers judge the change before it may queue.
    match ctx.review_attempt(task, number, start, &commit).await? {
        None | Some(ReviewVerdict::Approved) => {}
        Some(ReviewVerdict::Rejected(feedback)) => {
            return review_rejected(ctx, task, number, lane, &feedback).await;
        }
        Some(ReviewVerdict::Failed(why)) => return fail(ctx, task, number, lane, &why).await,
    }
    if ctx.cancel.is_cancelled() {
        return Ok(AttemptEnd::Suspended);
    }
    // The change that passed, kept as the attempt's diff artifact.
    let diff = ctx.git.diff_text(start, &commit, MAX_DIFF_ARTIFACT).await?;
    crate::artifacts::keep_artifact(
        &ctx.store,
        &ctx.home,
        Some(ctx.id()),
        Some(task),
        baton_protocol::ArtifactKind::Diff,
        &diff,
    )
    .await?;

    if crate::approval_risk::hold_for_delivery(ctx, spec, number, commit.as_str(), &changed).await?
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

/// baton refuses a change that records a submodule commit the main repository's copy of that
/// submodule does not have: it was made inside the lane's private copy and would be lost with
/// the lane (see `baton_git::GitlinkChange`). Returns the failure, naming every such submodule.
async fn lane_only_submodule_commits(
    ctx: &RunCtx,
    start: &Oid,
    commit: &Oid,
) -> Result<Option<String>, EngineError> {
    let mut lost = Vec::new();
    for change in ctx.git.changed_gitlinks(start, commit).await? {
        if !ctx
            .git
            .main_module_has(commit, &change.path, &change.commit)
            .await?
        {
            lost.push(format!("{} -> {}", change.path, change.commit));
        }
    }
    if lost.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "the change records submodule commits that exist only in this lane's copy of the \
         submodule ({}); baton refuses them because they would be lost with the lane. Push \
         those commits to the submodule's remote (or fetch them into the main checkout's \
         submodule) before the task records them.",
        lost.join(", ")
    )))
}

/// Checks the integration branch (putting it back if it moved) and returns the failure of this
/// task's attempt if it was the one that moved it.
async fn tampered(ctx: &RunCtx, task: &TaskId) -> Result<Option<String>, EngineError> {
    ctx.guard_integration().await?;
    Ok(ctx.take_tamper_blame(task))
}

/// Commits what the agent left, as one commit on the attempt's start holding the lane's net
/// change (commits the agent made itself are folded into it), or adopts the commit an earlier
/// engine made before it died (recognised by its trailers), so a task is never committed twice.
async fn commit_leftovers(
    ctx: &RunCtx,
    task: &TaskId,
    title: &str,
    number: u32,
    lane: &HeldLane,
    start: &Oid,
) -> Result<Oid, EngineError> {
    let head = ctx.git.head(&lane.path).await?;
    if &head != start {
        let newest = ctx
            .git
            .commits(&format!("{start}..{head}"))
            .await?
            .into_iter()
            .next();
        if let Some(commit) = newest {
            let has = |key: &str, value: &str| {
                commit.trailers.iter().any(|(k, v)| k == key && v == value)
            };
            if has("Baton-Task", task.as_str()) && has("Baton-Attempt", &number.to_string()) {
                if ctx.git.is_dirty(&lane.path).await? {
                    tracing::warn!("lane {} has changes after baton's commit", lane.name);
                }
                return Ok(head);
            }
        }
        // The agent committed on its own: its commits become part of baton's one commit.
        ctx.git.reset_soft(&lane.path, start).await?;
    }
    Ok(ctx
        .git
        .commit_all(&lane.path, &commit_message(ctx, task, title, number))
        .await?)
}

/// Ends the attempt as failed and returns its lane. The task retries while it has failures
/// left, and is failed after the last.
async fn fail(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    lane: &HeldLane,
    why: &str,
) -> Result<AttemptEnd, EngineError> {
    let task_to = if ctx.task_row(task).await?.may_retry() {
        TaskStatus::Pending
    } else {
        ctx.out_of_attempts()
    };
    let events = ctx
        .store
        .fail_attempt(ctx.id(), task, number, why, task_to)
        .await?;
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
    let events = ctx
        .store
        .reject_reviewed_attempt(ctx.id(), task, number, feedback)
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

/// On a retry, writes the previous failure where the agent can read it.
async fn write_feedback(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
) -> Result<Option<std::path::PathBuf>, EngineError> {
    if number == 1 {
        return Ok(None);
    }
    let Some(failure) = ctx.task_row(task).await?.last_failure else {
        return Ok(None);
    };
    let path = ctx
        .home
        .run_dir(ctx.id().as_str())
        .join("feedback")
        .join(format!("{task}.{number}.txt"));
    let text = format!(
        "baton: the previous attempt of task {task} failed. Attempt {number} starts from the \
         current integration branch.\n\n{failure}\n"
    );
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| EngineError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
    }
    tokio::fs::write(&path, text)
        .await
        .map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })?;
    Ok(Some(path))
}
