//! Parsing and validation of plan files: one test per kind of mistake, checking message and line.
use super::*;
use baton_protocol::Priority;
use std::time::Duration;

const EXAMPLE: &str = r#"version: 1
goal: "Split the parser into modules"
base: main
lanes: 3
gates:
  build: "cargo build"
  test: "cargo test"
merge_gates: [test]
tasks:
  - id: lexer
    title: "Move the lexer"
    agent: exec
    run: "python3 tools/move_lexer.py"
    claims: ["src/lexer/**", "src/lib.rs"]
    priority: high
    estimate: 30s
    gates: [build]
    timeout: 10m
    silence: 2m
    retries: 1
  - id: parser
    run: "python3 tools/move_parser.py"
    claims:
      - "src/parser/**"
      - "shared:Cargo.lock"
    deps: [lexer]
"#;

/// The single diagnostic of a plan that must fail, as (line, message).
fn only_error(source: &str) -> (u32, String) {
    let errors = parse_plan(source, "plan.yaml").expect_err("the plan should be rejected");
    assert_eq!(
        errors.diagnostics().len(),
        1,
        "expected one error, got:\n{errors}"
    );
    let d = &errors.diagnostics()[0];
    (d.line, d.message.clone())
}

/// A valid plan with `tasks` spliced in after line 3 (`tasks:` is line 3).
fn with_tasks(tasks: &str) -> String {
    format!("version: 1\ngoal: g\ntasks:\n{tasks}")
}

#[test]
fn the_example_plan_parses_with_every_field_and_default() {
    let plan = parse_plan(EXAMPLE, "plan.yaml").unwrap();
    assert_eq!(plan.goal, "Split the parser into modules");
    assert_eq!(plan.base.as_deref(), Some("main"));
    assert_eq!(plan.lanes, 3);
    assert_eq!(
        plan.gates
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        vec!["build", "test"]
    );
    assert_eq!(plan.gate("test").unwrap().command, "cargo test");
    assert_eq!(plan.merge_gates, vec!["test"]);
    let lexer = plan.task(&TaskId::new("lexer")).unwrap();
    assert_eq!(lexer.title, "Move the lexer");
    assert_eq!(lexer.agent, AgentKind::Exec);
    assert_eq!(lexer.priority, Priority::High);
    assert_eq!(lexer.estimate, Some(Duration::from_secs(30)));
    assert_eq!(lexer.timeout, Duration::from_secs(600));
    assert_eq!(lexer.silence, Some(Duration::from_secs(120)));
    assert_eq!(lexer.retries, 1);
    assert_eq!(lexer.gates, vec!["build"]);
    assert_eq!(
        lexer.claims.as_strings(),
        vec!["src/lexer/**", "src/lib.rs"]
    );
    let parser = plan.task(&TaskId::new("parser")).unwrap();
    assert_eq!(parser.title, "parser");
    assert_eq!(parser.priority, Priority::Medium);
    assert_eq!(parser.timeout, DEFAULT_TIMEOUT);
    assert_eq!(parser.silence, None);
    assert_eq!(parser.retries, 0);
    assert_eq!(parser.deps, vec![TaskId::new("lexer")]);
    assert!(!lexer.claims.conflicts_with(&parser.claims));
    assert_eq!(
        plan.dag().topo_order(),
        vec![TaskId::new("lexer"), TaskId::new("parser")]
    );
}

#[test]
fn defaults_apply_when_optional_fields_are_absent() {
    let plan = parse_plan(
        "version: 1\ngoal: g\ngates:\n  b: make\n  a: make a\ntasks:\n  - id: t\n    run: x\n",
        "p.yaml",
    )
    .unwrap();
    assert_eq!(plan.lanes, DEFAULT_LANES);
    assert_eq!(plan.base, None);
    assert_eq!(plan.merge_gates, vec!["b", "a"]);
    assert_eq!(plan.tasks[0].claims, crate::claims::ClaimSet::everything());
}

#[test]
fn errors_display_as_origin_line_column_message() {
    let errors = parse_plan(
        &with_tasks("  - id: lexer\n    run: x\n    deps: [parsr]\n  - id: parser\n    run: y\n"),
        "plan.yaml",
    )
    .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "plan.yaml:6:12: task \"lexer\" depends on \"parsr\", which no task defines (did you mean \"parser\"?)"
    );
}

