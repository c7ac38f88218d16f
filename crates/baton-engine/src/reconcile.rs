//! Makes the database agree with reality before an engine works on a run it did not start, or
//! one a previous engine left (crash, kill -9, cancel). It reads live processes, git refs and
//! the lane pool, not only the database.

use crate::EngineError;
use crate::context::RunCtx;
use baton_protocol::{AttemptStatus, EventBody, MergeItemStatus, TaskStatus};
use baton_store::{AttemptRow, MergeItemUpdate};
use std::time::Duration;

/// Kills every process group a dead engine left for this run: those recorded in the database
/// and any process carrying the run's id in its environment. Returns what it killed.
pub(crate) async fn kill_survivors(
    store: &baton_store::Store,
    run: &baton_protocol::RunId,
) -> Result<Vec<String>, EngineError> {
    let mut actions = Vec::new();
    let mut groups: Vec<i32> = Vec::new();
    for process in store.processes(run).await? {
        if baton_exec::group_alive(process.pgid) {
            groups.push(process.pgid);
            actions.push(format!(
                "killed surviving {} process group {} (task {})",
                process.what,
                process.pgid,
                process.task_id.map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        store.forget_process(run, process.pgid).await?;
    }
    for found in baton_exec::find_processes_with_env(baton_agents::ENV_RUN_ID, run.as_str()) {
        if !groups.contains(&found.pgid) {
            groups.push(found.pgid);
            actions.push(format!(
                "killed unrecorded survivor pid {} (group {})",
                found.pid, found.pgid
            ));
        }
    }
    for pgid in groups {
        baton_exec::kill_group(pgid, Duration::from_secs(1)).await;
    }
    Ok(actions)
}

/// Repairs the run and returns the attempts whose agent had finished: they continue from their
/// commit step instead of running the agent again.
pub(crate) async fn reconcile(ctx: &RunCtx) -> Result<Vec<AttemptRow>, EngineError> {
    let mut actions = kill_survivors(&ctx.store, ctx.id()).await?;

    // No attempt of the run runs now: a reservation still open belongs to an attempt that died
    // with its engine before its usage was recorded. What its agent printed is in its log:
    // decoded, its usage goes to the ledger (which settles the reservation in the same
    // transaction, so nothing is counted twice); the rest is given back.
    for recovered in recover_usage(ctx).await? {
        actions.push(recovered);
    }
    let released = ctx.store.release_open_reservations(ctx.id()).await?;
    if released > 0 {
        actions.push(format!(
            "released {released} budget reservation(s) of attempts that no longer run"
        ));
    }

    // The integration branch: created with the run; recreate it if the run died before that.
    let found = ctx.git.ref_value(&ctx.run.integration_ref).await?;
    let expected = ctx.expected_head_from_store().await?;
    let merged_any = ctx
        .store
        .tasks(ctx.id())
        .await?
        .iter()
        .any(|t| t.status == TaskStatus::Merged);
    if found.is_none() && !merged_any {
        ctx.git
            .update_ref(&ctx.run.integration_ref, &expected, None)
            .await?;
        actions.push(format!(
            "created {} at the base commit",
            ctx.run.integration_ref
        ));
    }
    // A previous engine may have moved it to a merge it had not yet recorded: that merge commit
    // is baton's (the queue recognises it by ancestry). Any other value is tampering, done
    // while no engine watched: the guard puts it back.
    let mut head = expected;
    for item in ctx.store.merge_items(ctx.id()).await? {
        if item.status == MergeItemStatus::Merging
            && let Some(commit) = &item.merge_commit
            && found.as_ref().map(|f| f.as_str()) == Some(commit.as_str())
        {
            head = ctx.oid(commit)?;
        }
    }
    ctx.set_integration_head(Some(head));
    if ctx.guard_integration().await? {
        actions.push(format!(
            "{} had been moved by something other than baton; put back",
            ctx.run.integration_ref
        ));
    }

    // Branches of merged tasks (a previous engine may have died before deleting them).
    let prefix = format!("refs/heads/baton/{}/tasks/", ctx.id());
    let merged: Vec<String> = ctx
        .store
        .tasks(ctx.id())
        .await?
        .into_iter()
        .filter(|t| t.status == TaskStatus::Merged)
        .map(|t| format!("{prefix}{}", t.id))
        .collect();
    for (refname, _) in ctx.git.refs_under(&prefix).await? {
        if merged.contains(&refname) {
            ctx.git.delete_ref(&refname).await?;
        }
    }

    // Merge items caught mid-way go back to the queue; the queue sees by ancestry whether the
    // integration branch already holds them, so nothing merges twice.
    for item in ctx.store.merge_items(ctx.id()).await? {
        if matches!(
            item.status,
            MergeItemStatus::Checking | MergeItemStatus::Merging
        ) {
            ctx.move_merge_item(
                &item,
                MergeItemStatus::Queued,
                MergeItemUpdate {
                    detail: Some("re-checked after a restart".into()),
                    ..MergeItemUpdate::default()
                },
            )
            .await?;
            actions.push(format!(
                "merge item {} ({}) queued again",
                item.id, item.task_id
            ));
        }
    }

    // Councils the dead engine left running are interrupted as a whole (they run again), so
    // that no candidate continues as an attempt of its own.
    let councils = ctx.store.interrupt_councils(ctx.id()).await?;
    if !councils.is_empty() {
        actions.push("an unfinished council was interrupted; it runs again".into());
    }
    ctx.emit(councils);
    // No council runs now: the branches of the candidates of any council it left go.
    let tasks = format!("refs/heads/baton/{}/tasks/", ctx.id());
    for (name, _) in ctx.git.refs_under(&tasks).await? {
        if name.contains(crate::council::CANDIDATE_MARK) {
            ctx.git.delete_ref(&name).await?;
        }
    }
    // Attempts the dead engine left running.
    let lanes = ctx.store.lanes(&ctx.lane_repo).await?;
    let mut continuing = Vec::new();
    for attempt in ctx.store.attempts(ctx.id(), None).await? {
        if attempt.status != AttemptStatus::Running {
            continue;
        }
        let agent_done = attempt.agent_end().is_some_and(|end| end.is_success());
        let lane_held = lanes.iter().any(|lane| {
            lane.name == attempt.lane
                && lane.run_id.as_ref() == Some(ctx.id())
                && lane.task_id.as_ref() == Some(&attempt.task_id)
        });
        let lane_exists = ctx.pool.lane_path(&attempt.lane).exists();
        if agent_done && lane_held && lane_exists {
            actions.push(format!(
                "task {} attempt {}: the agent had finished; continuing from its commit",
                attempt.task_id, attempt.number
            ));
            continuing.push(attempt);
        } else {
            let events = ctx
                .store
                .interrupt_attempt(
                    ctx.id(),
                    &attempt.task_id,
                    attempt.number,
                    "the engine stopped before the attempt finished",
                )
                .await?;
            ctx.emit(events);
            actions.push(format!(
                "task {} attempt {} interrupted; it runs again",
                attempt.task_id, attempt.number
            ));
        }
    }

    // Lanes this run held: keep those of continuing attempts, reset the rest.
    for lane in &lanes {
        if lane.run_id.as_ref() != Some(ctx.id()) {
            continue;
        }
        if continuing.iter().any(|a| a.lane == lane.name) {
            continue;
        }
        ctx.release_lane(&lane.name).await?;
        actions.push(format!("lane {} reset and returned to the pool", lane.name));
    }

    // Worktrees and directories under the pool that the database does not know (read under the
    // worktree lock: a run records a lane before it adds it, under the same lock).
    let lock = ctx.pool.lock().await?;
    let known: Vec<String> = ctx
        .store
        .lanes(&ctx.lane_repo)
        .await?
        .into_iter()
        .map(|l| l.name)
        .collect();
    for removed in ctx.pool.prune_foreign_locked(&lock, &known).await? {
        actions.push(format!("removed untracked lane {}", removed.display()));
    }
    drop(lock);

    if !actions.is_empty() {
        let event = ctx
            .store
            .append_event(
                ctx.id(),
                None,
                EventBody::RunReconciled {
                    actions: actions.clone(),
                },
            )
            .await?;
        ctx.emit([event]);
    }
    Ok(continuing)
}

/// Records the usage of attempts whose engine died while their agent ran, read back from
/// their log files. Returns what it did, in words.
async fn recover_usage(ctx: &RunCtx) -> Result<Vec<String>, EngineError> {
    let mut done = Vec::new();
    for reservation in ctx.store.open_reservations(ctx.id()).await? {
        let attempts = ctx
            .store
            .attempts(ctx.id(), Some(&reservation.task_id))
            .await?;
        let Some(attempt) = attempts.iter().find(|a| a.number == reservation.attempt) else {
            continue;
        };
        let Some(adapter) = attempt.agent.as_deref().and_then(baton_agents::adapter) else {
            continue;
        };
        let Ok(log) = std::fs::read_to_string(&attempt.log_path) else {
            continue;
        };
        let mut stream = crate::agent_run::AgentStream::new(adapter);
        for line in log.lines() {
            stream.feed(line);
        }
        stream.finish();
        if stream.usage.reports == 0 {
            continue;
        }
        let model = ctx
            .plan
            .task(&reservation.task_id)
            .and_then(|spec| crate::agent_run::model_of(ctx, adapter.name(), spec));
        crate::agent_run::record_usage(
            ctx,
            &reservation.task_id,
            reservation.attempt,
            adapter,
            model.as_deref(),
            &stream.usage,
        )
        .await?;
        done.push(format!(
            "recorded the usage of task {} attempt {} from its log (its engine died)",
            reservation.task_id, reservation.attempt
        ));
    }
    Ok(done)
}
