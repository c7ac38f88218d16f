//! A person's decisions on tasks that wait for approval (`baton approve`, `baton reject`), and
//! `--auto-approve`.

use crate::{Engine, EngineError};
use baton_protocol::{RunId, TaskId, TaskStatus};

impl Engine {
    /// Approves a task that waits for approval, to run on `agent` instead when given. A live
    /// engine driving the run picks it up within a second; a paused run continues with
    /// `baton resume`.
    pub async fn approve(
        &self,
        run: &RunId,
        task: &TaskId,
        agent: Option<&str>,
    ) -> Result<(), EngineError> {
        if let Some(agent) = agent {
            let known = baton_agents::adapter(agent).is_some_and(|a| a.name() != "exec");
            if !known {
                return Err(EngineError::BadRequest(format!(
                    "--agent {agent}: not an AI agent baton can run (see `baton agents`)"
                )));
            }
        }
        self.waiting_task(run, task).await?;
        let events = self
            .store()
            .decide_approval(run, task, true, agent, None)
            .await?;
        self.bus().emit(events);
        Ok(())
    }

    /// Rejects a task that waits for approval: it fails with `why` (its dependents are
    /// blocked).
    pub async fn reject(&self, run: &RunId, task: &TaskId, why: &str) -> Result<(), EngineError> {
        self.waiting_task(run, task).await?;
        let events = self
            .store()
            .decide_approval(run, task, false, None, Some(why))
            .await?;
        self.bus().emit(events);
        Ok(())
    }

    /// Approves every task of `run` in advance: no attempt waits for a person.
    pub async fn auto_approve(&self, run: &RunId) -> Result<(), EngineError> {
        Ok(self.store().approve_every_task(run).await?)
    }

    /// Checks that `task` of `run` waits for approval; the error says what it does instead.
    async fn waiting_task(&self, run: &RunId, task: &TaskId) -> Result<(), EngineError> {
        let tasks = self.store().tasks(run).await?;
        let Some(row) = tasks.iter().find(|t| &t.id == task) else {
            let known: Vec<String> = tasks.iter().map(|t| t.id.to_string()).collect();
            return Err(EngineError::BadRequest(format!(
                "run {run} has no task {task} (its tasks: {})",
                known.join(", ")
            )));
        };
        if row.status != TaskStatus::AwaitingApproval {
            return Err(EngineError::BadRequest(format!(
                "task {task} of run {run} waits for no approval (it is {}); only tasks that \
                 are awaiting_approval can be approved or rejected",
                row.status
            )));
        }
        Ok(())
    }
}
