use super::*;

fn errors(source: &str) -> String {
    match parse_template(source, "t.yaml") {
        Ok(template) => panic!("expected errors, got {template:?}"),
        Err(errors) => errors.to_string(),
    }
}

#[test]
fn the_built_in_templates_are_valid() {
    for (name, text) in BUILT_IN {
        let template = parse_template(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(template.name, name);
        assert!(!template.description.is_empty());
    }
    let default = parse_template(built_in("default").unwrap(), "default").unwrap();
    let roles: Vec<Role> = default.phases.iter().map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            Role::Analyzer,
            Role::Planner,
            Role::Implementer,
            Role::ReviewerFunctional,
            Role::ReviewerStyle,
            Role::ReviewerSecurity,
            Role::Verifier
        ]
    );
    assert!(default.plans());
    // The three reviews wait for the implementer only: they run together.
    let waits = default.waits_for();
    assert_eq!(waits[3], vec![2]);
    assert_eq!(waits[4], vec![2]);
    assert_eq!(waits[5], vec![2]);
    assert_eq!(waits[6], vec![5]);
    let tdd = parse_template(built_in("tdd").unwrap(), "tdd").unwrap();
    assert!(!tdd.plans());
    assert!(tdd.phases[0].success[0].expect_fail);
    assert_eq!(tdd.on_failure, OnFailure::Pause);
    let fix = parse_template(built_in("fix-lint").unwrap(), "fix-lint").unwrap();
    assert!(fix.phases[0].scan && fix.plans());
    assert!(built_in("nope").is_none());
}

#[test]
fn an_unknown_role_is_named_with_its_place_and_a_hint() {
    let text = "version: 1\nname: x\nphases:\n  - name: a\n    role: implementor\n    prompt: p\n";
    let message = errors(text);
    assert!(
        message.starts_with("t.yaml:5:11: phase \"a\" has the unknown role \"implementor\" (did you mean \"implementer\"?)"),
        "{message}"
    );
}

#[test]
fn a_cycle_of_phases_is_named() {
    let text = "version: 1\nname: x\nphases:\n  - name: a\n    role: implementer\n    prompt: p\n    after: [b]\n  - name: b\n    role: implementer\n    prompt: q\n";
    let message = errors(text);
    assert!(
        message.contains("t.yaml:4:5: the phases wait for each other in a cycle: a -> b -> a"),
        "{message}"
    );
}

#[test]
fn references_fields_roles_and_values_are_checked_together() {
    let text = r#"version: 1
name: Bad Name
on_failure: retry
budget_usd: -1
iteration: sometimes
phases:
  - name: plan
    role: planner
    agent: claude
  - name: plan
    role: implementer
    prompt: p
  - name: impl
    role: implementer
    run: make
    after: [analise]
    timeout: soon
    success:
      - {run: "make test", expect: maybe}
  - name: rev
    role: reviewer_custom
  - name: rev2
    role: reviewer_style
    provider: anthropic
  - name: rev3
    role: reviewer_security
    provider: openai
"#;
    let message = errors(text);
    for needle in [
        "t.yaml:2:7: template name \"Bad Name\" is not valid",
        "t.yaml:3:13: on_failure \"retry\" is not known",
        "t.yaml:4:13: budget_usd must be a positive amount",
        "t.yaml:5:12: iteration \"sometimes\" is not known",
        "t.yaml:9:12: phase \"plan\": \"agent\" does not apply to role planner",
        "t.yaml:10:11: phase \"plan\" is named twice",
        "t.yaml:16:13: phase \"impl\": after names \"analise\", which is not a phase",
        "t.yaml:17:14: phase \"impl\": timeout:",
        "phase \"impl\": expect \"maybe\" is not known",
        "phase \"rev\": a reviewer_custom phase needs a prompt",
        "phase \"rev3\" says provider \"openai\" but phase \"rev2\" says \"anthropic\"",
        "phase \"impl\": run: and claims: come from the plan",
    ] {
        assert!(
            message.contains(needle),
            "missing {needle:?} in:\n{message}"
        );
    }
}

#[test]
fn unknown_fields_broken_yaml_and_missing_parts_are_refused() {
    let message =
        errors("version: 1\nname: x\nphases:\n  - name: a\n    role: implementer\n    promt: p\n");
    assert!(
        message.starts_with(
            "t.yaml:6:5: unknown field \"promt\" in a phase (did you mean \"prompt\"?)"
        ),
        "{message}"
    );
    let message = errors("version: 1\nname: x\nphasez: []\n");
    assert!(
        message.contains("unknown field \"phasez\" in the template"),
        "{message}"
    );
    let message = errors("- just\n- a list\n");
    assert!(
        message.contains("a template must be a YAML mapping"),
        "{message}"
    );
    let message = errors("name: x\nphases:\n  - name: r\n    role: reviewer_style\n");
    assert!(message.contains("missing \"version: 1\""), "{message}");
    assert!(message.contains("no implementer phase"), "{message}");
    let message = errors(
        "version: 1\nname: x\nphases:\n  - name: s\n    role: analyzer\n    prompt: p\n    fallback: {model: m}\n  - name: i\n    role: implementer\n    prompt: p\n    fallback: {cli: claude}\n",
    );
    assert!(
        message.contains("t.yaml:7:15: phase \"s\": fallback names no provider nor cli"),
        "{message}"
    );
    assert!(
        message.contains("phase \"i\": \"fallback\" does not apply to role implementer"),
        "{message}"
    );
    let message = errors("version: 1\nname: x\nphases:\n  - name: a\n    role: implementer\n");
    assert!(
        message.contains("neither prompt: (for an agent) nor run:"),
        "{message}"
    );
    let message = errors(
        "version: 1\nname: x\nphases:\n  - name: s\n    role: analyzer\n    tool: scan\n  - name: p\n    role: planner\n  - name: i\n    role: implementer\n",
    );
    assert!(
        message.contains("already makes the tasks from the scan"),
        "{message}"
    );
}
