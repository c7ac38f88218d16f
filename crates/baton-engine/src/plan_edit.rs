//! `baton plan edit RUN`: a run that has not started a task yet takes an edited plan, checked
//! like `baton run --plan` checks one, recorded as an audited control and kept as the run's
//! newest plan artifact.

use crate::{Engine, EngineError};
use baton_protocol::{ArtifactKind, EventBody, RunId, RunStatus};
use baton_store::{PlanReplacement, StoreError};
use std::path::Path;

/// What `baton plan edit` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanEdited {
    pub run: RunId,
    /// The new plan's artifact.
    pub artifact: String,
    pub tasks_before: usize,
    pub tasks_after: usize,
}

impl Engine {
    /// The plan text `run` follows.
    pub async fn run_plan_source(&self, run: &RunId) -> Result<String, EngineError> {
        Ok(self.store().run(run).await?.plan_source)
    }

    /// Makes the plan file `edited` the plan of `run`, which must not be running or finished
    /// and must not have started an attempt. The plan must pass what `baton run --plan`
    /// checks, and keep the run's base branch.
    pub async fn edit_run_plan(
        &self,
        run: &RunId,
        edited: &Path,
        who: &str,
    ) -> Result<PlanEdited, EngineError> {
        let row = self.store().run(run).await?;
        let wrong_state = |what: String| EngineError::WrongState {
            run: run.clone(),
            status: row.status.to_string(),
            what,
        };
        if matches!(
            row.status,
            RunStatus::Running | RunStatus::Completed | RunStatus::Failed
        ) {
            return Err(wrong_state(
                "its plan can be edited only before its tasks start; steer it with baton \
                 skip, retry, reassign or force-complete"
                    .into(),
            ));
        }
        let checked = crate::intake::validate_plan(Path::new(&row.repo), edited).await?;
        crate::intake::check_agents_can_run(&checked)?;
        crate::prompt::check_template(&checked)?;
        if checked.base != row.base_ref {
            return Err(EngineError::InvalidPlan(format!(
                "{}: base {:?} is not the run's base {:?}; a run keeps the branch it started \
                 from (make a new run for another base)",
                edited.display(),
                checked.base,
                row.base_ref
            )));
        }
        let tasks_before = self.store().tasks(run).await?.len();
        let tasks = checked
            .plan
            .tasks
            .iter()
            .map(|t| (t.id.clone(), t.title.clone(), t.retries + 1))
            .collect::<Vec<_>>();
        let tasks_after = tasks.len();
        let audit = EventBody::ControlApplied {
            command: "plan-edit".into(),
            who: who.to_owned(),
            why: None,
            effect: format!(
                "the plan was replaced: {tasks_after} task(s), {tasks_before} before; approvals \
                 of the old tasks are dropped"
            ),
        };
        let replacement = PlanReplacement {
            goal: checked.plan.goal.clone(),
            plan_source: checked.source.clone(),
            tasks,
        };
        let event = self
            .store()
            .replace_plan(run, &replacement, audit)
            .await
            .map_err(|error| match error {
                StoreError::Stale { actual, .. } => wrong_state(format!(
                    "its plan can be edited only before its tasks start, and it is {actual}"
                )),
                other => other.into(),
            })?;
        self.bus().emit([event]);
        let kept = self
            .save_artifact(Some(run), None, ArtifactKind::Plan, &checked.source)
            .await?;
        Ok(PlanEdited {
            run: run.clone(),
            artifact: kept.id,
            tasks_before,
            tasks_after,
        })
    }
}
