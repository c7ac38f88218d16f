//! The prompt baton writes for an AI agent's attempt: the goal, the task, the paths it may
//! change, what its dependencies changed, the gates that judge it and, on a retry, why the
//! previous attempt failed. This module gathers those facts into a [`PromptContext`]; the
//! template (`prompt_template.rs`) turns them into text.

use crate::EngineError;
use crate::context::RunCtx;
use crate::prompt_template::{DependencyVars, GateVars, PromptContext, PromptTemplate, TaskVars};
use baton_core::{Plan, Prompt, TaskSpec};
use baton_protocol::{MergeItemStatus, TaskId, TaskStatus};
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

/// The task's gates, for its prompt.
fn gate_vars(plan: &baton_core::Plan, spec: &TaskSpec) -> Vec<GateVars> {
    spec.gates
        .iter()
        .filter_map(|name| plan.gate(name))
        .map(|gate| GateVars {
            name: gate.name.clone(),
            command: gate.command.clone(),
        })
        .collect()
}

/// `task` of the prompt's context.
fn task_vars(spec: &TaskSpec, task_prompt: String) -> TaskVars {
    let claims = spec.claims.as_strings();
    TaskVars {
        id: spec.id.to_string(),
        title: spec.title.clone(),
        prompt: task_prompt,
        claims_everything: claims.len() == 1 && claims[0] == "**",
        claims,
        complexity: spec.complexity,
        capabilities: spec.capabilities.clone(),
        agent: spec.agent.to_string(),
        model: spec.model.clone(),
        steps: spec.steps.clone(),
    }
}

/// The context of a prompt with no run yet: every dependency "not run yet".
fn context_without_run(
    plan: &Plan,
    spec: &TaskSpec,
    task_prompt: String,
    attempt: u32,
    failure: Option<String>,
) -> PromptContext {
    let dependencies = spec
        .deps
        .iter()
        .map(|dep| {
            let title = plan.task(dep).map(|t| t.title.clone()).unwrap_or_default();
            DependencyVars::pending(dep.to_string(), title, "not run yet".to_owned())
        })
        .collect();
    PromptContext {
        goal: plan.goal.clone(),
        task: task_vars(spec, task_prompt),
        gates: gate_vars(plan, spec),
        dependencies,
        attempt,
        failure,
        run: None,
        briefing: None,
    }
}

