//! One agent's go at a task in a lane, from preparing the lane to the verdict of the task's
//! gates and reviewers: the body an ordinary attempt and every council candidate share. It
//! decides nothing about the task's status; its callers do (`attempt.rs` fails, retries or
//! queues the attempt; `council.rs` judges the candidates).

use crate::EngineError;
use crate::agent_run::{self, AgentStream};
use crate::context::{AttemptStop, RunCtx};
use crate::failpoint::fail_point;
use crate::gates::{GateSite, run_gates};
use crate::lanes::HeldLane;
use crate::review::ReviewVerdict;
use crate::routing::{self, AgentSlot, Choice};
use crate::supervise::{Lines, run_supervised};
use baton_agents::{AgentAdapter, AgentRequest, exec_command};
use baton_core::TaskSpec;
use baton_git::Oid;
use baton_protocol::{EndReason, TaskId};
use baton_store::AttemptRow;

/// One agent's run in a lane: what it works on and where.
pub(crate) struct AgentRun<'a> {
    /// The task as this run sees it (a person's new prompt applied).
    pub spec: &'a TaskSpec,
    pub number: u32,
    pub lane: &'a HeldLane,
    /// The integration head the lane starts from.
    pub head: &'a Oid,
    /// The branch the lane works on: the task's, or a council candidate's own.
    pub branch: &'a str,
    pub stop: &'a AttemptStop,
    /// The attempt before, whose session the agent resumes when it can.
    pub previous: Option<&'a AttemptRow>,
    /// The agent (`Ok(None)`: an `exec` task; `Err`: no agent may take it).
    pub chosen: Result<Option<&'static dyn AgentAdapter>, String>,
    /// The agent's slot, freed as soon as its process ends.
    pub slot: Option<AgentSlot>,
    /// What the agent is told went wrong before (`None`: the task's last failure, on a retry).
    pub feedback: Option<String>,
}

/// How the agent's part ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgentEnd {
    /// The agent finished well: its change goes on to [`check_change`].
    Finished,
    /// The attempt failed: why.
    Failed(String),
    /// The attempt ends without using a retry (a limit, a lost session, no budget): why.
    Interrupted(String),
    /// A person stopped it (`baton stop`).
    Stopped,
    /// A budget stopped its agent.
    BudgetStopped,
    /// The run was cancelled while the agent ran.
    Cancelled,
}

