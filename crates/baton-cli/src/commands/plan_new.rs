//! `baton plan new "GOAL"` (and the planning half of `baton run "GOAL"`): ask the planner,
//! write the plan file atomically, and show the plan as a table with risks, open questions
//! and what each task would cost.

use super::{bad_input, open_engine, print_json, repo_dir};
use crate::{Exit, exit, style};
use baton_core::Usd;
use baton_engine::budget::TaskEstimate;
use baton_engine::{Engine, PlanRequest, Planned, PlannerError, validate_plan};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The exit a planning failure deserves: 2 when the person must change their input or setup.
pub fn planner_exit(error: PlannerError) -> Exit {
    let code = match &error {
        PlannerError::Engine(engine) => super::exit_code_of(engine),
        other if other.is_bad_input() => exit::BAD_INPUT,
        _ => exit::FAILED,
    };
    Exit {
        code,
        error: error.into(),
    }
}

/// Refuses an empty goal before anything is opened or paid for.
pub fn check_goal(goal: &str) -> Result<(), Exit> {
    baton_engine::checked_goal(goal).map_err(planner_exit)?;
    Ok(())
}

/// Asks the planner for a plan for `goal` in the repository around `repo`.
pub async fn plan_goal(
    engine: &Engine,
    repo: &Option<PathBuf>,
    goal: &str,
) -> Result<Planned, Exit> {
    engine
        .plan_goal(&PlanRequest {
            repo_dir: repo_dir(repo),
            goal: goal.to_owned(),
        })
        .await
        .map_err(planner_exit)
}

/// The estimated cost of each task of the plan file at `file` (`None` when it cannot be
/// estimated: the table then shows no cost).
pub async fn estimates(repo: &Option<PathBuf>, file: &Path) -> Option<Vec<TaskEstimate>> {
    let checked = validate_plan(&repo_dir(repo), file).await.ok()?;
    baton_engine::budget::estimate_plan(&baton_engine::Home::from_env(), &checked)
        .await
        .ok()
}

/// `baton plan new GOAL -o FILE [--force]`.
pub async fn plan_new(
    repo: &Option<PathBuf>,
    goal: &str,
    output: &Path,
    force: bool,
    json: bool,
) -> Result<u8, Exit> {
    // Refused before the planner is paid for.
    if !force && (output.exists() || output.is_symlink()) {
        return Err(bad_input(format!(
            "{} already exists; baton plan new does not overwrite it (--force does, or -o \
             another file)",
            output.display()
        )));
    }
    check_goal(goal)?;
    let engine = open_engine().await?;
    let planned = plan_goal(&engine, repo, goal).await?;
    let (plan_artifact, list_artifact) = engine.save_planned(None, &planned).await?;
    super::write_file(output, planned.yaml.as_bytes(), force)?;
    let costs = estimates(repo, output).await;
    if json {
        let mut doc = planned_json(&planned, costs.as_deref());
        doc["plan_file"] = serde_json::json!(output);
        doc["artifacts"] = serde_json::json!({
            "plan": plan_artifact.id,
            "task_list": list_artifact.id,
        });
        print_json(&doc)?;
        return Ok(exit::OK);
    }
    print!("{}", render_planned(&planned, costs.as_deref()));
    println!(
        "\n{} {} (artifact {}); edit it if you like, then `baton run --plan {}`",
        style::good("wrote"),
        output.display(),
        plan_artifact.id,
        output.display()
    );
    Ok(exit::OK)
}

/// The plan as `--json` prints it.
pub fn planned_json(planned: &Planned, costs: Option<&[TaskEstimate]>) -> serde_json::Value {
    let cost_of = |id: &str| costs.and_then(|c| c.iter().find(|e| e.task == id));
    serde_json::json!({
        "goal": planned.goal,
        "summary": planned.answer.summary,
        "tasks": planned.answer.tasks.iter().map(|task| {
            let estimate = cost_of(&task.id);
            serde_json::json!({
                "id": task.id,
                "title": task.title,
                "deps": task.deps,
                "agent": estimate.and_then(|e| e.agent.clone()),
                "claims": task.claims,
                "priority": task.priority,
                "complexity": task.complexity,
                "risk": task.risk,
                "capabilities": task.capabilities,
                "checks": task.checks,
                "estimate": estimate,
            })
        }).collect::<Vec<_>>(),
        "risks": planned.answer.risks,
        "open_questions": planned.answer.open_questions,
        "planner": planned.planner,
        "repaired": planned.repaired,
    })
}

