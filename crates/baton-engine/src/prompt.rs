//! The prompt baton writes for an AI agent's attempt: the goal, the task, the paths it may
//! change, the gates that judge it and, on a retry, why the previous attempt failed.

use crate::EngineError;
use crate::context::RunCtx;
use baton_core::{Prompt, TaskSpec};
use baton_protocol::TaskId;
use std::path::{Path, PathBuf};

/// The prompt's text: the plan's, or its `prompt_file` read relative to the plan file.
pub(crate) fn prompt_text(ctx: &RunCtx, spec: &TaskSpec) -> Result<String, String> {
    prompt_text_of(&ctx.run.plan_origin, spec)
}

/// [`prompt_text`] for the plan file at `plan_origin`.
pub(crate) fn prompt_text_of(plan_origin: &str, spec: &TaskSpec) -> Result<String, String> {
    match &spec.prompt {
        Some(Prompt::Text(text)) => Ok(text.clone()),
        Some(Prompt::File(file)) => {
            let base = Path::new(plan_origin)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let path = base.join(file);
            std::fs::read_to_string(&path)
                .map_err(|error| format!("cannot read prompt_file {}: {error}", path.display()))
        }
        None => Err(format!("task {} has no prompt", spec.id)),
    }
}

/// The task's gates as (name, command), for its prompt.
pub(crate) fn gate_commands(plan: &baton_core::Plan, spec: &TaskSpec) -> Vec<(String, String)> {
    spec.gates
        .iter()
        .filter_map(|name| plan.gate(name))
        .map(|gate| (gate.name.clone(), gate.command.clone()))
        .collect()
}

/// What baton tells the agent: the goal, its task, the paths it may change, the gates that
/// will judge it, and on a retry why the previous attempt failed.
pub(crate) fn render_prompt(
    goal: &str,
    spec: &TaskSpec,
    task_prompt: &str,
    gates: &[(String, String)],
    failure: Option<&str>,
) -> String {
    let mut out = format!(
        "You are working on one task of a larger change.\n\nGoal of the whole change: {goal}\n\n\
         Your task ({}): {}\n\n{task_prompt}\n",
        spec.id, spec.title
    );
    let claims = spec.claims.as_strings();
    if !(claims.len() == 1 && claims[0] == "**") {
        out.push_str(&format!(
            "\nChange only these paths (other changes are refused): {}\n",
            claims.join(", ")
        ));
    }
    if !gates.is_empty() {
        out.push_str("\nWhen you are done, these checks must pass:\n");
        for (name, command) in gates {
            out.push_str(&format!("- {name}: `{command}`\n"));
        }
    }
    if let Some(failure) = failure {
        out.push_str(&format!(
            "\nThe previous attempt at this task failed. Fix that:\n{failure}\n"
        ));
    }
    out.push_str(
        "\nWork in the current directory. Do not commit, push or change branches: baton commits \
         your changes and integrates them after the checks.\n",
    );
    out
}

/// Renders the prompt of attempt `number` of `spec` (with the previous attempt's `failure` on a
/// retry) and saves it as `runs/<run>/prompts/<task>.<number>.md`; returns the text and the
/// file. The error is the attempt's failure.
pub(crate) async fn attempt_prompt(
    ctx: &RunCtx,
    spec: &TaskSpec,
    number: u32,
    failure: Option<&str>,
) -> Result<(String, PathBuf), String> {
    let task_prompt = prompt_text(ctx, spec)?;
    let gates = gate_commands(&ctx.plan, spec);
    let prompt = render_prompt(&ctx.plan.goal, spec, &task_prompt, &gates, failure);
    let prompt_file = ctx
        .home
        .run_dir(ctx.id().as_str())
        .join("prompts")
        .join(format!("{}.{number}.md", spec.id));
    if let Some(dir) = prompt_file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot write the prompt: {e}"))?;
    }
    std::fs::write(&prompt_file, &prompt).map_err(|e| format!("cannot write the prompt: {e}"))?;
    Ok((prompt, prompt_file))
}

/// The prompt baton would send for `task` of a validated plan on its first attempt (`baton
/// prompt PLAN TASK`).
pub fn first_prompt(checked: &crate::ValidatedPlan, task: &TaskId) -> Result<String, EngineError> {
    let Some(spec) = checked.plan.task(task) else {
        let known: Vec<String> = checked
            .plan
            .tasks
            .iter()
            .map(|t| t.id.to_string())
            .collect();
        return Err(EngineError::InvalidPlan(format!(
            "{}: no task {task} (its tasks: {})",
            checked.origin,
            known.join(", ")
        )));
    };
    if !spec.agent.is_ai() {
        return Err(EngineError::InvalidPlan(format!(
            "{}: task {task} is an exec task (`run: {}`); only AI agents get a prompt",
            checked.origin, spec.run
        )));
    }
    let text = prompt_text_of(&checked.origin, spec)
        .map_err(|why| EngineError::InvalidPlan(format!("{}: {why}", checked.origin)))?;
    let gates = gate_commands(&checked.plan, spec);
    Ok(render_prompt(&checked.plan.goal, spec, &text, &gates, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_the_goal_the_claims_the_gates_and_the_failure() {
        let mut spec = TaskSpec::exec("login", "");
        spec.claims = baton_core::ClaimSet::parse(&["src/auth/**".to_owned()]).unwrap();
        let text = render_prompt(
            "Add OAuth2 login",
            &spec,
            "Write the GitHub provider.",
            &[("test".into(), "cargo test".into())],
            Some("gate `test` failed: 2 tests failed"),
        );
        assert!(text.contains("Goal of the whole change: Add OAuth2 login"));
        assert!(text.contains("Write the GitHub provider."));
        assert!(text.contains("Change only these paths (other changes are refused): src/auth/**"));
        assert!(text.contains("- test: `cargo test`"));
        assert!(text.contains("gate `test` failed: 2 tests failed"));
    }

    #[test]
    fn a_task_that_claims_everything_gets_no_path_list() {
        let spec = TaskSpec::exec("any", "");
        let text = render_prompt("g", &spec, "p", &[], None);
        assert!(!text.contains("Change only these paths"));
        assert!(!text.contains("previous attempt"));
    }
}
