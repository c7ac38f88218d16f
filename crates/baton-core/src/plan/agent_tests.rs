//! Plan fields of AI agents' tasks: prompt, model, complexity, capabilities, max_turns.
use super::*;

fn with_tasks(tasks: &str) -> String {
    format!("version: 1\ngoal: g\ntasks:\n{tasks}")
}

fn only_error(source: &str) -> (u32, String) {
    let errors = parse_plan(source, "plan.yaml").expect_err("the plan should be rejected");
    assert_eq!(errors.diagnostics().len(), 1, "{errors}");
    let d = &errors.diagnostics()[0];
    (d.line, d.message.clone())
}

#[test]
fn an_agent_task_carries_its_prompt_model_and_routing_hints() {
    let plan = parse_plan(
        &with_tasks(
            r#"  - id: login
    agent: claude
    prompt: "Add OAuth2 login"
    model: claude-sonnet-4-5
    complexity: 7
    capabilities: [rust, web]
    max_turns: 30
  - id: docs
    agent: codex
    prompt_file: prompts/docs.md
"#,
        ),
        "plan.yaml",
    )
    .unwrap();
    let login = &plan.tasks[0];
    assert_eq!(login.agent, AgentKind::Claude);
    assert_eq!(login.prompt, Some(Prompt::Text("Add OAuth2 login".into())));
    assert_eq!(login.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(login.complexity, Some(7));
    assert_eq!(login.capabilities, ["rust", "web"]);
    assert_eq!(login.max_turns, Some(30));
    assert_eq!(login.run, "");
    assert_eq!(
        plan.tasks[1].prompt,
        Some(Prompt::File("prompts/docs.md".into()))
    );
}

#[test]
fn every_built_in_agent_name_parses_back() {
    for kind in AgentKind::ALL {
        assert_eq!(AgentKind::parse(kind.as_str()), Some(*kind));
    }
    assert!(!AgentKind::Exec.is_ai());
    assert!(AgentKind::Auto.is_ai());
}

#[test]
fn an_agent_task_without_a_prompt_is_refused_at_its_line() {
    let (line, message) = only_error(&with_tasks("  - id: login\n    agent: gemini\n"));
    assert_eq!(line, 4);
    assert!(message.contains("has no prompt"), "{message}");
}

#[test]
fn an_agent_task_with_a_run_command_is_refused() {
    let (line, message) = only_error(&with_tasks(
        "  - id: login\n    agent: codex\n    prompt: p\n    run: \"make\"\n",
    ));
    assert_eq!(line, 7);
    assert!(message.contains("`run` is for exec tasks"), "{message}");
}

#[test]
fn both_prompt_and_prompt_file_are_refused() {
    let (line, message) = only_error(&with_tasks(
        "  - id: login\n    agent: claude\n    prompt: p\n    prompt_file: f.md\n",
    ));
    assert_eq!(line, 7);
    assert!(message.contains("keep one"), "{message}");
}

#[test]
fn a_complexity_outside_one_to_ten_is_refused_at_its_line() {
    let (line, message) = only_error(&with_tasks(
        "  - id: login\n    agent: claude\n    prompt: p\n    complexity: 11\n",
    ));
    assert_eq!(line, 7);
    assert!(message.contains("complexity is 11"), "{message}");
}

#[test]
fn an_unknown_agent_suggests_the_closest_known_one() {
    let (line, message) = only_error(&with_tasks(
        "  - id: login\n    agent: cladue\n    prompt: p\n",
    ));
    assert_eq!(line, 5);
    assert!(message.contains("claude"), "{message}");
}

#[test]
fn max_cost_and_the_approval_threshold_are_read_in_dollars() {
    let plan = parse_plan(
        "version: 1\ngoal: g\napproval_threshold_usd: 2\ntasks:\n  - id: a\n    agent: claude\n    prompt: p\n    max_cost: 2.5\n  - id: b\n    agent: codex\n    prompt: p\n    max_cost: \"$0.40\"\n  - id: c\n    run: \"true\"\n",
        "plan.yaml",
    )
    .unwrap();
    assert_eq!(plan.approval_threshold, Some(crate::Usd(2_000_000)));
    assert_eq!(plan.tasks[0].max_cost, Some(crate::Usd(2_500_000)));
    assert_eq!(plan.tasks[1].max_cost, Some(crate::Usd(400_000)));
    assert_eq!(plan.tasks[2].max_cost, None);
}

#[test]
fn a_negative_or_non_numeric_max_cost_is_refused_at_its_line() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    agent: claude\n    prompt: p\n    max_cost: -1\n",
    ));
    assert_eq!(line, 7, "{message}");
    assert!(message.contains("write 0 or more"), "{message}");
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    agent: claude\n    prompt: p\n    max_cost: lots\n",
    ));
    assert_eq!(line, 7, "{message}");
    assert!(
        message.contains("\"lots\" is not an amount of dollars"),
        "{message}"
    );
}

#[test]
fn merge_batch_and_lanes_are_read_and_bad_ones_named_where_they_are() {
    let plan = parse_plan(
        "version: 1\ngoal: g\nmerge:\n  batch: 1\n  lanes: 3\ntasks:\n  - id: a\n    run: \"true\"\n",
        "p.yaml",
    )
    .unwrap();
    assert_eq!(plan.merge_batch, Some(crate::BatchPolicy::Fixed(1)));
    assert_eq!(plan.merge_lanes, Some(3));
    let plan = parse_plan(
        "version: 1\ngoal: g\nmerge:\n  batch: adaptive\ntasks:\n  - id: a\n    run: \"true\"\n",
        "p.yaml",
    )
    .unwrap();
    assert_eq!(plan.merge_batch, Some(crate::BatchPolicy::Adaptive));
    assert_eq!(plan.merge_lanes, None);
    let error = parse_plan(
        "version: 1\ngoal: g\nmerge:\n  batch: 17\n  lanes: 0\ntasks:\n  - id: a\n    run: \"true\"\n",
        "p.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("p.yaml:4:10"), "{error}");
    assert!(error.contains("merge: batch is 17"), "{error}");
    assert!(error.contains("p.yaml:5:10"), "{error}");
    assert!(error.contains("merge: lanes is 0"), "{error}");
    let error = parse_plan(
        "version: 1\ngoal: g\nmerge:\n  batch: big\ntasks:\n  - id: a\n    run: \"true\"\n",
        "p.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("merge: batch is \"big\""), "{error}");
    let error = parse_plan(
        "version: 1\ngoal: g\nmerge:\n  batches: 2\ntasks:\n  - id: a\n    run: \"true\"\n",
        "p.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("batches"), "{error}");
}