#[test]
fn malformed_yaml_is_reported_at_the_parsers_line() {
    let (line, message) = only_error("version: 1\ngoal: \"unterminated\ntasks: []\n");
    assert!(message.starts_with("invalid YAML: "), "{message}");
    assert!(line >= 2, "line {line}");
}

#[test]
fn a_wrong_type_names_the_field() {
    let (line, message) = only_error("version: 1\ngoal: g\nlanes: four\ntasks: []\n");
    assert_eq!(line, 3);
    assert_eq!(
        message,
        "\"lanes\" has the wrong type: expected a whole number (0 or more), found \"four\"; fix the value"
    );
}

#[test]
fn a_scalar_where_a_list_belongs_is_a_wrong_type() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    deps: b\n"));
    assert_eq!(line, 6);
    assert!(
        message.starts_with("\"deps\" has the wrong type: expected a list"),
        "{message}"
    );
}

#[test]
fn an_unknown_task_field_suggests_the_known_one() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    agnet: exec\n"));
    assert_eq!(line, 6);
    assert!(
        message.starts_with("unknown field \"agnet\" in a task (did you mean \"agent\"?); the known fields are: id, title, agent"),
        "{message}"
    );
}

#[test]
fn an_unknown_top_level_field_suggests_the_known_one() {
    let (line, message) = only_error("version: 1\ngoal: g\nlane: 3\ntasks: []\n");
    assert_eq!(line, 3);
    assert!(
        message.starts_with("unknown field \"lane\" in the plan (did you mean \"lanes\"?)"),
        "{message}"
    );
}

#[test]
fn a_missing_goal_is_reported() {
    let (line, message) = only_error("version: 1\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 1);
    assert_eq!(
        message,
        "the plan has no goal; add a line such as goal: \"Split the parser into modules\""
    );
}

#[test]
fn a_missing_version_is_reported() {
    let (line, message) = only_error("goal: g\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 1);
    assert!(message.starts_with("the plan has no version"), "{message}");
}

#[test]
fn another_version_is_rejected_at_its_line() {
    let (line, message) = only_error("goal: g\nversion: 2\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 2);
    assert_eq!(
        message,
        "plan version 2 is not supported; this build reads version 1, write \"version: 1\""
    );
}

#[test]
fn an_empty_task_list_is_rejected() {
    let (line, message) = only_error("version: 1\ngoal: g\ntasks: []\n");
    assert_eq!(line, 3);
    assert!(message.starts_with("the plan has no tasks"), "{message}");
    let (line, _) = only_error("version: 1\ngoal: g\n");
    assert_eq!(line, 1);
}

#[test]
fn bad_id_characters_are_rejected_with_a_suggestion() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n  - id: Move Lexer\n    run: y\n",
    ));
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "task id \"Move Lexer\" may only contain a-z, 0-9, '_' and '-'; try \"move-lexer\""
    );
}

#[test]
fn a_duplicate_id_points_at_the_second_use() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n  - id: a\n    run: y\n",
    ));
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "task id \"a\" is already used by the task at line 4; rename one of them"
    );
}

#[test]
fn an_unknown_dep_without_a_close_name_gets_no_hint() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    deps:\n      - zzz\n",
    ));
    assert_eq!(line, 7);
    assert_eq!(
        message,
        "task \"a\" depends on \"zzz\", which no task defines"
    );
}

#[test]
fn a_task_depending_on_itself_is_rejected() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    deps: [a]\n"));
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "task \"a\" depends on itself; remove \"a\" from its deps"
    );
}

#[test]
fn a_cycle_is_named_in_order() {
    let source = with_tasks(
        "  - id: a\n    run: x\n    deps: [c]\n  - id: b\n    run: x\n    deps: [a]\n  - id: c\n    run: x\n    deps: [b]\n",
    );
    let (line, message) = only_error(&source);
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "tasks depend on each other in a cycle: a -> c -> b -> a; remove one of these deps"
    );
}

#[test]
fn an_invalid_glob_carries_the_globset_reason() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    claims: [\"ok/**\", \"src/[ab\"]\n",
    ));
    assert_eq!(line, 6);
    assert!(
        message.starts_with(
            "task \"a\": claim \"src/[ab\" is not a valid glob: unclosed character class"
        ),
        "{message}"
    );
}