/// Prepares the lane, runs the agent under supervision in it, records what it spent, puts back
/// the refs it moved and says how it ended.
pub(crate) async fn run_agent(ctx: &RunCtx, run: AgentRun<'_>) -> Result<AgentEnd, EngineError> {
    let AgentRun {
        spec,
        number,
        lane,
        head,
        branch,
        stop,
        previous,
        chosen,
        slot,
        feedback,
    } = run;
    let task = &spec.id;
    fail_point("lane.prepare.before");
    // Free lanes were left clean by `release_lane`, so the fast path applies; it falls back
    // to a full prepare for a new lane.
    // The refs are read beside the lane's checkout (two git processes at once): this is the
    // path from a dependency's merge to the next agent's start.
    let (prepared, refs_before) = tokio::join!(
        ctx.pool.prepare_released(&lane.name, Some(branch), head),
        ctx.snapshot_refs()
    );
    if let Err(error) = prepared {
        return Ok(AgentEnd::Failed(format!(
            "baton could not prepare lane {}: {error}",
            lane.name
        )));
    }
    fail_point("lane.prepare.after");
    let refs_before = refs_before?;

    let failure = match feedback {
        Some(feedback) => Some(feedback),
        None if number > 1 => ctx.task_row(task).await?.last_failure,
        None => None,
    };
    let feedback_file = write_feedback(ctx, task, number, failure.as_deref()).await?;
    let log_dir = ctx.home.log_dir(ctx.id().as_str());
    let log_file = baton_store::attempt_log_path(&log_dir, task, number);
    let cell = ctx
        .sandbox
        .cell(&lane.path, &format!("{task}.{number}"))
        .await?;
    // An AI attempt reserves its estimated maximum first; one that cannot does not start.
    let mut live = None;
    let mut budget_left = None;
    if let Ok(Some(adapter)) = chosen {
        let model = agent_run::model_of(ctx, adapter.name(), spec);
        let estimate = ctx.estimate(spec, adapter).await?;
        match ctx.reserve_attempt(task, number, &estimate).await? {
            Ok(left) => {
                budget_left = left;
                live = Some(crate::budget_guard::LiveSpend {
                    reserved: estimate.amount,
                    model,
                });
            }
            Err(why) => {
                cell.leave().await;
                return Ok(AgentEnd::Interrupted(why));
            }
        }
    }
    let started = agent_command(
        ctx,
        spec,
        chosen,
        budget_left,
        number,
        lane,
        previous,
        &cell,
        (feedback_file, failure),
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
            return Ok(AgentEnd::Failed(why));
        }
    };
    let mut stream = adapter.map(AgentStream::new);
    if let Some(stream) = stream.as_mut() {
        stream.live = live;
    }
    if let Some(adapter) = adapter {
        // Which agent runs is known before it starts, so a crash recovery can read its log.
        ctx.store
            .set_attempt_agent(ctx.id(), task, number, adapter.name(), None)
            .await?;
    }
    let running = (task.clone(), number);
    if let Ok(mut agents) = ctx.agents_running.lock() {
        agents.insert(running.clone());
    }
    fail_point("agent.start.before");
    let outcome = run_supervised(
        ctx,
        command.log_cap(ctx.log_cap),
        stop.token(),
        task,
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
        agent_run::record_usage(ctx, task, number, adapter, spec.model.as_deref(), &usage).await?;
        ctx.store
            .set_attempt_agent(ctx.id(), task, number, adapter.name(), session.as_deref())
            .await?;
        agent_run::remove_state_files(&lane.path);
    }
    // Refs the agent created or moved in the shared repository go before anything else.
    let refs_restored = ctx
        .restore_refs(&refs_before, &lane.path, branch, task, number)
        .await;
    if end == EndReason::Cancelled {
        if stop.stopped_alone(&ctx.cancel) && ctx.budget_paused() {
            return Ok(AgentEnd::BudgetStopped);
        }
        if stop.stopped_alone(&ctx.cancel) {
            return Ok(AgentEnd::Stopped);
        }
        return Ok(AgentEnd::Cancelled);
    }
    let output = outcome.output.text();
    let event = ctx
        .store
        .set_agent_end(ctx.id(), task, number, &end, &output)
        .await?;
    ctx.emit([event]);
    fail_point("agent.exit.after");
    if let Err(error) = refs_restored {
        return Ok(AgentEnd::Failed(format!(
            "baton could not put the repository's refs back after the agent: {error}"
        )));
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
        let next = routing::choose_adapter(spec, &ctx.avoid(), &ctx.agents, &routing::installed);
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
            return Ok(AgentEnd::Interrupted(format!(
                "agent {} is {}; {then}",
                adapter.name(),
                agent_run::exit_failure(class).unwrap_or_default()
            )));
        }
    }
    // A session the client could not resume (it is gone from the client's state) is baton's
    // miss, not the task's failure: the next attempt starts a new session.
    if let (Some(session), Some(stream)) = (&resumed, stream.as_ref())
        && class.as_ref() != Some(&baton_agents::ExitClass::Success)
        && baton_agents::last_session(&stream.kept).is_none()
    {
        return Ok(AgentEnd::Interrupted(format!(
            "the agent could not resume its session {session}; the next attempt starts a new one"
        )));
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
        return Ok(AgentEnd::Failed(format!(
            "the agent {end}{said}{refused}\n--- agent output (head and tail) ---\n{output}"
        )));
    }
    Ok(AgentEnd::Finished)
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
    spec: &TaskSpec,
    chosen: Result<Option<&'static dyn AgentAdapter>, String>,
    budget_left: Option<baton_core::Usd>,
    number: u32,
    held: &HeldLane,
    previous: Option<&AttemptRow>,
    cell: &crate::sandbox::Cell,
    (feedback_file, failure): (Option<std::path::PathBuf>, Option<String>),
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
    let failure = feedback_file.as_ref().and(failure);
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

