//! A run made from a goal whose planner has open questions waits as `awaiting_input`; `baton
//! answer RUN` gives the answers, which join the run's goal (so every agent's prompt carries
//! them), are kept as an artifact, and start the run.

use crate::{Engine, EngineError};
use baton_protocol::{ArtifactKind, RunId, RunStatus};

/// The heading the answers get under the goal of an answered plan.
const ANSWERS_HEADING: &str = "Answers to the planner's open questions";

impl Engine {
    /// Holds the just-created run `run` until a person answers the planner's `questions`.
    pub async fn await_input(&self, run: &RunId, questions: &[String]) -> Result<(), EngineError> {
        let listed: String = questions.iter().map(|q| format!("\n- {q}")).collect();
        let event = self
            .store
            .transition_run(
                run,
                RunStatus::Pending,
                RunStatus::AwaitingInput,
                Some(format!(
                    "the planner has open questions; `baton answer {run}` answers them and \
                     starts the run:{listed}"
                )),
            )
            .await?;
        self.bus.emit([event]);
        Ok(())
    }

    /// The planner's open questions a waiting run holds (from its task list artifact).
    pub async fn open_questions(&self, run: &RunId) -> Result<Vec<String>, EngineError> {
        let lists = self.store.artifacts(Some(run)).await?;
        let Some(list) = lists
            .iter()
            .rev()
            .find(|a| a.kind == ArtifactKind::TaskList)
        else {
            return Ok(Vec::new());
        };
        let doc: serde_json::Value = serde_json::from_str(&list.content).unwrap_or_default();
        Ok(doc["open_questions"]
            .as_array()
            .map(|qs| {
                qs.iter()
                    .filter_map(|q| q.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Answers a waiting run: `answers` (free text) joins its goal, is kept as an artifact,
    /// and the run may be driven. Refused, with nothing written, unless the run waits for
    /// input and the answers say something.
    pub async fn answer(&self, run: &RunId, answers: &str, who: &str) -> Result<(), EngineError> {
        let row = self.store.run(run).await?;
        if row.status != RunStatus::AwaitingInput {
            return Err(EngineError::WrongState {
                run: row.id.clone(),
                status: row.status.to_string(),
                what: "it waits for no answers; only a run made from a goal whose planner asked \
                       questions does"
                    .into(),
            });
        }
        let answers = answers.trim();
        if answers.is_empty() {
            return Err(EngineError::BadRequest(
                "the answers are empty; write what the planner asked (--text, --file, or type \
                 them)"
                    .into(),
            ));
        }
        let questions = self.open_questions(run).await?;
        let mut record = format!("{ANSWERS_HEADING} (by {who}):\n");
        for question in &questions {
            record.push_str(&format!("- {question}\n"));
        }
        record.push_str(&format!("\n{answers}\n"));
        let source = with_answered_goal(&row.plan_source, &record).ok_or_else(|| {
            EngineError::BadRequest(format!(
                "run {run}'s plan has no goal line baton can add the answers to"
            ))
        })?;
        // The answered plan must still be the same valid plan.
        baton_core::parse_plan(&source, &row.plan_origin)
            .map_err(|errors| EngineError::InvalidPlan(errors.to_string()))?;
        self.save_artifact(Some(run), None, ArtifactKind::Answers, &record)
            .await?;
        let event = self
            .store
            .answer_run(run, &source, format!("answered by {who}"))
            .await?;
        self.bus.emit([event]);
        Ok(())
    }
}

/// `plan` (as the planner writes it: `goal:` on one line, a JSON string) with `answers` added
/// to its goal; `None` when it has no such line.
fn with_answered_goal(plan: &str, answers: &str) -> Option<String> {
    let mut out = String::new();
    let mut found = false;
    for line in plan.lines() {
        match line.strip_prefix("goal: ").filter(|_| !found) {
            Some(value) => {
                let goal: String = serde_json::from_str(value).ok()?;
                let answered = format!("{goal}\n\n{answers}");
                out.push_str(&format!(
                    "goal: {}\n",
                    serde_json::to_string(&answered).ok()?
                ));
                found = true;
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_join_the_goal_line_and_nothing_else_changes() {
        let plan = "# by baton\nversion: 1\ngoal: \"Write two files\"\ntasks:\n  - id: \"a\"\n    prompt: \"goal: keep\"\n";
        let out = with_answered_goal(plan, "Answers:\nyes, empty").unwrap();
        assert!(
            out.contains("goal: \"Write two files\\n\\nAnswers:\\nyes, empty\"\n"),
            "{out}"
        );
        assert!(out.contains("    prompt: \"goal: keep\"\n"), "{out}");
        assert!(with_answered_goal("version: 1\n", "x").is_none());
        assert!(with_answered_goal("goal: not json\n", "x").is_none());
    }
}