#[test]
fn zero_lanes_are_rejected() {
    let (line, message) =
        only_error("version: 1\ngoal: g\nlanes: 0\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 3);
    assert_eq!(
        message,
        "lanes is 0; it must be at least 1 (the default is 4)"
    );
}

#[test]
fn an_unknown_task_gate_suggests_a_declared_one() {
    let source = "version: 1\ngoal: g\ngates:\n  test: cargo test\ntasks:\n  - id: a\n    run: x\n    gates: [tset]\n";
    let (line, message) = only_error(source);
    assert_eq!(line, 8);
    assert_eq!(
        message,
        "task \"a\" runs gate \"tset\", which is not declared under gates: (did you mean \"test\"?)"
    );
}

#[test]
fn an_unknown_merge_gate_suggests_a_declared_one() {
    let source = "version: 1\ngoal: g\ngates:\n  build: cargo build\nmerge_gates:\n  - biuld\ntasks:\n  - id: a\n    run: x\n";
    let (line, message) = only_error(source);
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "merge_gates names \"biuld\", which is not declared under gates: (did you mean \"build\"?)"
    );
}

#[test]
fn an_unknown_agent_is_rejected() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    agent: exce\n    run: x\n"));
    assert_eq!(line, 5);
    assert_eq!(
        message,
        "task \"a\" uses agent \"exce\", which this version does not know (did you mean \"exec\"?); the known agents are: exec, claude, codex, gemini, qwen, opencode, aider, goose, cursor, auto"
    );
}

#[test]
fn an_exec_task_without_run_is_rejected_at_the_task() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    title: t\n"));
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "task \"a\" has no run command; exec tasks need one, e.g. run: \"make a\""
    );
}

#[test]
fn a_bad_duration_is_rejected_at_its_line() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    timeout: 10 minutes please\n",
    ));
    assert_eq!(line, 6);
    assert!(
        message.starts_with("task \"a\": timeout: invalid duration \"10 minutes please\": "),
        "{message}"
    );
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    estimate: 30\n"));
    assert_eq!(line, 6);
    assert!(
        message.contains("estimate: invalid duration \"30\""),
        "{message}"
    );
}

#[test]
fn a_zero_timeout_is_rejected() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    silence: 0s\n"));
    assert_eq!(line, 6);
    assert!(message.contains("silence is zero"), "{message}");
}

#[test]
fn a_bad_priority_is_rejected_with_a_hint() {
    let (line, message) = only_error(&with_tasks("  - id: a\n    run: x\n    priority: hgih\n"));
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "task \"a\" has priority \"hgih\" (did you mean \"high\"?); use high, medium or low"
    );
}

#[test]
fn a_bad_risk_is_rejected_where_it_is_written() {
    let source = with_tasks("  - id: a\n    run: x\n    risk: hihg\n");
    let errors = parse_plan(&source, "plan.yaml").unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains(
            "plan.yaml:6:11: task \"a\" has risk \"hihg\" (did you mean \"high\"?); use low, \
             medium or high"
        ),
        "{text}"
    );
}

#[test]
fn a_stated_risk_is_kept_on_the_task() {
    let plan = parse_plan(
        &with_tasks("  - id: a\n    run: x\n    risk: medium\n"),
        "p.yaml",
    )
    .unwrap();
    assert_eq!(plan.tasks[0].risk, Some(baton_protocol::RiskLevel::Medium));
    let plan = parse_plan(&with_tasks("  - id: a\n    run: x\n"), "p.yaml").unwrap();
    assert_eq!(plan.tasks[0].risk, None);
}

#[test]
fn a_duplicate_key_is_rejected() {
    let (line, message) = only_error("version: 1\ngoal: g\ngoal: h\ntasks: []\n");
    assert_eq!(line, 3);
    assert_eq!(
        message,
        "\"goal\" appears twice in the same mapping; keep one"
    );
}

#[test]
fn a_plan_that_is_not_a_mapping_is_rejected() {
    let (line, message) = only_error("- id: a\n");
    assert_eq!(line, 1);
    assert!(
        message.starts_with("the plan must be a YAML mapping"),
        "{message}"
    );
}

#[test]
fn every_semantic_error_is_collected_in_source_order() {
    let source = "version: 1\nlanes: 0\ntasks:\n  - id: a\n    run: x\n    deps: [b, zz]\n  - id: b\n    deps: [a]\n    priority: urgent\n";
    let errors = parse_plan(source, "plan.yaml").unwrap_err();
    let lines: Vec<u32> = errors.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![1, 2, 6, 6, 7, 9], "{errors}");
    let text = errors.to_string();
    assert!(text.contains("no goal"), "{text}");
    assert!(text.contains("cycle: a -> b -> a"), "{text}");
    assert!(text.contains("\"zz\", which no task defines"), "{text}");
    assert!(text.contains("has no run command"), "{text}");
    assert!(text.contains("priority \"urgent\""), "{text}");
}

