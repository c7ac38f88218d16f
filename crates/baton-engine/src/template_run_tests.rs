#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use baton_core::template::{built_in, parse_template};

fn facts() -> ProjectFacts {
    ProjectFacts {
        name: "demo".into(),
        languages: vec!["rust".into()],
        test_command: "cargo test".into(),
        test_paths: vec!["tests/**".into()],
    }
}

fn compile(
    template: &Template,
    project: &ProjectFacts,
    planned: Option<PlanFile>,
) -> (PlanFile, Vec<String>) {
    let vars = BTreeMap::new();
    let artifacts = BTreeMap::new();
    let compiled = compile_plan(&Compile {
        template,
        goal: "Add a greeting",
        project,
        vars: &vars,
        artifacts: &artifacts,
        planned,
    })
    .unwrap();
    (compiled.plan, compiled.skipped)
}

#[test]
fn tdd_becomes_red_green_refactor_and_verify_with_a_red_gate() {
    let tdd = parse_template(built_in("tdd").unwrap(), "tdd").unwrap();
    let (plan, skipped) = compile(&tdd, &facts(), None);
    assert!(skipped.is_empty());
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["red", "green", "refactor", "verify"]);
    assert_eq!(plan.tasks[0].claims, ["tests/**"]);
    assert_eq!(plan.tasks[1].deps, ["red"]);
    assert_eq!(plan.tasks[2].deps, ["green"]);
    assert_eq!(plan.tasks[3].deps, ["red", "green", "refactor"]);
    assert_eq!(plan.tasks[3].agent.as_deref(), Some("exec"));
    let red = &plan.gates[0];
    assert_eq!(
        (red.name.as_str(), red.command.as_str(), red.expect_failure),
        ("red-1", "cargo test", true)
    );
    let guard = plan.gates.iter().find(|g| g.name == "green-2").unwrap();
    assert_eq!(
        guard.command,
        "git diff --quiet HEAD~1 HEAD -- ':(glob)tests/**'"
    );
    assert_eq!(plan.merge_gates, Some(Vec::new()));
    assert!(
        plan.tasks[0]
            .prompt
            .as_deref()
            .unwrap()
            .contains("Add a greeting")
    );
    // What baton writes, baton reads.
    baton_core::parse_plan(&baton_core::planner::plan_file_yaml(&plan), "p.yaml").unwrap();
}

#[test]
fn a_verifier_without_a_test_command_is_skipped_only_when_it_may_be() {
    let mut project = facts();
    project.test_command.clear();
    let fix = parse_template(built_in("fix-lint").unwrap(), "fix-lint").unwrap();
    let scanned = PlanFile {
        tasks: vec![TaskFile {
            id: "fmt".into(),
            agent: Some("exec".into()),
            run: Some("cargo fmt".into()),
            ..TaskFile::default()
        }],
        ..PlanFile::default()
    };
    let (plan, skipped) = compile(&fix, &project, Some(scanned));
    assert_eq!(plan.tasks.len(), 1, "{plan:?}");
    assert!(skipped[0].starts_with("verify:"), "{skipped:?}");
    let tdd = parse_template(built_in("tdd").unwrap(), "tdd").unwrap();
    let vars = BTreeMap::new();
    let artifacts = BTreeMap::new();
    let Err(error) = compile_plan(&Compile {
        template: &tdd,
        goal: "g",
        project: &project,
        vars: &vars,
        artifacts: &artifacts,
        planned: None,
    }) else {
        panic!("tdd without a test command compiled");
    };
    assert!(error.to_string().contains("--var test_command"), "{error}");
}

#[test]
fn planned_tasks_take_the_implementer_settings_and_the_verifier_comes_last() {
    let default = parse_template(built_in("default").unwrap(), "default").unwrap();
    let planned = PlanFile {
        tasks: vec![
            TaskFile {
                id: "a".into(),
                agent: Some("auto".into()),
                prompt: Some("do a".into()),
                ..TaskFile::default()
            },
            TaskFile {
                id: "verify".into(),
                agent: Some("auto".into()),
                prompt: Some("do b".into()),
                deps: vec!["a".into()],
                ..TaskFile::default()
            },
        ],
        ..PlanFile::default()
    };
    let (plan, _) = compile(&default, &facts(), Some(planned));
    assert_eq!(plan.tasks[0].retries, Some(1));
    let verify = plan.tasks.last().unwrap();
    assert_eq!(verify.id, "verify-final");
    assert_eq!(verify.deps, ["a", "verify"]);
    assert_eq!(verify.gates, ["verify-1"]);
}

