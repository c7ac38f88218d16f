//! `baton run "GOAL"`: plan with the `[planner]`, show the plan, ask, then run it. The plan and
//! the task list are kept as artifacts of the run.

use super::plan_new::{check_goal, estimates, plan_goal, planned_json, render_planned};
use super::{bad_input, open_engine, print_json};
use crate::cli::RunArgs;
use crate::{Exit, exit};
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

/// `baton run "GOAL" [--yes] [--dry-run]`.
pub async fn run_goal(
    repo: &Option<PathBuf>,
    goal: &str,
    args: &RunArgs,
    json: bool,
) -> Result<u8, Exit> {
    let asks = !args.yes && !args.dry_run;
    check_can_ask(asks)?;
    check_goal(goal)?;
    // A template (named, or the default one) runs its phases instead of plain planning.
    let template = match &args.template {
        Some(name) => Some(name.clone()),
        None => match baton_git::Git::discover(&super::repo_dir(repo)).await {
            Ok(git) => baton_engine::templates::default_template(git.root())?.map(|(n, _)| n),
            Err(_) => None,
        },
    };
    if let Some(name) = template {
        return super::run_template::run_template(repo, Some(goal), &name, args, json).await;
    }
    if !args.vars.is_empty() {
        return Err(bad_input(
            "--var gives values to a workflow template's prompts: add --template NAME (`baton \
             template list`)",
        ));
    }
    let engine = open_engine().await?;
    let planned = plan_goal(&engine, repo, goal).await?;
    let (plan, list) = engine.save_planned(None, &planned).await?;
    let plan_path = PathBuf::from(&plan.path);
    let costs = estimates(repo, &plan_path).await;
    let export = format!(
        "`baton artifact export {} -o plan.yaml`, edit it, then `baton run --plan plan.yaml`",
        plan.id
    );
    if args.dry_run {
        if json {
            let mut doc = planned_json(&planned, costs.as_deref());
            doc["artifacts"] = serde_json::json!({ "plan": plan.id, "task_list": list.id });
            print_json(&doc)?;
        } else {
            print!("{}", render_planned(&planned, costs.as_deref()));
            println!("\ndry run: nothing ran. To run this plan: {export}");
        }
        return Ok(exit::OK);
    }
    if !json {
        print!("{}", render_planned(&planned, costs.as_deref()));
    }
    // Open questions: the run is made and waits for `baton answer` (unless --yes).
    let questions = if args.yes {
        Vec::new()
    } else {
        planned.answer.open_questions.clone()
    };
    if questions.is_empty() && asks && !confirm()? {
        eprintln!("not run. To run it later: {export}");
        return Ok(exit::CANCELLED);
    }
    let planning = super::run::Planning {
        planned: Some(&planned),
        template: None,
        artifacts: vec![plan.id, list.id],
        questions,
    };
    super::run::run_plan(repo, args, &plan_path, Some(planning), json).await
}

/// Refuses, before anything is paid for, to ask on a stdin that is not a terminal: nobody
/// could answer.
pub fn check_can_ask(asks: bool) -> Result<(), Exit> {
    if asks && !std::io::stdin().is_terminal() {
        return Err(bad_input(
            "baton run \"GOAL\" shows the plan and asks before running, but stdin is not a \
             terminal: pass --yes to run it without asking, or write the plan with `baton plan \
             new \"GOAL\" -o plan.yaml`, read it, then `baton run --plan plan.yaml`",
        ));
    }
    Ok(())
}

/// Asks on the terminal whether to run the plan; true for `y` or `yes`.
pub fn confirm() -> Result<bool, Exit> {
    eprint!("\nrun this plan? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