/// A change that passed the task's claims, territory checks and gates.
#[derive(Debug, Clone)]
pub(crate) struct PassedChange {
    pub commit: Oid,
    pub changed: Vec<String>,
    /// The reviewers' verdict (`None`: `[review]` is not configured).
    pub review: Option<ReviewVerdict>,
}

/// How the check of an agent's change ended.
#[derive(Debug, Clone)]
pub(crate) enum ChangeEnd {
    Passed(PassedChange),
    /// The change fails: why.
    Failed(String),
    /// A person stopped the attempt (`baton stop`) while its gates ran.
    Stopped,
    /// The run was cancelled after the agent finished: the attempt keeps its lane.
    Suspended,
}

/// Commit, tamper check, claims, gates and reviews of what the agent left in `lane`: the
/// verdict, with nothing decided about the task. Idempotent, so a resumed engine can run it
/// again for an attempt whose agent had finished.
pub(crate) async fn check_change(
    ctx: &RunCtx,
    spec: &TaskSpec,
    number: u32,
    lane: &HeldLane,
    start: &Oid,
    stop: &AttemptStop,
) -> Result<ChangeEnd, EngineError> {
    let task = &spec.id;
    if let Some(why) = tampered(ctx, task).await? {
        return Ok(ChangeEnd::Failed(why));
    }
    fail_point("agent.commit.before");
    let commit = match commit_leftovers(ctx, task, &spec.title, number, lane, start).await {
        Ok(commit) => commit,
        Err(error) => {
            return Ok(ChangeEnd::Failed(format!(
                "baton could not commit what the agent left: {error}"
            )));
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
        return Ok(ChangeEnd::Failed(why));
    }
    if let Some(why) = outside_claims(spec, &changed) {
        return Ok(ChangeEnd::Failed(why));
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
        return Ok(ChangeEnd::Suspended);
    }
    if stop.stopped_alone(&ctx.cancel) {
        return Ok(ChangeEnd::Stopped);
    }
    if let Some(why) = tampered(ctx, task).await? {
        return Ok(ChangeEnd::Failed(why));
    }
    if let Some(failure) = failure {
        return Ok(ChangeEnd::Failed(failure.describe()));
    }
    // The gates passed: reviewers judge the change before it may queue.
    let review = ctx.review_attempt(task, number, start, &commit).await?;
    if ctx.cancel.is_cancelled() {
        return Ok(ChangeEnd::Suspended);
    }
    Ok(ChangeEnd::Passed(PassedChange {
        commit,
        changed,
        review,
    }))
}

/// The failure of a change that leaves the task's claims, naming the paths.
fn outside_claims(spec: &TaskSpec, changed: &[String]) -> Option<String> {
    let outside = spec.claims.outside(changed);
    if outside.is_empty() {
        return None;
    }
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
    Some(format!(
        "the change leaves the task's claims ({}): {named}; paths outside them:\n{}",
        spec.claims.as_strings().join(", "),
        outside
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
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

/// The commit message baton writes for what an agent left.
fn commit_message(ctx: &RunCtx, task: &TaskId, title: &str, attempt: u32) -> String {
    format!(
        "baton: {task}: {title}\n\nBaton-Run: {}\nBaton-Task: {task}\nBaton-Attempt: {attempt}\n",
        ctx.id()
    )
}

/// On a retry, writes the previous `failure` where the agent can read it.
async fn write_feedback(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    failure: Option<&str>,
) -> Result<Option<std::path::PathBuf>, EngineError> {
    let Some(failure) = failure else {
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
