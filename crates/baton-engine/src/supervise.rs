//! Running one supervised process for a run: the process group is recorded in the database
//! while it lives (so a later engine can kill survivors), its lines become events in batches,
//! and its end is converted to the protocol's `EndReason`.

use crate::EngineError;
use crate::agent_run::AgentStream;
use crate::context::RunCtx;
use baton_exec::{CommandSpec, Outcome, ProcessEvent};
use baton_protocol::{AgentEvent, EventBody, OutputStream, TaskId};
use std::time::Duration;

/// Output lines are written to the event log in batches of at most this many...
const BATCH_LINES: usize = 64;
/// ...or at least this often.
const BATCH_EVERY: Duration = Duration::from_millis(100);
/// At most this many output lines of one process become events; the log file keeps them all.
/// A chatty agent must not grow the database without bound.
pub(crate) const MAX_OUTPUT_EVENTS: usize = 5_000;

/// How long a process that escaped its group gets between SIGTERM and SIGKILL.
const REAP_GRACE: Duration = Duration::from_millis(500);

/// Whether the process's lines go to the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    /// Each line becomes an `attempt.output` event of this attempt.
    AsEvents { attempt: u32 },
    /// Lines go to the log file only.
    LogOnly,
}

/// Runs `spec` to its end under `cancel` (the run's token, or an attempt's, which the run's
/// cancels too). `started` is called once the process group is recorded (fail points sit
/// there).
// Each argument is a separate concern (which process, its stop, its task, how to read it).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_supervised(
    ctx: &RunCtx,
    spec: CommandSpec,
    cancel: &tokio_util::sync::CancellationToken,
    task: &TaskId,
    what: &str,
    lines: Lines,
    mut agent: Option<&mut AgentStream>,
    started: impl FnOnce(u32, i32),
) -> Result<Outcome, EngineError> {
    // A marker unique to this process and everything it starts: whatever still carries it when
    // the process has ended escaped its group and is killed (below).
    let marker = format!("{}/{task}/{}", ctx.id(), rand::random::<u64>());
    // git run by the agent or a gate never looks above the lane for a repository (a task that
    // deleted the lane's `.git` would otherwise reach the repository around the lane pool).
    let ceiling = spec
        .cwd
        .parent()
        .map(|parent| parent.to_string_lossy().into_owned())
        .unwrap_or_default();
    let spec = spec
        .env(baton_agents::ENV_RUN_ID, ctx.id().as_str())
        .env(baton_agents::ENV_PROCESS_MARKER, &marker)
        .env("GIT_CEILING_DIRECTORIES", ceiling);
    let mut child = baton_exec::spawn(spec, cancel.child_token())?;
    let (pid, pgid) = (child.pid(), child.pgid());
    let event = match lines {
        Lines::AsEvents { attempt } => Some(EventBody::AttemptProcess { attempt, pid, pgid }),
        Lines::LogOnly => None,
    };
    let recorded = ctx
        .store
        .record_process(
            ctx.id(),
            Some(task),
            i32::try_from(pid).unwrap_or(0),
            pgid,
            what,
            event,
        )
        .await?;
    ctx.emit(recorded);
    started(pid, pgid);
    let mut batch: Vec<(Option<TaskId>, EventBody)> = Vec::new();
    let mut stored_lines = 0usize;
    let mut ticker = tokio::time::interval(BATCH_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = child.next_event() => {
                let Some(event) = event else { break };
                let Lines::AsEvents { attempt } = lines else { continue };
                let mut overrun = None;
                let bodies: Vec<EventBody> = match (event, agent.as_deref_mut()) {
                    (ProcessEvent::Line { stream: OutputStream::Stdout, text }, Some(agent)) => {
                        let events = agent.feed(&text);
                        if events.iter().any(|e| matches!(e, AgentEvent::Usage(_))) {
                            overrun = agent.overrun(&ctx.prices).map(|(reserved, live)| {
                                let model = agent.live.as_ref().and_then(|l| l.model.clone());
                                (crate::budget_guard::LiveSpend { reserved, model }, live)
                            });
                        }
                        events
                            .into_iter()
                            .map(|event| EventBody::AttemptAgent { attempt, event })
                            .collect()
                    }
                    (ProcessEvent::Line { stream, text }, _) => vec![EventBody::AttemptOutput {
                        attempt,
                        stream,
                        line: text,
                    }],
                    (ProcessEvent::SilenceWarning { silent_for }, _) => {
                        vec![EventBody::AttemptSilence {
                            attempt,
                            silent_ms: u64::try_from(silent_for.as_millis()).unwrap_or(u64::MAX),
                        }]
                    }
                };
                for body in bodies {
                    // Usage, results, errors and sessions are never dropped; chatter is capped.
                    if !is_essential(&body) {
                        stored_lines += 1;
                        if stored_lines > MAX_OUTPUT_EVENTS {
                            continue;
                        }
                        if stored_lines == MAX_OUTPUT_EVENTS {
                            batch.push((Some(task.clone()), EventBody::Warning {
                                message: format!(
                                    "{task}: output past {MAX_OUTPUT_EVENTS} lines is kept only \
                                     in the log file (`baton logs {} {task}`)",
                                    ctx.id()
                                ),
                            }));
                        }
                    }
                    batch.push((Some(task.clone()), body));
                }
                if batch.len() >= BATCH_LINES {
                    flush(ctx, &mut batch).await?;
                }
                if let Some((spend, live)) = overrun {
                    flush(ctx, &mut batch).await?;
                    ctx.check_overrun(task, attempt, &spend, live).await?;
                }
            }
            _ = ticker.tick() => flush(ctx, &mut batch).await?,
        }
    }
    if let (Some(agent), Lines::AsEvents { attempt }) = (agent, lines) {
        for event in agent.finish() {
            batch.push((
                Some(task.clone()),
                EventBody::AttemptAgent { attempt, event },
            ));
        }
    }
    flush(ctx, &mut batch).await?;
    let outcome = child.wait().await;
    let reaped =
        baton_exec::reap_marked(baton_agents::ENV_PROCESS_MARKER, &marker, REAP_GRACE).await;
    if !reaped.is_empty() {
        let attempt = match lines {
            Lines::AsEvents { attempt } => Some(attempt),
            Lines::LogOnly => None,
        };
        let body = EventBody::ProcessesReaped {
            attempt,
            what: what.to_owned(),
            processes: reaped.iter().map(ToString::to_string).collect(),
        };
        let event = ctx.store.append_event(ctx.id(), Some(task), body).await?;
        ctx.emit([event]);
    }
    ctx.store.forget_process(ctx.id(), pgid).await?;
    Ok(outcome)
}

/// Whether an event must reach the log whatever the output cap (rule: no silent loss of
/// usage, results, errors).
fn is_essential(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::AttemptAgent {
            event: AgentEvent::Usage(_)
                | AgentEvent::Result { .. }
                | AgentEvent::Error { .. }
                | AgentEvent::Session { .. },
            ..
        }
    )
}

async fn flush(
    ctx: &RunCtx,
    batch: &mut Vec<(Option<TaskId>, EventBody)>,
) -> Result<(), EngineError> {
    if batch.is_empty() {
        return Ok(());
    }
    let events = ctx
        .store
        .append_events(ctx.id(), std::mem::take(batch))
        .await?;
    ctx.emit(events);
    Ok(())
}