#[test]
fn tabs_in_indentation_are_malformed_yaml() {
    let (line, message) = only_error("version: 1\ngoal: g\ntasks:\n\t- id: a\n");
    assert_eq!(line, 4);
    assert!(
        message.starts_with("invalid YAML: tabs disallowed"),
        "{message}"
    );
}

#[test]
fn a_task_without_id_is_reported_at_the_task() {
    let (line, message) = only_error(&with_tasks("  - run: a\n"));
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "missing field \"id\"; add \"id: ...\" to this entry"
    );
}

#[test]
fn an_empty_gate_command_is_reported() {
    let (line, message) =
        only_error("version: 1\ngoal: g\ngates:\n  a: \"\"\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "gate \"a\" has an empty command; write the shell command it runs"
    );
    let (line, message) =
        only_error("version: 1\ngoal: g\ngates:\n  a:\ntasks:\n  - id: a\n    run: x\n");
    assert_eq!(line, 4);
    assert!(
        message.contains("gate \"a\" is empty; write the shell command it runs"),
        "{message}"
    );
}

#[test]
fn lists_written_as_nothing_are_empty() {
    let plan = parse_plan(
        &with_tasks("  - id: a\n    run: x\n    deps:\n    claims:\n"),
        "p",
    )
    .unwrap();
    assert!(plan.tasks[0].deps.is_empty());
    let (line, message) = only_error("version: 1\ngoal: g\ntasks:\n");
    assert_eq!(line, 1);
    assert!(message.starts_with("the plan has no tasks"), "{message}");
}

#[test]
fn a_second_document_is_malformed_yaml() {
    let (line, message) = only_error("version: 1\ngoal: g\n---\nversion: 1\n");
    assert_eq!(line, 4);
    assert!(
        message.contains("only single YAML document expected"),
        "{message}"
    );
}

#[test]
fn a_claim_starting_with_dot_slash_is_rejected_with_the_claim_to_write() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    claims: [\"./src/**\"]\n",
    ));
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "task \"a\": claim \"./src/**\" can never match a changed path: git never reports a path \
         with a \"./\" segment; write \"src/**\""
    );
}

#[test]
fn a_claim_leaving_the_repository_is_rejected() {
    for claim in ["../x", "**/../**", "shared:src/../x"] {
        let (line, message) = only_error(&with_tasks(&format!(
            "  - id: a\n    run: x\n    claims: [\"{claim}\"]\n"
        )));
        assert_eq!(line, 6, "{claim}");
        assert!(
            message.contains(&format!("claim \"{claim}\" can never match"))
                && message.contains("claims are paths inside the repository"),
            "{message}"
        );
    }
}

#[test]
fn a_claim_on_the_git_directory_is_rejected() {
    let (_, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    claims: [\".git/**\"]\n",
    ));
    assert!(
        message.contains("baton never lets a task change the git directory"),
        "{message}"
    );
}

#[test]
fn an_absolute_claim_is_rejected_with_the_relative_claim_to_write() {
    let (line, message) = only_error(&with_tasks(
        "  - id: a\n    run: x\n    claims: [\"/etc/**\"]\n",
    ));
    assert_eq!(line, 6);
    assert!(message.contains("write \"etc/**\""), "{message}");
}

#[test]
fn a_gate_with_an_empty_name_is_rejected() {
    for name in ["\"\"", "\" \""] {
        let (line, message) = only_error(&format!(
            "version: 1\ngoal: g\ngates:\n  {name}: \"true\"\ntasks:\n  - id: a\n    run: x\n"
        ));
        assert_eq!(line, 4, "{name}");
        assert!(message.starts_with("a gate has an empty name"), "{message}");
    }
}

#[test]
fn a_task_id_that_reads_as_an_option_is_rejected() {
    for (id, suggestion) in [("-", "task-1"), ("--help", "help"), ("_a", "a")] {
        let (line, message) = only_error(&with_tasks(&format!("  - id: \"{id}\"\n    run: x\n")));
        assert_eq!(line, 4, "{id}");
        assert_eq!(
            message,
            format!(
                "task id \"{id}\" must start with a letter or a digit (ids appear in commands \
                 and branch names); try \"{suggestion}\""
            )
        );
    }
}
