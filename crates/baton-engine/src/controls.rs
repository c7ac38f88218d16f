//! A person's commands on a run or a task (`baton pause`, `resume`, `skip`, `retry`,
//! `reassign`, `force-complete`, `reset`). Each is a [`ControlRequest`] from
//! `baton-protocol`, checked against the task state machine, and written with its audit
//! event (`control.applied`: who, what, why, when) in one transaction: refused, nothing is
//! written. The engine that owns the run (perhaps another process) sees the change within a
//! quarter second; a stopped run takes it on `baton resume`.

use crate::{Engine, EngineError, lease};
use baton_core::{revived_with, skipped_with, task_control_target};
use baton_protocol::{Control, ControlRequest, EventBody, RunStatus, TaskId, TaskStatus};
use baton_store::{ControlChange, TaskMove};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a control did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlOutcome {
    pub run: baton_protocol::RunId,
    pub command: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskId>,
    /// What it did, in a sentence.
    pub effect: String,
    /// The tasks it moved: (task, from, to).
    pub moved: Vec<(TaskId, TaskStatus, TaskStatus)>,
    /// Whether a live engine drives the run (it takes the change at once); otherwise
    /// `baton resume RUN` continues the run.
    pub live: bool,
}

impl Engine {
    /// Applies a person's command; refuses (nothing written) what the run's or the task's
    /// status does not allow, naming the status and what to do instead.
    pub async fn control(&self, request: &ControlRequest) -> Result<ControlOutcome, EngineError> {
        let run = self.store.run(&request.run).await?;
        let live =
            run.status == RunStatus::Running && run.lease.as_ref().is_some_and(lease::is_live);
        let wrong_state = |what: String| EngineError::WrongState {
            run: run.id.clone(),
            status: run.status.to_string(),
            what,
        };
        if run.status == RunStatus::Completed {
            return Err(wrong_state(
                "it is complete; nothing in it can change".into(),
            ));
        }
        let control = &request.control;
        let mut change = ControlChange::default();
        let effect = match control {
            Control::Pause => {
                if !live {
                    return Err(wrong_state(
                        "only a run a baton process is driving can be paused".into(),
                    ));
                }
                if self.store.pause_requested(&run.id).await? {
                    return Err(wrong_state(
                        "it is pausing already; `baton resume` undoes the pause".into(),
                    ));
                }
                change.pause = Some(true);
                "no new attempt starts; the run pauses once its running attempts and merges \
                 have ended"
                    .to_string()
            }
            Control::Resume => {
                let pausing = self.store.pause_requested(&run.id).await?;
                if !(live && pausing) && run.status != RunStatus::Paused {
                    return Err(wrong_state(
                        "it is not paused (`baton resume RUN` continues a stopped run)".into(),
                    ));
                }
                change.pause = Some(false);
                if live {
                    "the pause is undone; the run goes on".to_string()
                } else {
                    "the pause is undone; the run is driven again".to_string()
                }
            }
            _ => self.task_control(request, &run.id, &mut change).await?,
        };
        let audit = EventBody::ControlApplied {
            command: control.name().to_string(),
            who: request.who.clone(),
            why: request.why.clone(),
            effect: effect.clone(),
        };
        let events = self
            .store
            .apply_control(&run.id, control.task(), &change, audit)
            .await
            .map_err(|error| match error {
                baton_store::StoreError::Stale { id, actual, .. } => wrong_state(format!(
                    "task {id} moved to {actual} meanwhile; nothing was changed, try again"
                )),
                other => other.into(),
            })?;
        self.bus.emit(events);
        Ok(ControlOutcome {
            run: run.id.clone(),
            command: control.name(),
            task: control.task().cloned(),
            effect,
            moved: change
                .moves
                .iter()
                .map(|m| (m.task.clone(), m.from, m.to))
                .collect(),
            live,
        })
    }

