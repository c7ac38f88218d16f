//! From the planner's text to a [`PlannerAnswer`], with every shape problem named by field.

use super::PlannerProblem;
use baton_protocol::{PlannedTask, PlannerAnswer};
use serde_json::{Map, Value};

/// The JSON inside `text`: the body of a ```json (or bare ```) fence when there is one, else
/// the text from its first `{` to its last `}`, else the trimmed text.
pub fn extract_json(text: &str) -> &str {
    if let Some(start) = text.find("```") {
        let after = &text[start + 3..];
        // The fence's info string (`json`) runs to the end of its line.
        let body_start = after.find('\n').map_or(after.len(), |n| n + 1);
        let body = &after[body_start..];
        if let Some(end) = body.find("```") {
            return body[..end].trim();
        }
    }
    match (text.find('{'), text.rfind('}')) {
        (Some(open), Some(close)) if open < close => &text[open..=close],
        _ => text.trim(),
    }
}

/// What a task field must be.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    List,
    Whole,
}

const TASK_FIELDS: [(&str, Shape, bool); 11] = [
    ("id", Shape::Text, true),
    ("title", Shape::Text, false),
    ("prompt", Shape::Text, true),
    ("claims", Shape::List, true),
    ("deps", Shape::List, false),
    ("priority", Shape::Text, false),
    ("complexity", Shape::Whole, true),
    ("risk", Shape::Text, true),
    ("capabilities", Shape::List, false),
    ("checks", Shape::List, false),
    ("steps", Shape::List, false),
];

/// Parses the answer's JSON and checks its shape (not its meaning: see
/// [`check_answer`](super::check_answer)). Every shape problem is listed.
pub fn parse_answer(text: &str) -> Result<PlannerAnswer, Vec<PlannerProblem>> {
    let json = extract_json(text);
    let value: Value = serde_json::from_str(json).map_err(|error| {
        vec![PlannerProblem::whole(
            "answer",
            format!("is not JSON ({error}); answer with one JSON object and nothing else"),
        )]
    })?;
    let Value::Object(object) = value else {
        return Err(vec![PlannerProblem::whole(
            "answer",
            "is JSON but not an object; answer with one object with the keys summary, tasks, \
             risks and open_questions",
        )]);
    };
    let mut problems = Vec::new();
    for key in object.keys() {
        if !["summary", "tasks", "risks", "open_questions"].contains(&key.as_str()) {
            problems.push(PlannerProblem::whole(
                key,
                "is not a key of the schema (summary, tasks, risks, open_questions)",
            ));
        }
    }
    let summary = match object.get("summary") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            problems.push(PlannerProblem::whole("summary", "must be a string"));
            String::new()
        }
    };
    let risks = text_list(object.get("risks"), "risks", None, &mut problems);
    let open_questions = text_list(
        object.get("open_questions"),
        "open_questions",
        None,
        &mut problems,
    );
    let mut tasks = Vec::new();
    match object.get("tasks") {
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                if let Some(task) = parse_task(index, item, &mut problems) {
                    tasks.push(task);
                }
            }
        }
        None => problems.push(PlannerProblem::whole("tasks", "is missing")),
        Some(_) => problems.push(PlannerProblem::whole("tasks", "must be a list of tasks")),
    }
    if problems.is_empty() {
        Ok(PlannerAnswer {
            summary,
            tasks,
            risks,
            open_questions,
        })
    } else {
        Err(problems)
    }
}

fn text_list(
    value: Option<&Value>,
    field: &str,
    task: Option<&str>,
    problems: &mut Vec<PlannerProblem>,
) -> Vec<String> {
    let wrong = |problems: &mut Vec<PlannerProblem>| {
        let message = "must be a list of strings";
        problems.push(match task {
            Some(task) => PlannerProblem::task(task, field, message),
            None => PlannerProblem::whole(field, message),
        });
    };
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let texts: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect();
            if texts.len() != items.len() {
                wrong(problems);
            }
            texts
        }
        Some(_) => {
            wrong(problems);
            Vec::new()
        }
    }
}

fn parse_task(
    index: usize,
    item: &Value,
    problems: &mut Vec<PlannerProblem>,
) -> Option<PlannedTask> {
    let Value::Object(object) = item else {
        problems.push(PlannerProblem::whole(
            &format!("tasks[{index}]"),
            "must be an object with id, title, prompt, claims, deps, priority, complexity, \
             risk, capabilities, checks and steps",
        ));
        return None;
    };
    let name = match object.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("tasks[{index}]"),
    };
    let before = problems.len();
    for key in object.keys() {
        if !TASK_FIELDS
            .iter()
            .any(|(field, _, _)| *field == key.as_str())
        {
            problems.push(PlannerProblem::task(
                &name,
                key,
                "is not a field of a task (id, title, prompt, claims, deps, priority, \
                 complexity, risk, capabilities, checks, steps)",
            ));
        }
    }
    for (field, shape, required) in TASK_FIELDS {
        check_field(&name, object, field, shape, required, problems);
    }
    if problems.len() > before {
        return None;
    }
    // The shape is checked field by field above, so this only fails on what it did not see.
    // A field written as null is a field left out (its default), as check_field read it.
    let present: Map<String, Value> = object
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    match serde_json::from_value::<PlannedTask>(Value::Object(present)) {
        Ok(task) => Some(task),
        Err(error) => {
            problems.push(PlannerProblem::task(&name, "task", error.to_string()));
            None
        }
    }
}

fn check_field(
    task: &str,
    object: &Map<String, Value>,
    field: &str,
    shape: Shape,
    required: bool,
    problems: &mut Vec<PlannerProblem>,
) {
    let Some(value) = object.get(field).filter(|v| !v.is_null()) else {
        if required {
            problems.push(PlannerProblem::task(task, field, "is missing"));
        }
        return;
    };
    match shape {
        Shape::Text if !value.is_string() => {
            problems.push(PlannerProblem::task(task, field, "must be a string"));
        }
        Shape::List => {
            text_list(Some(value), field, Some(task), problems);
        }
        Shape::Whole if value.as_u64().is_none_or(|n| u32::try_from(n).is_err()) => {
            problems.push(PlannerProblem::task(
                task,
                field,
                format!("must be a whole number from 1 to 10, not {value}"),
            ));
        }
        _ => {}
    }
}
