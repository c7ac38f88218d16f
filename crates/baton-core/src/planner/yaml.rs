//! A checked answer as a plan file (format version 1) and that file as YAML text.

use baton_protocol::{PLAN_VERSION, PlanFile, PlannedTask, PlannerAnswer, TaskFile};
use serde_json::Value;
use std::fmt::Write as _;

/// The plan file of a checked `answer` for `goal`; every task runs on `agent` (`auto` lets
/// routing choose). A task's checks are added to its prompt: the plan format has no field for
/// them, and the agent is the one who must make them pass.
pub fn answer_to_plan(answer: &PlannerAnswer, goal: &str, agent: &str) -> PlanFile {
    PlanFile {
        version: Some(PLAN_VERSION),
        goal: Some(goal.to_owned()),
        tasks: answer
            .tasks
            .iter()
            .map(|task| task_file(task, agent))
            .collect(),
        ..PlanFile::default()
    }
}

fn task_file(task: &PlannedTask, agent: &str) -> TaskFile {
    let mut prompt = task.prompt.trim().to_owned();
    if !task.checks.is_empty() {
        prompt.push_str("\n\nBefore you finish, make sure these pass:\n");
        for check in &task.checks {
            let _ = writeln!(prompt, "- `{check}`");
        }
    }
    TaskFile {
        id: task.id.clone(),
        title: (!task.title.trim().is_empty()).then(|| task.title.trim().to_owned()),
        agent: Some(agent.to_owned()),
        prompt: Some(prompt),
        complexity: Some(task.complexity),
        capabilities: task.capabilities.clone(),
        claims: task.claims.clone(),
        deps: task.deps.clone(),
        priority: Some(task.priority.clone()),
        // The planner's judgement; `[risk]` rules may raise it. Medium waits for a person's
        // approval before delivery, high before the agent starts.
        risk: Some(task.risk.clone()),
        steps: task
            .steps
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        ..TaskFile::default()
    }
}

/// `plan` as YAML in block style. Every string is written as a JSON string, which YAML reads as
/// a double-quoted scalar, so no prompt or path can break the document.
pub fn plan_file_yaml(plan: &PlanFile) -> String {
    let mut out = String::from(
        "# Written by `baton plan new`: review and edit it, then `baton run --plan FILE`.\n",
    );
    match serde_json::to_value(plan) {
        Ok(Value::Object(map)) => write_map(&mut out, &map, 0),
        // A PlanFile always serializes to an object; anything else would be a bug upstream.
        _ => out.push_str("{}\n"),
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                write_list(out, items, indent + 2);
            }
            other => {
                let _ = writeln!(out, "{pad}{key}: {}", scalar(other));
            }
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                // The first key goes on the dash's line; the rest line up under it.
                let mut first = String::new();
                write_map(&mut first, inner, indent + 2);
                let body = first.get(indent + 2..).unwrap_or("");
                let _ = write!(out, "{pad}- {body}");
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", scalar(other));
            }
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}
