//! Is a planner's answer usable? Reading the JSON a planning model returns (a ```json fence
//! around it is fine), checking it against the repository's tracked tree, and turning it into
//! a plan file. Pure: the tree comes in as a list of paths.

mod check;
mod read;
#[cfg(test)]
mod tests;
mod yaml;

pub use check::check_answer;
pub use read::{extract_json, parse_answer};
pub use yaml::{answer_to_plan, plan_file_yaml};

use baton_protocol::PlannerAnswer;
use std::fmt;

/// One thing wrong with a planner's answer, named by task and field so a repair request (and a
/// person) can find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannerProblem {
    /// The task's id (or `tasks[N]` when it has none); `None` for the answer as a whole.
    pub task: Option<String>,
    /// The field (`deps`, `claims`, `complexity`, ... or `answer` for the whole text).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl PlannerProblem {
    fn whole(field: &str, message: impl Into<String>) -> PlannerProblem {
        PlannerProblem {
            task: None,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn task(task: &str, field: &str, message: impl Into<String>) -> PlannerProblem {
        PlannerProblem {
            task: Some(task.to_owned()),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PlannerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.task {
            Some(task) => write!(f, "task {task:?}, field {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Reads and checks an answer: the answer, or every problem found.
pub fn read_answer(text: &str, tree: &[String]) -> Result<PlannerAnswer, Vec<PlannerProblem>> {
    let answer = parse_answer(text)?;
    let problems = check_answer(&answer, tree);
    if problems.is_empty() {
        Ok(answer)
    } else {
        Err(problems)
    }
}

/// The message that asks the planner to fix its answer: every problem, one per line.
pub fn repair_request(problems: &[PlannerProblem]) -> String {
    let mut text = String::from(
        "Your plan cannot be used as it is. Fix every one of these problems and answer again \
         with the whole corrected JSON object, in the same schema, and nothing else:\n",
    );
    for problem in problems {
        text.push_str("- ");
        text.push_str(&problem.to_string());
        text.push('\n');
    }
    text
}