/// The plan as a table, then its risks, open questions and what planning cost.
pub fn render_planned(planned: &Planned, costs: Option<&[TaskEstimate]>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", style::bold("plan:"), planned.goal);
    if !planned.answer.summary.is_empty() {
        let _ = writeln!(out, "{}", planned.answer.summary);
    }
    let _ = writeln!(out);
    let id_width = planned
        .answer
        .tasks
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let deps_of = |task: &baton_protocol::PlannedTask| {
        if task.deps.is_empty() {
            "-".to_owned()
        } else {
            task.deps.join(",")
        }
    };
    let deps_width = planned
        .answer
        .tasks
        .iter()
        .map(|t| deps_of(t).len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<deps_width$}  {:<9} {:>4} {:<6} {:>9}  CLAIMS",
        "TASK", "DEPS", "AGENT", "CPLX", "RISK", "COST"
    );
    for task in &planned.answer.tasks {
        let estimate = costs.and_then(|c| c.iter().find(|e| e.task == task.id));
        let deps = deps_of(task);
        let risk = match task.risk.as_str() {
            "high" => style::bad(&format!("{:<6}", task.risk)),
            "medium" => style::warn(&format!("{:<6}", task.risk)),
            _ => format!("{:<6}", task.risk),
        };
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<deps_width$}  {:<9} {:>4} {risk} {:>9}  {}",
            task.id,
            deps,
            estimate.and_then(|e| e.agent.as_deref()).unwrap_or("-"),
            task.complexity,
            estimate
                .and_then(|e| e.usd)
                .map_or_else(|| "-".to_owned(), |usd| usd.to_string()),
            task.claims.join(" ")
        );
    }
    if let Some(costs) = costs {
        let known: Vec<Usd> = costs.iter().filter_map(|e| e.usd).collect();
        let total = known
            .iter()
            .fold(Usd::ZERO, |sum, usd| sum.saturating_add(*usd));
        let unknown = costs.len() - known.len();
        let _ = write!(
            out,
            "\nestimated cost: {total} if every task succeeds at once"
        );
        if unknown > 0 {
            let _ = write!(out, " ({unknown} task(s) of unknown cost not included)");
        }
        let _ = writeln!(out);
    }
    if !planned.answer.risks.is_empty() {
        let _ = writeln!(out, "\n{}", style::bold("risks:"));
        for risk in &planned.answer.risks {
            let _ = writeln!(out, "  - {risk}");
        }
    }
    if !planned.answer.open_questions.is_empty() {
        let _ = writeln!(out, "\n{}", style::warn("open questions:"));
        for question in &planned.answer.open_questions {
            let _ = writeln!(out, "  - {question}");
        }
    }
    let used = &planned.planner;
    let cost = used
        .cost
        .map_or_else(|| "unknown".to_owned(), |usd| usd.to_string());
    let _ = writeln!(
        out,
        "\n{} {} {}, {} call{}, {} input + {} output tokens, cost {cost}{}",
        style::dim("planned by"),
        used.provider,
        used.model,
        used.calls,
        if used.calls == 1 { "" } else { "s" },
        used.usage.input_tokens + used.usage.cached_input_tokens,
        used.usage.output_tokens,
        if planned.repaired.is_empty() {
            String::new()
        } else {
            format!(
                " (the first answer was repaired: {})",
                planned.repaired.join("; ")
            )
        }
    );
    out
}

#[cfg(test)]
#[path = "plan_new_tests.rs"]
mod tests;
