#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn context() -> PromptContext {
    PromptContext {
        goal: "Add OAuth2 login".into(),
        task: TaskVars {
            id: "login".into(),
            title: "Login page".into(),
            prompt: "Write the GitHub provider.\n".into(),
            claims: vec!["src/auth/**".into(), "shared:Cargo.toml".into()],
            claims_everything: false,
            complexity: Some(5),
            capabilities: vec!["rust".into()],
            agent: "claude".into(),
            model: None,
            steps: vec!["Add the provider".into(), "Test it".into()],
        },
        gates: vec![GateVars {
            name: "test".into(),
            command: "cargo test".into(),
        }],
        dependencies: vec![
            DependencyVars::merged(
                "schema".into(),
                "Database schema".into(),
                (0..53).map(|i| format!("migrations/{i:03}.sql")).collect(),
            ),
            DependencyVars::pending("docs".into(), "Docs".into(), "not run yet".into()),
            DependencyVars::merged("noop".into(), "Nothing".into(), Vec::new()),
        ],
        attempt: 2,
        failure: Some("gate `test` failed: 2 tests failed".into()),
        run: Some("r1".into()),
        briefing: Some(BriefingVars {
            done: 2,
            tasks: 5,
            running: vec![RunningVars {
                id: "signup".into(),
                title: "Signup page".into(),
                claims: vec!["src/signup/**".into()],
            }],
            budget_left: Some("$1.50".into()),
        }),
    }
}

fn default_template() -> PromptTemplate {
    PromptTemplate::parse(DEFAULT_TEMPLATE.to_owned(), None).unwrap()
}

#[test]
fn the_default_template_says_every_piece() {
    let text = default_template().render(&context()).unwrap();
    for piece in [
        "Goal of the whole change: Add OAuth2 login\n",
        "Your task (login): Login page\n\nWrite the GitHub provider.\n\n",
        "Steps:\n1. Add the provider\n2. Test it\n\nChange only",
        "Change only these paths (other changes are refused): src/auth/**, shared:Cargo.toml\n",
        "- schema: Database schema, changed:\n  - migrations/000.sql\n",
        "  - migrations/049.sql\n  - and 3 more\n",
        "- docs: Docs (not run yet)\n",
        "- noop: Nothing (changed no files)\n",
        "- test: `cargo test`\n",
        "failed (this is attempt 2). Fix that:\ngate `test` failed: 2 tests failed\n",
        "leave their paths to them:\n- signup: Signup page (src/signup/**)\n",
        "You may spend at most $1.50 on this attempt.\n",
        "Do not commit, push or change branches",
    ] {
        assert!(text.contains(piece), "no {piece:?} in:\n{text}");
    }
    assert!(!text.contains("migrations/050.sql"), "{text}");
    assert!(!text.contains("\n\n\n"), "no runs of blank lines:\n{text}");
    assert!(text.ends_with("the checks.\n"), "{text:?}");
}

#[test]
fn a_first_attempt_of_a_task_that_claims_everything_says_only_what_applies() {
    let mut context = context();
    context.task.claims = vec!["**".into()];
    context.task.claims_everything = true;
    context.task.steps.clear();
    context.dependencies.clear();
    context.gates.clear();
    context.failure = None;
    context.attempt = 1;
    context.briefing = Some(BriefingVars {
        done: 0,
        tasks: 1,
        running: Vec::new(),
        budget_left: None,
    });
    let text = default_template().render(&context).unwrap();
    for absent in [
        "Change only",
        "builds on",
        "checks must pass",
        "failed",
        "none",
        "at the same time",
        "spend at most",
        "Steps:",
    ] {
        assert!(!text.contains(absent), "{absent:?} in:\n{text}");
    }
}

#[test]
fn a_repository_template_overrides_the_default_and_a_configured_one_overrides_both() {
    let repo = tempfile::tempdir().unwrap();
    assert!(
        PromptTemplate::load(repo.path(), None)
            .unwrap()
            .origin
            .is_none()
    );

    std::fs::create_dir_all(repo.path().join(".baton")).unwrap();
    let own = repo.path().join(OVERRIDE_PATH);
    std::fs::write(
        &own,
        "{{ task.id }} for {{ goal }}; {{ dependencies | length }} deps\n",
    )
    .unwrap();
    let template = PromptTemplate::load(repo.path(), None).unwrap();
    assert_eq!(template.origin.as_deref(), Some(own.as_path()));
    assert_eq!(
        template.render(&context()).unwrap(),
        "login for Add OAuth2 login; 3 deps\n"
    );

    let configured = repo.path().join("prompts/agent.j2");
    std::fs::create_dir_all(configured.parent().unwrap()).unwrap();
    std::fs::write(&configured, "attempt {{ attempt }}").unwrap();
    let template = PromptTemplate::load(repo.path(), Some(&configured)).unwrap();
    assert_eq!(template.render(&context()).unwrap(), "attempt 2");
}

#[test]
fn a_configured_template_that_does_not_exist_is_refused_naming_it() {
    let repo = tempfile::tempdir().unwrap();
    let missing = repo.path().join("nope.j2");
    let error = PromptTemplate::load(repo.path(), Some(&missing))
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(&missing.display().to_string()), "{error}");
    assert!(error.contains("cannot read the prompt template"), "{error}");
}

#[test]
fn an_undefined_variable_is_an_error_naming_the_file_and_line() {
    let template = PromptTemplate::parse(
        "Goal: {{ goal }}\nTask: {{ task.titel }}\n".into(),
        Some(PathBuf::from("/repo/.baton/prompt.md.j2")),
    )
    .unwrap();
    let error = template.render(&context()).unwrap_err();
    assert!(
        error.starts_with("/repo/.baton/prompt.md.j2:2: undefined value"),
        "{error}"
    );
    assert!(
        error.contains("`Task: {{ task.titel }}`"),
        "quotes the line: {error}"
    );
    assert!(error.contains("docs/agents.md"), "{error}");
    // An undefined top-level name too, even where lenient Jinja would print nothing.
    let template = PromptTemplate::parse("{% if retry %}x{% endif %}".into(), None).unwrap();
    assert!(template.render(&context()).is_err());
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let error = PromptTemplate::parse(
        "line one\nline two\n{% if failure %}\nno endif\n".into(),
        Some(PathBuf::from("/repo/.baton/prompt.md.j2")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("/repo/.baton/prompt.md.j2:"),
        "names the file: {error}"
    );
    assert!(error.contains("syntax error"), "{error}");
    let line: usize = error
        .trim_start_matches("/repo/.baton/prompt.md.j2:")
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3..=5).contains(&line),
        "the line of the open block: {error}"
    );
}

#[test]
fn html_is_not_escaped() {
    let template = PromptTemplate::parse("{{ task.claims | join(' & ') }}".into(), None).unwrap();
    assert_eq!(
        template.render(&context()).unwrap(),
        "src/auth/** & shared:Cargo.toml"
    );
}

#[test]
fn the_example_template_of_the_docs_renders() {
    let docs = include_str!("../../../docs/agents.md");
    let example = docs
        .split("```jinja\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/agents.md has a ```jinja example");
    let template = PromptTemplate::parse(example.to_owned(), None).unwrap();
    let text = template.render(&context()).unwrap();
    assert!(
        text.starts_with("Login page (login), part of: Add OAuth2 login\n"),
        "{text}"
    );
    assert!(
        text.contains("Already done by schema (Database schema): migrations/000.sql,"),
        "{text}"
    );
    assert!(!text.contains("Already done by docs"), "{text}");
    assert!(
        text.contains("Attempt 2. The last one failed:\ngate `test`"),
        "{text}"
    );
}
