//! `baton plan validate` and `baton plan show` (also `baton run --dry-run`).

use super::{print_json, repo_dir};
use crate::cli::PlanCommand;
use crate::{Exit, exit, style};
use baton_core::{Plan, Usd, format_duration, parse_plan, simulate_list_schedule};
use baton_engine::budget::TaskEstimate;
use baton_engine::{EngineError, validate_plan};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `baton plan ...`.
pub async fn plan(repo: &Option<PathBuf>, command: PlanCommand, json: bool) -> Result<u8, Exit> {
    match command {
        PlanCommand::Validate { file } => {
            let checked = validate_plan(&repo_dir(repo), &file).await?;
            let levels = checked.plan.dag().levels().len();
            if json {
                print_json(&serde_json::json!({
                    "plan": file,
                    "valid": true,
                    "tasks": checked.plan.tasks.len(),
                    "levels": levels,
                    "base": checked.base,
                    "base_commit": checked.base_commit.to_string(),
                }))?;
            } else {
                println!(
                    "{} {}: {} tasks in {levels} levels, base {} ({})",
                    style::good("ok"),
                    file.display(),
                    checked.plan.tasks.len(),
                    checked.base,
                    checked.base_commit.as_str().get(..10).unwrap_or("")
                );
            }
            Ok(exit::OK)
        }
        PlanCommand::Show { file, lanes } => show_plan_file(&file, lanes, json).await,
        PlanCommand::New {
            goal,
            output,
            force,
        } => super::plan_new::plan_new(repo, &goal, &output, force, json).await,
        PlanCommand::Edit { run } => edit(&run, json).await,
    }
}

/// `baton plan edit RUN`: the run's plan in the person's editor; the edit, checked like
/// `baton run --plan` checks a plan, becomes the run's plan. A refused edit is kept in a file
/// whose path is printed.
async fn edit(run: &str, json: bool) -> Result<u8, Exit> {
    let engine = super::open_engine().await?;
    let run = super::known_run(&engine, run).await?;
    let source = engine.run_plan_source(&run).await?;
    let (dir, path, edited) = super::editor::edit_copy("plan.yaml", &source)?;
    if edited == source {
        if json {
            print_json(&serde_json::json!({ "run": run, "changed": false }))?;
        } else {
            println!("no change; the run keeps its plan");
        }
        return Ok(exit::OK);
    }
    match engine
        .edit_run_plan(&run, &path, &baton_engine::os_user())
        .await
    {
        Ok(done) => {
            if json {
                print_json(&done)?;
            } else {
                println!(
                    "{} run {run} follows the edited plan: {} task(s), {} before (kept as {}); \
                     `baton resume {run}` runs it",
                    style::good("edited:"),
                    done.tasks_after,
                    done.tasks_before,
                    done.artifact
                );
            }
            Ok(exit::OK)
        }
        Err(error) => {
            // Keep the person's work where they can find it.
            let _ = dir.keep();
            let mut exit = Exit::from(error);
            exit.error = exit.error.context(format!(
                "the edited plan was not taken; your edit is in {}",
                path.display()
            ));
            Err(exit)
        }
    }
}

/// `baton run --dry-run`: validate against the repository, then show.
/// `baton run --dry-run`: the plan's schedule and the estimated cost of each task.
pub async fn show_plan(
    repo: &Option<PathBuf>,
    file: &Path,
    lanes: Option<u32>,
    json: bool,
) -> Result<u8, Exit> {
    let checked = validate_plan(&repo_dir(repo), file).await?;
    let costs =
        baton_engine::budget::estimate_plan(&baton_engine::Home::from_env(), &checked).await?;
    let plan = &checked.plan;
    let lanes = lanes.unwrap_or(plan.lanes).max(1);
    describe(plan, lanes, json, Some(&costs))?;
    Ok(exit::OK)
}

async fn show_plan_file(file: &Path, lanes: Option<u32>, json: bool) -> Result<u8, Exit> {
    let source = tokio::fs::read_to_string(file)
        .await
        .map_err(|source| EngineError::ReadPlan {
            path: file.to_path_buf(),
            source,
        })?;
    let plan = parse_plan(&source, &file.display().to_string())
        .map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
    let lanes = lanes.unwrap_or(plan.lanes).max(1);
    describe(&plan, lanes, json, None)?;
    Ok(exit::OK)
}