    /// Fills `change` for a command on one task; returns its effect.
    async fn task_control(
        &self,
        request: &ControlRequest,
        run: &baton_protocol::RunId,
        change: &mut ControlChange,
    ) -> Result<String, EngineError> {
        let control = &request.control;
        let Some(task) = control.task() else {
            return Ok(String::new());
        };
        let rows = self.store.tasks(run).await?;
        let row = crate::task_in(&rows, run, task)?;
        let target = task_control_target(control, row.status)
            .map_err(|refused| EngineError::BadRequest(format!("run {run}: {refused}")))?;
        let source = self.store.run(run).await?;
        let plan = baton_core::parse_plan(&source.plan_source, &source.plan_origin)
            .map_err(|error| EngineError::InvalidPlan(error.to_string()))?;
        let spec = plan.task(task).ok_or_else(|| EngineError::Inconsistent {
            run: run.clone(),
            what: format!("task {task} is in the database but not in the plan"),
        })?;
        let new_agent = match control {
            Control::Retry { agent, .. } => agent.as_deref(),
            Control::Reassign { agent, .. } => Some(agent.as_str()),
            _ => None,
        };
        let new_prompt = match control {
            Control::Retry { prompt, .. } => prompt.as_deref(),
            _ => None,
        };
        if (new_agent.is_some() || new_prompt.is_some()) && !spec.agent.is_ai() {
            return Err(EngineError::BadRequest(format!(
                "task {task} is an exec task (it runs a shell command, not an agent): it has no \
                 agent or prompt to change; `baton retry {run} {task}` runs it again as it is"
            )));
        }
        if let Some(agent) = new_agent {
            let known = baton_agents::adapter(agent).is_some_and(|a| a.name() != "exec");
            if !known && agent != "auto" {
                return Err(EngineError::BadRequest(format!(
                    "--agent {agent}: not an AI agent baton can run (see `baton agents`)"
                )));
            }
        }
        if new_prompt.is_some_and(|p| p.trim().is_empty()) {
            return Err(EngineError::BadRequest(
                "the new prompt is empty; write what the agent should do".into(),
            ));
        }
        if matches!(control, Control::ForceComplete { .. })
            && request.why.as_deref().is_none_or(|w| w.trim().is_empty())
        {
            return Err(EngineError::BadRequest(
                "force-complete needs --why: say why the task counts as done".into(),
            ));
        }
        let status: BTreeMap<TaskId, TaskStatus> =
            rows.iter().map(|t| (t.id.clone(), t.status)).collect();
        let dag = plan.dag();
        let who = &request.who;
        let reason = |what: &str| match &request.why {
            Some(why) => format!("{what} by {who}: {why}"),
            None => format!("{what} by {who}"),
        };
        let fresh_budget = row.failures + spec.retries + 1;
        if let Some(to) = target {
            change.moves.push(TaskMove {
                task: task.clone(),
                from: row.status,
                to,
                reason: reason(&format!("baton {}", control.name())),
            });
        }
        let mut effect = match control {
            Control::Skip { .. } => {
                for id in skipped_with(&dag, &status, task) {
                    change.moves.push(TaskMove {
                        from: status[&id],
                        to: TaskStatus::Skipped,
                        reason: format!("its dependency {task} was skipped"),
                        task: id,
                    });
                }
                format!("task {task} is skipped: nothing of it is integrated")
            }
            Control::ForceComplete { .. } => {
                format!("task {task} counts as done; nothing of it is integrated by baton")
            }
            Control::Retry { .. } => {
                change.failures_allowed.push((task.clone(), fresh_budget));
                format!("task {task} runs again")
            }
            Control::Reassign { agent, .. } => {
                format!("task {task}'s next attempts run on {agent}")
            }
            Control::Reset { .. } => {
                change.failures_allowed.push((task.clone(), fresh_budget));
                change.agent_override = Some((task.clone(), Some(None)));
                change.prompt_override = Some((task.clone(), Some(None)));
                format!("task {task} starts over with the plan's agent and prompt")
            }
            Control::Pause | Control::Resume => String::new(),
        };
        if let Some(agent) = new_agent {
            change.agent_override = Some((task.clone(), Some(Some(agent.to_string()))));
            if matches!(control, Control::Retry { .. }) {
                effect.push_str(&format!(" on {agent}"));
            }
        }
        if let Some(prompt) = new_prompt {
            change.prompt_override = Some((task.clone(), Some(Some(prompt.to_string()))));
            effect.push_str(" with a new prompt");
        }
        // A task that is done or runs again brings back what waited on it.
        if matches!(
            target,
            Some(TaskStatus::Pending | TaskStatus::ForceCompleted)
        ) {
            let why = if target == Some(TaskStatus::Pending) {
                "runs again"
            } else {
                "counts as done"
            };
            for id in revived_with(&dag, &status, task) {
                change.moves.push(TaskMove {
                    from: status[&id],
                    to: TaskStatus::Pending,
                    reason: format!("its dependency {task} {why}"),
                    task: id,
                });
            }
        }
        let along = change
            .moves
            .len()
            .saturating_sub(usize::from(target.is_some()));
        if along > 0 {
            let noun = if along == 1 { "task" } else { "tasks" };
            effect.push_str(&format!(" ({along} dependent {noun} with it)"));
        }
        Ok(effect)
    }
}

impl crate::context::RunCtx {
    /// Where a task goes when it has no attempt left: `needs_human` with `[escalation]
    /// person`, else `failed`.
    pub(crate) fn out_of_attempts(&self) -> TaskStatus {
        if self.escalate_to_person {
            TaskStatus::NeedsHuman
        } else {
            TaskStatus::Failed
        }
    }

    /// The run status and reason for a loop that ended waiting for a person's control
    /// (`baton pause`, or tasks that need a person), or `None` for any other end.
    pub(crate) async fn waiting_for_person(
        &self,
        end: crate::driver::LoopEnd,
    ) -> Result<Option<(RunStatus, String)>, EngineError> {
        let id = self.id();
        match end {
            crate::driver::LoopEnd::Paused => Ok(Some((
                RunStatus::Paused,
                format!("paused by `baton pause`; `baton resume {id}` continues it"),
            ))),
            crate::driver::LoopEnd::NeedsHuman => {
                let waiting: Vec<String> = self
                    .store
                    .tasks(id)
                    .await?
                    .into_iter()
                    .filter(|t| t.status == TaskStatus::NeedsHuman)
                    .map(|t| t.id.to_string())
                    .collect();
                Ok(Some((
                    RunStatus::NeedsHuman,
                    format!(
                        "tasks need a person: {}; `baton retry {id} TASK [--agent A] \
                         [--prompt-file F]`, `baton reassign`, `baton skip` or `baton \
                         force-complete`, then `baton resume {id}`",
                        waiting.join(", ")
                    ),
                )))
            }
            _ => Ok(None),
        }
    }
}