/// The task's dependencies in the run: each merged one with the files its merged attempt
/// changed.
async fn dependencies_in_run(
    ctx: &RunCtx,
    spec: &TaskSpec,
) -> Result<Vec<DependencyVars>, EngineError> {
    let mut out = Vec::new();
    for dep in &spec.deps {
        let title = ctx
            .plan
            .task(dep)
            .map(|t| t.title.clone())
            .unwrap_or_default();
        let row = ctx.task_row(dep).await?;
        if row.status != TaskStatus::Merged {
            out.push(DependencyVars::pending(
                dep.to_string(),
                title,
                row.status.as_str().to_owned(),
            ));
            continue;
        }
        let files = match ctx.store.latest_merge_item(ctx.id(), dep).await? {
            Some(item) if item.status == MergeItemStatus::Merged => ctx
                .store
                .attempts(ctx.id(), Some(dep))
                .await?
                .into_iter()
                .find(|attempt| attempt.number == item.attempt)
                .map(|attempt| attempt.changed_paths)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        out.push(DependencyVars::merged(dep.to_string(), title, files));
    }
    Ok(out)
}

/// Where the run stands for `spec`'s attempt: what is done, what runs beside it, what it may
/// spend.
async fn briefing(
    ctx: &RunCtx,
    spec: &TaskSpec,
    budget_left: Option<baton_core::Usd>,
) -> Result<crate::prompt_template::BriefingVars, EngineError> {
    let rows = ctx.store.tasks(ctx.id()).await?;
    let running = rows
        .iter()
        .filter(|t| t.status == TaskStatus::Running && t.id != spec.id)
        .filter_map(|t| ctx.plan.task(&t.id))
        .map(|other| crate::prompt_template::RunningVars {
            id: other.id.to_string(),
            title: other.title.clone(),
            claims: other.claims.as_strings(),
        })
        .collect();
    Ok(crate::prompt_template::BriefingVars {
        done: rows
            .iter()
            .filter(|t| baton_core::task_is_done(t.status))
            .count(),
        tasks: rows.len(),
        running,
        budget_left: budget_left.map(|usd| usd.to_string()),
    })
}

/// Renders the prompt of attempt `number` of `spec` (with the previous attempt's `failure` on a
/// retry) from the repository's template and saves it as `runs/<run>/prompts/<task>.<number>.md`;
/// returns the text and the file. The error is the attempt's failure.
pub(crate) async fn attempt_prompt(
    ctx: &RunCtx,
    spec: &TaskSpec,
    number: u32,
    failure: Option<&str>,
    budget_left: Option<baton_core::Usd>,
) -> Result<(String, PathBuf), String> {
    let mut task_prompt = prompt_text(ctx, spec)?;
    // A workflow template's implementer prompt is rendered again with this attempt's
    // `iteration` (unless the plan's prompt was edited since the template wrote it).
    if let Some(kept) = ctx.template_prompts.get(spec.id.as_str())
        && let Some(rendered) = kept.for_attempt(&task_prompt, number)
    {
        task_prompt = rendered?;
    }
    let template = repository_template(ctx.git.root()).map_err(|e| e.to_string())?;
    let dependencies = dependencies_in_run(ctx, spec)
        .await
        .map_err(|e| format!("cannot read the dependencies of {}: {e}", spec.id))?;
    let context = PromptContext {
        goal: ctx.plan.goal.clone(),
        task: task_vars(spec, task_prompt),
        gates: gate_vars(&ctx.plan, spec),
        dependencies,
        attempt: number,
        failure: failure.map(str::to_owned),
        run: Some(ctx.id().to_string()),
        briefing: Some(
            briefing(ctx, spec, budget_left)
                .await
                .map_err(|e| format!("cannot read the run's tasks: {e}"))?,
        ),
    };
    let prompt = template.render(&context)?;
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

/// The prompt template of the repository at `repo_root` (see [`PromptTemplate::load`]).
pub(crate) fn repository_template(repo_root: &Path) -> Result<PromptTemplate, EngineError> {
    let config = crate::Config::load(repo_root)?;
    PromptTemplate::load(repo_root, config.prompt_template.as_deref())
}

/// Before a run: the repository's prompt template parses and renders for every AI task of the
/// plan, on a first attempt and on a retry with dependencies that changed files, so a typo in
/// any branch of it is refused now (with its file and line) rather than failing attempts.
pub(crate) fn check_template(checked: &crate::ValidatedPlan) -> Result<(), EngineError> {
    check_renders(checked, &repository_template(checked.git.root())?)
}

/// [`check_template`] for a loaded `template`.
fn check_renders(
    checked: &crate::ValidatedPlan,
    template: &PromptTemplate,
) -> Result<(), EngineError> {
    for spec in checked.plan.tasks.iter().filter(|t| t.agent.is_ai()) {
        // An unreadable prompt_file is reported by the agent checks; render the rest.
        let task_prompt = prompt_text_of(&checked.origin, spec).unwrap_or_default();
        let first = context_without_run(&checked.plan, spec, task_prompt.clone(), 1, None);
        let mut retry = context_without_run(
            &checked.plan,
            spec,
            task_prompt,
            2,
            Some("gate `test` failed (exit 1)".to_owned()),
        );
        retry.run = Some("20260101-000000-0000".to_owned());
        for dep in &mut retry.dependencies {
            *dep = DependencyVars::merged(
                dep.id.clone(),
                dep.title.clone(),
                vec!["src/lib.rs".to_owned()],
            );
        }
        for context in [first, retry] {
            template.render(&context).map_err(|why| {
                EngineError::Config(format!("{why}; rendering the prompt of task {}", spec.id))
            })?;
        }
    }
    Ok(())
}

/// The prompt baton would send for `task` of a validated plan on its first attempt (`baton
/// prompt PLAN TASK`), from the repository's template.
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
    let template = repository_template(checked.git.root())?;
    check_renders(checked, &template)?;
    let context = context_without_run(&checked.plan, spec, text, 1, None);
    template.render(&context).map_err(EngineError::Config)
}