fn describe(
    plan: &Plan,
    lanes: u32,
    json: bool,
    costs: Option<&[TaskEstimate]>,
) -> Result<(), Exit> {
    let dag = plan.dag();
    let k = usize::try_from(lanes).unwrap_or(1);
    let (path, critical) = dag.critical_path();
    let work = dag.total_work();
    let bound = dag.lower_bound_makespan(k);
    let durations: BTreeMap<_, _> = plan
        .tasks
        .iter()
        .map(|t| (t.id.clone(), dag.estimate(&t.id)))
        .collect();
    let predicted = simulate_list_schedule(plan, &dag, k, &durations);
    let unestimated: Vec<String> = plan
        .tasks
        .iter()
        .filter(|t| t.estimate.is_none())
        .map(|t| t.id.to_string())
        .collect();
    let levels: Vec<Vec<String>> = dag
        .levels()
        .iter()
        .map(|level| level.iter().map(|t| t.to_string()).collect())
        .collect();
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if json {
        print_json(&serde_json::json!({
            "goal": plan.goal,
            "lanes": lanes,
            "levels": levels,
            "critical_path": path.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            "critical_path_ms": ms(critical),
            "total_work_ms": ms(work),
            "lower_bound_makespan_ms": ms(bound),
            "predicted_makespan_ms": ms(predicted),
            "unestimated_tasks": unestimated,
            "tasks": plan.tasks.iter().map(|t| serde_json::json!({
                "id": t.id,
                "title": t.title,
                "priority": t.priority,
                "estimate_ms": t.estimate.map(ms),
                "deps": t.deps,
                "claims": t.claims.as_strings(),
                "gates": t.gates,
                "retries": t.retries,
                "remaining_path_ms": ms(dag.remaining_path(&t.id)),
            })).collect::<Vec<_>>(),
            "costs": costs.map(|costs| serde_json::json!({
                "tasks": costs,
                "total_first_attempts": cost_total(costs, false),
                "total_every_attempt": cost_total(costs, true),
            })),
        }))?;
        return Ok(());
    }
    println!("{} {}", style::bold("plan:"), plan.goal);
    println!("{} tasks, {lanes} lanes\n", plan.tasks.len());
    for (n, level) in levels.iter().enumerate() {
        println!("level {n}: {}", level.join(", "));
    }
    println!();
    println!(
        "{:<20} {:<7} {:>8} {:>10}  {:<20} CLAIMS",
        "TASK", "PRIO", "ESTIMATE", "REMAINING", "DEPS"
    );
    for task in &plan.tasks {
        println!(
            "{:<20} {:<7} {:>8} {:>10}  {:<20} {}",
            task.id.as_str(),
            task.priority.as_str(),
            task.estimate
                .map(format_duration)
                .unwrap_or_else(|| "-".into()),
            format_duration(dag.remaining_path(&task.id)),
            task.deps
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(","),
            task.claims.as_strings().join(" ")
        );
    }
    println!();
    println!(
        "critical path: {} ({})",
        path.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" -> "),
        format_duration(critical)
    );
    println!("total work: {}", format_duration(work));
    println!(
        "lower-bound makespan with {lanes} lanes: {} (max of work/lanes and critical path)",
        format_duration(bound)
    );
    println!(
        "predicted makespan with baton's scheduler: {}",
        format_duration(predicted)
    );
    if !unestimated.is_empty() {
        println!(
            "{} no estimate for {}; assumed {} each",
            style::warn("note:"),
            unestimated.join(", "),
            format_duration(baton_core::DEFAULT_ESTIMATE)
        );
    }
    if let Some(costs) = costs {
        print_costs(costs);
    }
    Ok(())
}

/// The sum of the known estimates (first attempts only, or every attempt the tasks may take),
/// and how many tasks have no known estimate.
fn cost_total(costs: &[TaskEstimate], every_attempt: bool) -> serde_json::Value {
    let mut total = Usd::ZERO;
    let mut unknown = 0;
    for cost in costs {
        match cost.usd {
            Some(usd) => {
                let times = if every_attempt { cost.attempts } else { 1 };
                total = total.saturating_add(Usd(usd.micros().saturating_mul(u64::from(times))));
            }
            None => unknown += 1,
        }
    }
    serde_json::json!({ "usd": total, "unknown_tasks": unknown })
}

fn print_costs(costs: &[TaskEstimate]) {
    println!("\n{}", style::bold("estimated cost per attempt:"));
    println!(
        "{:<20} {:<9} {:<22} {:>10} {:>9}  BASIS",
        "TASK", "AGENT", "MODEL", "COST", "ATTEMPTS"
    );
    for cost in costs {
        println!(
            "{:<20} {:<9} {:<22} {:>10} {:>9}  {}",
            cost.task,
            cost.agent.as_deref().unwrap_or("-"),
            cost.model.as_deref().unwrap_or("-"),
            cost.usd
                .map_or_else(|| "unknown".to_owned(), |usd| usd.to_string()),
            cost.attempts,
            cost.basis
        );
    }
    let first = cost_total(costs, false);
    let every = cost_total(costs, true);
    let usd = |value: &serde_json::Value| Usd(value["usd"].as_u64().unwrap_or(0)).to_string();
    println!(
        "total: {} if every task succeeds at once, {} at most with every retry",
        usd(&first),
        usd(&every)
    );
    let unknown = first["unknown_tasks"].as_u64().unwrap_or(0);
    if unknown > 0 {
        println!(
            "{} {unknown} task(s) of unknown cost are not in the total",
            style::warn("note:")
        );
    }
}

/// `baton prompt PLAN TASK`.
pub async fn prompt(
    repo: &Option<PathBuf>,
    plan: &Path,
    task: &str,
    json: bool,
) -> Result<u8, Exit> {
    let checked = validate_plan(&repo_dir(repo), plan).await?;
    let text = baton_engine::first_prompt(&checked, &baton_protocol::TaskId::new(task))?;
    if json {
        print_json(&serde_json::json!({ "task": task, "prompt": text }))?;
    } else {
        print!("{text}");
    }
    Ok(exit::OK)
}