#[test]
fn reviewer_phases_become_the_runs_reviews_or_are_skipped() {
    let text = "version: 1\nname: r\nmax_iterations: 3\nphases:\n  - name: i\n    role: implementer\n    prompt: p\n  - name: docs\n    role: reviewer_custom\n    provider: anthropic\n    model: claude-sonnet-4-5\n    prompt: \"Docs for {{ goal }}\"\n  - name: sec\n    role: reviewer_security\n";
    let template = parse_template(text, "r.yaml").unwrap();
    let render = |_: &Phase, text: &str| Ok(text.replace("{{ goal }}", "G"));
    let settings = run_settings(&template, None, &render, Vec::new()).unwrap();
    let review = settings.review.unwrap();
    use baton_protocol::ReviewKind;
    assert_eq!(review.kinds, [ReviewKind::Custom, ReviewKind::Security]);
    assert_eq!(review.criteria[&ReviewKind::Custom], "Docs for G");
    assert_eq!(review.max_iterations, 3);
    assert_eq!(review.provider, "anthropic");
    assert!(!settings.pause_on_failure);

    let default = parse_template(built_in("default").unwrap(), "default").unwrap();
    let settings = run_settings(&default, None, &render, Vec::new()).unwrap();
    assert!(settings.review.is_none());
    assert_eq!(settings.skipped.len(), 3, "{:?}", settings.skipped);

    let strict = text.replace(
        "    provider: anthropic\n    model: claude-sonnet-4-5\n",
        "",
    );
    let template = parse_template(&strict, "r.yaml").unwrap();
    let error = run_settings(&template, None, &render, Vec::new()).unwrap_err();
    assert!(
        error.to_string().contains("phase \"docs\" cannot review"),
        "{error}"
    );
}

#[test]
fn project_facts_come_from_the_manifests_and_vars_override_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"scripts": {"test": "jest"}}"#,
    )
    .unwrap();
    let facts = project_facts(dir.path(), &BTreeMap::new());
    assert_eq!(facts.languages, ["javascript"]);
    assert_eq!(facts.test_command, "npm test");
    let vars = BTreeMap::from([
        ("test_command".to_owned(), "make check".to_owned()),
        ("test_paths".to_owned(), "spec/**, t/**".to_owned()),
    ]);
    let facts = project_facts(dir.path(), &vars);
    assert_eq!(facts.test_command, "make check");
    assert_eq!(facts.test_paths, ["spec/**", "t/**"]);
}

#[test]
fn an_implementers_prompt_is_rendered_for_each_planned_task() {
    let text = "version: 1\nname: t\nphases:\n  - name: plan\n    role: planner\n  - name: build\n    role: implementer\n    prompt: \"For {{ task.id }} ({{ task.title }}): keep {{ project.name }} green.\"\n";
    let template = parse_template(text, "t.yaml").unwrap();
    let planned = PlanFile {
        tasks: vec![TaskFile {
            id: "a".into(),
            title: Some("Do a".into()),
            agent: Some("auto".into()),
            prompt: Some("do a".into()),
            ..TaskFile::default()
        }],
        ..PlanFile::default()
    };
    let (plan, _) = compile(&template, &facts(), Some(planned.clone()));
    assert_eq!(
        plan.tasks[0].prompt.as_deref(),
        Some("do a\n\nFor a (Do a): keep demo green.")
    );
}

#[test]
fn an_implementers_prompt_is_rendered_again_with_each_attempts_iteration() {
    let text = "version: 1\nname: t\nphases:\n  - name: build\n    role: implementer\n    prompt: \"Build it{% if iteration > 1 %} (try {{ iteration }}: smaller steps){% endif %}.\"\n";
    let template = parse_template(text, "t.yaml").unwrap();
    let vars = BTreeMap::new();
    let artifacts = BTreeMap::new();
    let compiled = compile_plan(&Compile {
        template: &template,
        goal: "g",
        project: &facts(),
        vars: &vars,
        artifacts: &artifacts,
        planned: None,
    })
    .unwrap();
    let first = compiled.plan.tasks[0].prompt.clone().unwrap();
    assert_eq!(first, "Build it.");
    let kept = &compiled.prompts["build"];
    assert_eq!(kept.for_attempt(&first, 1).unwrap().unwrap(), "Build it.");
    assert_eq!(
        kept.for_attempt(&first, 3).unwrap().unwrap(),
        "Build it (try 3: smaller steps)."
    );
    // A prompt a person edited in the plan is theirs.
    assert!(kept.for_attempt("Build it my way.", 2).is_none());
}
