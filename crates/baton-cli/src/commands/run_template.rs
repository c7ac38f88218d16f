//! `baton run "GOAL" --template NAME`: the template's phases up to the plan (analyzers, the
//! planner or the scanner), the plan shown, then run with the template's reviews and
//! escalation. The template's settings, analyses, plan and task list are the run's artifacts.

use super::plan_new::planner_exit;
use super::{bad_input, open_engine, print_json, repo_dir};
use crate::cli::RunArgs;
use crate::{Exit, exit, style};
use baton_engine::TemplateRequest;
use std::path::PathBuf;

/// Runs `goal` (or, for a template that starts with the scanner, what the scan finds) by the
/// template `name`.
pub async fn run_template(
    repo: &Option<PathBuf>,
    goal: Option<&str>,
    name: &str,
    args: &RunArgs,
    json: bool,
) -> Result<u8, Exit> {
    let asks = !args.yes && !args.dry_run;
    super::run_goal::check_can_ask(asks)?;
    let git = baton_git::Git::discover(&repo_dir(repo)).await?;
    let (template, _) = baton_engine::templates::load_template(git.root(), name)?;
    let scanned = if template.phases.iter().any(|p| p.scan) {
        let Some(text) = super::scan::scan_plan_text(repo).await? else {
            return Ok(exit::OK);
        };
        let file = baton_core::parse_plan_file(&text, "scan plan")
            .map_err(|e| bad_input(format!("the scan's plan is invalid: {e}")))?;
        Some(file)
    } else {
        None
    };
    let goal = match (goal, &scanned) {
        (Some(goal), _) => goal.to_owned(),
        (None, Some(file)) => file.goal.clone().unwrap_or_default(),
        (None, None) => {
            return Err(bad_input(format!(
                "template {name} needs a goal: baton run \"GOAL\" --template {name}"
            )));
        }
    };
    super::plan_new::check_goal(&goal)?;
    let engine = open_engine().await?;
    let request = TemplateRequest {
        repo_dir: repo_dir(repo),
        goal,
        vars: args.vars.iter().cloned().collect(),
        scanned,
    };
    let planned = engine
        .plan_template(&request, &template)
        .await
        .map_err(planner_exit)?;
    for skipped in &planned.settings.skipped {
        eprintln!("{} phase {skipped}", style::warn("skipped:"));
    }
    for fell_back in &planned.settings.fell_back {
        eprintln!("{} phase {fell_back}", style::warn("fallback:"));
    }
    let ids = engine.save_template_planned(&planned).await?;
    let plan = engine.artifact(&ids[0]).await?;
    let plan_path = PathBuf::from(&plan.path);
    if !json {
        eprintln!(
            "{} {} ({} tasks){}",
            style::bold("template:"),
            planned.template,
            planned.plan.tasks.len(),
            match &planned.settings.review {
                Some(review) => format!(
                    ", reviews: {}",
                    review
                        .kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => String::new(),
            }
        );
    }
    if args.dry_run {
        if json {
            print_json(&serde_json::json!({
                "template": planned.template,
                "goal": planned.goal,
                "project": planned.project,
                "plan": planned.plan,
                "settings": planned.settings,
                "artifacts": ids,
            }))?;
            return Ok(exit::OK);
        }
        super::plan::show_plan(repo, &plan_path, args.lanes, false).await?;
        println!(
            "\ndry run: nothing ran. To run this plan: `baton artifact export {} -o plan.yaml`, \
             then `baton run --plan plan.yaml`",
            plan.id
        );
        return Ok(exit::OK);
    }
    if !json {
        super::plan::show_plan(repo, &plan_path, args.lanes, false).await?;
    }
    let questions = match (&planned.planned, args.yes) {
        (Some(made), false) => made.answer.open_questions.clone(),
        _ => Vec::new(),
    };
    if questions.is_empty() && asks && !super::run_goal::confirm()? {
        eprintln!("not run");
        return Ok(exit::CANCELLED);
    }
    let mut args = args.clone();
    if args.budget.is_none()
        && let Some(usd) = template.budget_usd
    {
        args.budget = baton_core::Usd::from_dollars(usd);
    }
    let planning = super::run::Planning {
        planned: None,
        template: Some(&planned),
        artifacts: ids,
        questions,
    };
    super::run::run_plan(repo, &args, &plan_path, Some(planning), json).await
}
