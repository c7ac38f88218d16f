//! A person's decisions on tasks that wait for approval (`baton approve`, `baton reject`),
//! what waits (`baton approvals`), and `--auto-approve`.

use crate::{Engine, EngineError};
use baton_protocol::{ApprovalWait, RunId, TaskId, TaskStatus};
use baton_store::Decision;

/// Who decides when the OS does not say (no `USER` or `LOGNAME`).
pub const UNKNOWN_DECIDER: &str = "unknown";

/// The person deciding, as the OS names them: `USER`, else `LOGNAME`, else `unknown`. Read at
/// the edge (the CLI) and passed to the engine.
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_owned())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| UNKNOWN_DECIDER.to_owned())
}

/// A decision as a frontend asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest<'a> {
    /// The task; `None` when the run has exactly one waiting task.
    pub task: Option<&'a TaskId>,
    /// Approve to run on this agent instead (approvals before a start only).
    pub agent: Option<&'a str>,
    /// Why (required to reject).
    pub why: Option<&'a str>,
    /// Who decides.
    pub by: &'a str,
}

impl Engine {
    /// Approves a task that waits for approval (to run on `agent` instead when given): before
    /// its start it runs; before delivery its change enters the merge queue. A live engine
    /// driving the run picks it up within a second; a paused run continues with `baton
    /// resume`. Returns the task decided.
    pub async fn approve(
        &self,
        run: &RunId,
        request: &DecisionRequest<'_>,
    ) -> Result<TaskId, EngineError> {
        if let Some(agent) = request.agent {
            let known = baton_agents::adapter(agent).is_some_and(|a| a.name() != "exec");
            if !known {
                return Err(EngineError::BadRequest(format!(
                    "--agent {agent}: not an AI agent baton can run (see `baton agents`)"
                )));
            }
        }
        let task = self.waiting_task(run, request.task).await?;
        if request.agent.is_some() && self.waits_for_delivery(run, &task).await? {
            return Err(EngineError::BadRequest(format!(
                "task {task} of run {run} already ran and waits to deliver its change; --agent \
                 applies only to a task waiting to start"
            )));
        }
        let decision = Decision {
            approved: true,
            agent: request.agent,
            why: request.why,
            by: request.by,
        };
        let events = self.store().decide_approval(run, &task, &decision).await?;
        self.bus().emit(events);
        Ok(task)
    }

    /// Rejects a task that waits for approval: it fails with `why` (its dependents are
    /// blocked). Returns the task decided.
    pub async fn reject(
        &self,
        run: &RunId,
        request: &DecisionRequest<'_>,
    ) -> Result<TaskId, EngineError> {
        let why = request.why.map(str::trim).filter(|w| !w.is_empty());
        let Some(why) = why else {
            return Err(EngineError::BadRequest(
                "a rejection needs --why TEXT: the task fails with it".into(),
            ));
        };
        let task = self.waiting_task(run, request.task).await?;
        let decision = Decision {
            approved: false,
            agent: None,
            why: Some(why),
            by: request.by,
        };
        let events = self.store().decide_approval(run, &task, &decision).await?;
        self.bus().emit(events);
        Ok(task)
    }

    /// Approves every task of `run` in advance: no attempt waits for a person.
    pub async fn auto_approve(&self, run: &RunId) -> Result<(), EngineError> {
        Ok(self.store().approve_every_task(run).await?)
    }

    /// What waits for approval now, in `run` or in every run, oldest first.
    pub async fn approval_waits(
        &self,
        run: Option<&RunId>,
    ) -> Result<Vec<ApprovalWait>, EngineError> {
        if let Some(run) = run {
            self.store().run(run).await?;
        }
        let rows = self.store().approval_waits(run).await?;
        let mut timeouts: std::collections::BTreeMap<RunId, Option<std::time::Duration>> =
            Default::default();
        let mut waits = Vec::new();
        for row in rows {
            if !timeouts.contains_key(&row.run_id) {
                timeouts.insert(row.run_id.clone(), self.approval_timeout(&row.run_id).await);
            }
            let timeout = timeouts.get(&row.run_id).copied().flatten();
            let times_out_at = match (timeout, row.since.as_deref()) {
                (Some(timeout), Some(since)) => crate::approval_risk::times_out_at(since, timeout)
                    .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                _ => None,
            };
            waits.push(ApprovalWait {
                on_approve: row.point.on_approve().to_owned(),
                run: row.run_id,
                task: row.task_id,
                point: row.point,
                risk: row.risk,
                reason: row.reason,
                since: row.since,
                times_out_at,
            });
        }
        Ok(waits)
    }

    /// `[risk] approval_timeout` of the repository of `run` (none when it cannot be read:
    /// the listing still shows the wait).
    async fn approval_timeout(&self, run: &RunId) -> Option<std::time::Duration> {
        let row = self.store().run(run).await.ok()?;
        let config = crate::config::Config::load(std::path::Path::new(&row.repo)).ok()?;
        config.risk.approval_timeout
    }

    async fn waits_for_delivery(&self, run: &RunId, task: &TaskId) -> Result<bool, EngineError> {
        Ok(self
            .store()
            .approval_waits(Some(run))
            .await?
            .iter()
            .any(|w| &w.task_id == task && w.point == baton_protocol::ApprovalPoint::Delivery))
    }

    /// The task a decision is about: `task` when it waits for approval, else the one task of
    /// `run` that waits; the error says what waits instead.
    async fn waiting_task(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
    ) -> Result<TaskId, EngineError> {
        let tasks = self.store().tasks(run).await?;
        let waiting: Vec<&TaskId> = tasks
            .iter()
            .filter(|t| t.status == TaskStatus::AwaitingApproval)
            .map(|t| &t.id)
            .collect();
        let Some(task) = task else {
            return match waiting.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(EngineError::BadRequest(format!(
                    "no task of run {run} waits for approval"
                ))),
                many => Err(EngineError::BadRequest(format!(
                    "{} tasks of run {run} wait for approval ({}); name one: `baton approve \
                     {run} TASK`",
                    many.len(),
                    many.iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            };
        };
        let row = crate::task_in(&tasks, run, task)?;
        if row.status != TaskStatus::AwaitingApproval {
            return Err(EngineError::BadRequest(format!(
                "task {task} of run {run} waits for no approval (it is {}); only tasks that \
                 are awaiting_approval can be approved or rejected",
                row.status
            )));
        }
        Ok(task.clone())
    }
}
