#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::parse_plan;

fn tree() -> Vec<String> {
    [
        "README.md",
        "Cargo.toml",
        "src/lib.rs",
        "src/auth/mod.rs",
        "docs/guide.md",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn task(id: &str, claims: &[&str], deps: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "id": id, "title": format!("Do {id}"), "prompt": format!("Implement {id}."),
        "claims": claims, "deps": deps, "priority": "medium", "complexity": 3,
        "risk": "low", "capabilities": [], "checks": ["cargo test"]
    })
}

fn answer(tasks: Vec<serde_json::Value>) -> String {
    serde_json::json!({
        "summary": "Two steps.", "tasks": tasks, "risks": ["none"], "open_questions": []
    })
    .to_string()
}

fn problems(text: &str) -> Vec<PlannerProblem> {
    read_answer(text, &tree()).unwrap_err()
}

#[test]
fn a_valid_answer_in_a_json_fence_is_read() {
    let text = format!(
        "Here is the plan:\n```json\n{}\n```\nDone.",
        answer(vec![
            task("core", &["src/lib.rs"], &[]),
            task("docs", &["docs/**"], &["core"]),
        ])
    );
    let read = read_answer(&text, &tree()).unwrap();
    assert_eq!(read.tasks.len(), 2);
    assert_eq!(read.tasks[1].deps, ["core"]);
    assert_eq!(read.risks, ["none"]);
}

#[test]
fn optional_fields_written_as_null_take_their_defaults() {
    let mut loose = task("core", &["src/lib.rs"], &[]);
    loose["priority"] = serde_json::Value::Null;
    loose["deps"] = serde_json::Value::Null;
    let read = read_answer(&answer(vec![loose]), &tree()).unwrap();
    assert_eq!(read.tasks[0].priority, "medium");
    assert!(read.tasks[0].deps.is_empty());
}

#[test]
fn text_that_is_not_json_is_one_problem_of_the_whole_answer() {
    let found = problems("I think we should first look at the code.");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].task, None);
    assert_eq!(found[0].field, "answer");
    assert!(found[0].message.contains("is not JSON"), "{}", found[0]);
}

#[test]
fn every_shape_problem_is_named_by_task_and_field() {
    let mut bad = task("core", &["src/lib.rs"], &[]);
    bad["complexity"] = serde_json::json!("five");
    bad["deps"] = serde_json::json!("core");
    bad.as_object_mut().unwrap().remove("prompt");
    bad["owner"] = serde_json::json!("me");
    let found = problems(&answer(vec![bad]));
    let named: Vec<(Option<&str>, &str)> = found
        .iter()
        .map(|p| (p.task.as_deref(), p.field.as_str()))
        .collect();
    for expected in ["owner", "prompt", "deps", "complexity"] {
        assert!(
            named.contains(&(Some("core"), expected)),
            "{expected} not named in {found:?}"
        );
    }
}

#[test]
fn an_unknown_dep_is_named_with_a_suggestion() {
    let found = problems(&answer(vec![
        task("parser", &["src/lib.rs"], &[]),
        task("docs", &["docs/**"], &["parsr"]),
    ]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].task.as_deref(), Some("docs"));
    assert_eq!(found[0].field, "deps");
    assert!(
        found[0].message.contains("did you mean \"parser\""),
        "{}",
        found[0]
    );
}

#[test]
fn a_dependency_cycle_is_named_with_its_path() {
    let found = problems(&answer(vec![
        task("a", &["src/lib.rs"], &["c"]),
        task("b", &["docs/**"], &["a"]),
        task("c", &["README.md"], &["b"]),
    ]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, "deps");
    assert!(
        found[0].message.contains("a -> c -> b -> a"),
        "{}",
        found[0]
    );
}

#[test]
fn claims_must_name_the_tree_or_new_files_next_to_it() {
    let found = problems(&answer(vec![
        // New files in an existing directory, and one new level under it: accepted.
        task("new-file", &["src/oauth.rs"], &[]),
        task("new-dir", &["src/login/**"], &["new-file"]),
        // At the root: accepted.
        task("root", &["CHANGELOG.md"], &["new-dir"]),
        // Two new levels deep, and a claim outside the repository: refused.
        task("deep", &["lib/web/handlers/**"], &["root"]),
        task("escape", &["../other/**"], &["deep"]),
    ]));
    let named: Vec<&str> = found.iter().filter_map(|p| p.task.as_deref()).collect();
    assert_eq!(named, ["deep", "escape"], "{found:?}");
    assert!(
        found[0]
            .message
            .contains("\"lib/web/handlers\" is not there"),
        "{}",
        found[0]
    );
}

#[test]
fn exclusive_claims_overlap_only_between_tasks_that_could_run_together() {
    let found = problems(&answer(vec![
        task("a", &["src/**"], &[]),
        task("b", &["src/lib.rs"], &[]),
        // Ordered after a (through b's order it is not): c waits for a, so no problem with a.
        task("c", &["src/auth/mod.rs"], &["a", "b"]),
        task("d", &["shared:docs/**"], &[]),
        task("e", &["shared:docs/guide.md"], &[]),
    ]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].task.as_deref(), Some("a"));
    assert_eq!(found[0].field, "claims");
    assert!(found[0].message.contains("task \"b\""), "{}", found[0]);
}

#[test]
fn values_out_of_range_and_duplicates_are_each_listed() {
    let mut one = task("x", &["src/lib.rs"], &[]);
    one["complexity"] = serde_json::json!(11);
    one["risk"] = serde_json::json!("extreme");
    one["priority"] = serde_json::json!("urgent");
    let two = task("x", &["docs/**"], &["x"]);
    let found = problems(&answer(vec![one, two]));
    let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
    for expected in ["complexity", "risk", "priority", "id", "deps"] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {found:?}"
        );
    }
}

#[test]
fn an_empty_task_list_is_refused() {
    let found = problems(&answer(vec![]));
    assert_eq!(found[0].field, "tasks");
}

#[test]
fn the_repair_request_names_every_problem() {
    let found = problems(&answer(vec![
        task("a", &["src/lib.rs"], &["b"]),
        task("b", &["docs/**"], &["a"]),
    ]));
    let text = repair_request(&found);
    assert!(text.contains("cycle"), "{text}");
    assert!(text.starts_with("Your plan cannot be used"), "{text}");
}

#[test]
fn a_checked_answer_becomes_a_plan_that_parses() {
    let mut tricky = task("docs", &["docs/**", "shared:README.md"], &["core"]);
    tricky["prompt"] = serde_json::json!("Write \"docs\":\n- a: b\n# not a comment");
    tricky["capabilities"] = serde_json::json!(["web"]);
    let read = read_answer(
        &answer(vec![task("core", &["src/lib.rs"], &[]), tricky]),
        &tree(),
    )
    .unwrap();
    let file = answer_to_plan(&read, "Add: \"OAuth\" login", "auto");
    let yaml = plan_file_yaml(&file);
    let plan = parse_plan(&yaml, "plan.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(plan.goal, "Add: \"OAuth\" login");
    assert_eq!(plan.tasks.len(), 2);
    let docs = &plan.tasks[1];
    assert_eq!(docs.deps.len(), 1);
    assert_eq!(docs.claims.as_strings(), ["docs/**", "shared:README.md"]);
    assert_eq!(docs.complexity, Some(3));
    assert_eq!(docs.capabilities, ["web"]);
    let round: baton_protocol::PlanFile = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(round, file);
    assert!(
        round.tasks[1]
            .prompt
            .as_deref()
            .unwrap()
            .contains("Before you finish, make sure these pass:\n- `cargo test`"),
        "{yaml}"
    );
}
