#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Workflow templates: `baton template list|show|export|import|validate|set-default`, broken
//! templates refused at their line and column, and `baton run "GOAL" --template NAME`
//! running a template's phases (exec phases with a red gate, a verifier, `on_failure: pause`;
//! the built-in tdd with the real Claude Code; the built-in default with a provider that
//! analyzes, plans and reviews).

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script, Turn};
use std::path::Path;
use support::{BAD_INPUT, Baton, OK, task};

const PAUSED: i32 = 4;

/// The user's templates directory of the fixture (`XDG_CONFIG_HOME` of `Baton::baton`).
fn user_templates(baton: &Baton) -> std::path::PathBuf {
    baton
        .path()
        .parent()
        .unwrap()
        .join("user-config/baton/templates")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const GREET: &str = r#"version: 1
name: greet
description: "Test first, by shell commands."
on_failure: pause
phases:
  - name: red
    role: implementer
    agent: exec
    run: "mkdir -p tests && echo 'grep -qx hello greeting.txt' > tests/check.sh"
    claims: ["tests/**"]
    success:
      - {run: "sh tests/check.sh", expect: fail}
  - name: green
    role: implementer
    agent: exec
    run: "echo hello > greeting.txt"
    success:
      - "sh tests/check.sh"
      - "git diff --quiet HEAD~1 HEAD -- ':(glob)tests/**'"
  - name: verify
    role: verifier
    success: ["{{ vars.check }}"]
"#;

/// `baton run "Greet the reader" --template greet` with the verifier's check as a variable.
fn run_greet(baton: &Baton) -> support::Finished {
    baton.baton(&[
        "run",
        "Greet the reader",
        "--template",
        "greet",
        "--var",
        "check=sh tests/check.sh",
        "--yes",
    ])
}

#[test]
fn templates_are_listed_shown_exported_imported_and_made_the_default() {
    let baton = Baton::new();
    let listed = baton.baton(&["template", "list", "--json"]);
    listed.expect_code(OK);
    let names: Vec<String> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["name"].as_str().unwrap(),
                t["scope"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        ["default:built_in", "tdd:built_in", "fix-lint:built_in"]
    );

    let shown = baton.baton(&["template", "show", "tdd"]);
    shown.expect_code(OK);
    assert!(shown.stdout.contains("red"), "{}", shown.stdout);
    assert!(shown.stdout.contains("(must fail)"), "{}", shown.stdout);
    let shown = baton
        .baton(&["template", "show", "default", "--json"])
        .json();
    let roles: Vec<&str> = shown["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "analyzer",
            "planner",
            "implementer",
            "reviewer_functional",
            "reviewer_style",
            "reviewer_security",
            "verifier"
        ]
    );
    assert_eq!(
        shown["phases"][4]["after"],
        serde_json::json!(["implement"])
    );

    // Export, edit the name, import as the user's: listed as theirs.
    let out = baton.scratch("export").join("mine.yaml");
    baton
        .baton(&["template", "export", "tdd", "-o", out.to_str().unwrap()])
        .expect_code(OK);
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(exported.contains("name: tdd"));
    let again = baton.baton(&["template", "export", "tdd", "-o", out.to_str().unwrap()]);
    again.expect_code(BAD_INPUT);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    std::fs::write(&out, exported.replace("name: tdd", "name: my-tdd")).unwrap();
    baton
        .baton(&["template", "import", out.to_str().unwrap()])
        .expect_code(OK);
    assert!(user_templates(&baton).join("my-tdd.yaml").is_file());
    let twice = baton.baton(&["template", "import", out.to_str().unwrap()]);
    twice.expect_code(BAD_INPUT);
    assert!(twice.stderr.contains("--force"), "{}", twice.stderr);
    baton
        .baton(&["template", "import", out.to_str().unwrap(), "--force"])
        .expect_code(OK);

    // The repository's own template and a default.
    write(&baton.path().join(".baton/templates/greet.yaml"), GREET);
    baton
        .baton(&["template", "validate", "greet"])
        .expect_code(OK);
    baton
        .baton(&["template", "set-default", "greet", "--project"])
        .expect_code(OK);
    let listed = baton.baton(&["template", "list", "--json"]).json();
    let entry = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(entry("my-tdd")["scope"], "user");
    assert_eq!(entry("greet")["scope"], "repo");
    assert_eq!(entry("greet")["default"], true);
    assert_eq!(entry("tdd")["default"], false);
}

/// `baton ARGS` is refused as bad input (exit 2) with `needle` in what it says.
fn refused(baton: &Baton, args: &[&str], needle: &str) {
    let done = baton.baton(args);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains(needle), "{args:?}: {}", done.stderr);
}

#[test]
fn broken_templates_and_unknown_names_exit_2_naming_the_place_and_writing_nothing() {
    let baton = Baton::new();
    let dir = baton.scratch("broken");
    // A template file `name`.yaml holding `text`, refused by `baton template COMMAND FILE`.
    let broken = |name: &str, text: &str, command: &str, needle: &str| {
        let file = dir.join(format!("{name}.yaml"));
        write(&file, text);
        let needle = needle.replace("FILE", &file.display().to_string());
        refused(
            &baton,
            &["template", command, file.to_str().unwrap()],
            &needle,
        );
    };
    broken(
        "role",
        "version: 1\nname: role\nphases:\n  - name: a\n    role: implementor\n    prompt: p\n",
        "validate",
        "FILE:5:11: phase \"a\" has the unknown role \"implementor\" (did you mean \"implementer\"?)",
    );
    broken(
        "cycle",
        "version: 1\nname: cycle\nphases:\n  - name: a\n    role: implementer\n    prompt: p\n    after: [b]\n  - name: b\n    role: implementer\n    prompt: q\n",
        "import",
        "the phases wait for each other in a cycle: a -> b -> a",
    );
    assert!(
        !user_templates(&baton).exists(),
        "a refused import wrote nothing"
    );
    broken(
        "jinja",
        "version: 1\nname: jinja\nphases:\n  - name: a\n    role: implementer\n    prompt: \"{{ goal \"\n",
        "validate",
        "phase \"a\": prompt is not a valid template",
    );
    broken(
        "fallback",
        "version: 1\nname: fallback\nphases:\n  - name: a\n    role: analyzer\n    prompt: p\n    fallback: {provider: nope, model: m}\n  - name: b\n    role: implementer\n    prompt: q\n",
        "validate",
        "phase \"a\" (fallback): provider \"nope\" is not a provider",
    );
    // A template file in the repository whose name does not match it.
    write(
        &baton.path().join(".baton/templates/other.yaml"),
        &GREET.replace("name: greet", "name: elsewhere"),
    );
    refused(
        &baton,
        &["template", "validate", "other"],
        "found as \"other\"",
    );

    refused(&baton, &["template", "show", "tddd"], "unknown template");
    refused(
        &baton,
        &["template", "set-default", "nope"],
        "unknown template",
    );
    refused(
        &baton,
        &["run", "Greet", "--template", "tddd", "--yes"],
        "unknown template",
    );
    refused(
        &baton,
        &["run", "G", "--template", "tddd", "--yes"],
        "did you mean \"tdd\"",
    );
    assert!(baton.run_ids().is_empty(), "no run was made");
    assert!(!user_templates(&baton).join("default").exists());
    // A variable without a value's shape is refused by the command line.
    refused(
        &baton,
        &["run", "G", "--template", "tdd", "--var", "oops", "--yes"],
        "is not KEY=VALUE",
    );
    // tdd needs a test command; this repository has none baton can find.
    refused(
        &baton,
        &["run", "Greet", "--template", "tdd", "--yes"],
        "--var test_command",
    );
    assert!(baton.run_ids().is_empty());
}

#[test]
fn a_template_runs_its_phases_with_a_red_gate_and_a_verifier() {
    let baton = Baton::new();
    write(&baton.path().join(".baton/templates/greet.yaml"), GREET);
    let done = run_greet(&baton);
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    for id in ["red", "green", "verify"] {
        assert_eq!(task(&report, id)["status"], "merged", "{id}: {report:#}");
    }
    let head = baton.integration(&run);
    assert_eq!(
        baton.read_at(&head, "greeting.txt").as_deref(),
        Some("hello\n")
    );
    let kinds = baton.artifact_kinds(&run);
    assert_eq!(kinds[..2], ["plan", "template"], "{kinds:?}");
}

#[test]
fn an_implementer_that_edits_the_tests_is_caught_and_the_task_waits_for_a_person() {
    let baton = Baton::new();
    // The green phase "passes" by rewriting the check to `true`: the guard sees the tests
    // changed, the task is out of attempts, and on_failure: pause makes it needs_human.
    let cheat = GREET.replace(
        "run: \"echo hello > greeting.txt\"",
        "run: \"echo true > tests/check.sh\"",
    );
    write(&baton.path().join(".baton/templates/greet.yaml"), &cheat);
    let done = run_greet(&baton);
    done.expect_code(PAUSED);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    assert_eq!(task(&report, "red")["status"], "merged");
    assert_eq!(
        task(&report, "green")["status"],
        "needs_human",
        "{report:#}"
    );
    assert_eq!(task(&report, "verify")["status"], "pending", "{report:#}");
    let head = baton.integration(&run);
    assert_eq!(
        baton.read_at(&head, "tests/check.sh").as_deref(),
        Some("grep -qx hello greeting.txt\n"),
        "the tests on the integration branch are the red phase's"
    );
}

#[test]
fn the_built_in_tdd_template_runs_with_claude_code() {
    use baton_testkit::agent_clients::{Client, FileWrite};
    let baton = Baton::new();
    let lane = support::agents::first_lane(&baton);
    let check = lane.join("tests/check.sh");
    let greeting = lane.join("greeting.txt");
    let writes = Client::Claude.script_yaml(&[
        FileWrite {
            path: check.to_str().unwrap(),
            line: "grep -qx hello greeting.txt",
        },
        FileWrite {
            path: greeting.to_str().unwrap(),
            line: "hello",
        },
        FileWrite {
            path: greeting.to_str().unwrap(),
            line: "hello",
        },
    ]);
    let llm = FakeLlm::start(Script::parse(&writes).unwrap()).unwrap();
    baton.write_config("[agents.claude]\ncomplexity = [1, 10]\n");
    let done = support::agents::baton_with_client(
        &baton,
        Client::Claude,
        &llm,
        "sk-ant-tdd-template-1",
        &[
            "run",
            "Greet the reader with hello in greeting.txt",
            "--template",
            "tdd",
            "--var",
            "test_command=sh tests/check.sh",
            "--yes",
        ],
    );
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    for id in ["red", "green", "refactor", "verify"] {
        assert_eq!(task(&report, id)["status"], "merged", "{id}: {report:#}");
    }
    let head = baton.integration(&run);
    assert_eq!(
        baton.read_at(&head, "greeting.txt").as_deref(),
        Some("hello\n")
    );
    // The red phase's prompt is the template's, rendered with the goal.
    let requests = llm.requests();
    let first = requests.iter().find(|r| r.turn == Some(1)).unwrap();
    let text = first.last_user_text.clone().unwrap_or_default();
    assert!(
        text.contains("Write tests for this goal, and only tests"),
        "{text}"
    );
    assert!(text.contains("Greet the reader with hello"), "{text}");
}

/// An approving review report.
fn approve() -> String {
    serde_json::json!({"approved": true, "summary": "Fine.", "issues": []}).to_string()
}

#[test]
fn the_default_template_analyzes_plans_implements_reviews_and_verifies() {
    let baton = Baton::new();
    let plan = serde_json::json!({
        "summary": "One file.",
        "tasks": [{"id": "greet", "title": "Greet", "prompt": "Write greet.txt.",
                   "claims": ["greet.txt"], "complexity": 1, "risk": "low"}],
        "risks": [],
        "open_questions": []
    })
    .to_string();
    // The analysis, the plan, then three reviews of the task and three of the whole run.
    let mut turns = vec![
        "The goal touches greet.txt only; there are no tests.".to_owned(),
        plan,
    ];
    turns.extend(std::iter::repeat_n(approve(), 6));
    let fake = FakeLlm::start(Script::new(turns.into_iter().map(Turn::text))).unwrap();
    baton.write_config(
        "[planner]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nagent = \"claude\"\n\
         [review]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n",
    );
    let bin = baton.scratch("bin");
    support::agents::stand_in_claude(&bin, "done");
    let env = [
        ("BATON_ANTHROPIC_BASE_URL", fake.url()),
        ("ANTHROPIC_API_KEY", "sk-ant-default-template-1".to_owned()),
    ];
    let done = support::agents::baton_with_agent(
        &baton,
        &bin,
        &env,
        &[
            "run",
            "Write greet.txt",
            "--template",
            "default",
            "--var",
            "test_command=test -f greet.txt",
            "--yes",
        ],
    );
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    assert_eq!(task(&report, "greet")["status"], "merged", "{report:#}");
    assert_eq!(task(&report, "verify")["status"], "merged", "{report:#}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 8, "{requests:#?}");
    // The planner was told what the analyzer found.
    let planning = requests[1].last_user_text.clone().unwrap_or_default();
    assert!(
        planning.contains("The goal touches greet.txt only"),
        "{planning}"
    );
    // Three kinds of review of the task, in parallel, then of the whole run.
    let reviews = report["reviews"].as_array().unwrap();
    for kind in ["functional", "style", "security"] {
        let of_kind: Vec<&serde_json::Value> =
            reviews.iter().filter(|r| r["kind"] == kind).collect();
        assert_eq!(of_kind.len(), 2, "{kind}: {reviews:#?}");
        assert!(of_kind.iter().any(|r| r["task"] == "greet"), "{reviews:#?}");
        assert!(of_kind.iter().any(|r| r["task"].is_null()), "{reviews:#?}");
    }
    let by_task = &report["usage"]["by_task"];
    assert_eq!(by_task["(analyzer)"]["attempts"], 1, "{report:#}");
    assert_eq!(by_task["(planner)"]["attempts"], 1, "{report:#}");
}

#[test]
fn the_built_in_fix_lint_template_runs_the_scanners_fix_and_verifies_it() {
    let baton = Baton::new();
    baton.commit_file(
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
        "manifest",
    );
    baton.commit_file("src/lib.rs", "pub fn   double(x:u32)->u32{x*2}\n", "lib");
    baton.commit_file(
        "Cargo.lock",
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"tiny\"\nversion = \"0.1.0\"\n",
        "lock",
    );
    let target = baton.writable_scratch("target");
    let done = baton.baton_with_env(
        baton.path(),
        &[
            "run",
            "--template",
            "fix-lint",
            "--var",
            "test_command=cargo fmt --check",
            "--yes",
        ],
        &[("CARGO_TARGET_DIR", target.as_path())],
    );
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    assert_eq!(
        task(&report, "rustfmt-fix")["status"],
        "merged",
        "{report:#}"
    );
    let verify = task(&report, "verify");
    assert_eq!(verify["status"], "merged", "{report:#}");
    assert_eq!(
        baton
            .read_at(&baton.integration(&run), "src/lib.rs")
            .as_deref(),
        Some("pub fn double(x: u32) -> u32 {\n    x * 2\n}\n")
    );
}

#[test]
fn a_phase_past_its_timeout_is_skipped_when_it_may_be_and_stops_the_run_when_not() {
    let baton = Baton::new();
    let fake = FakeLlm::start(Script::parse("- hang: true\n- hang: true\n").unwrap()).unwrap();
    baton.write_config("[planner]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n");
    let template = |can_skip: bool| {
        format!(
            "version: 1\nname: slow\nphases:\n  - name: ask\n    role: analyzer\n    timeout: 1s\n    can_skip: {can_skip}\n    prompt: \"Study {{{{ goal }}}}\"\n  - name: write\n    role: implementer\n    agent: exec\n    run: \"echo done > done.txt\"\n"
        )
    };
    let env = |fake: &FakeLlm| {
        [
            ("BATON_ANTHROPIC_BASE_URL", fake.url()),
            ("ANTHROPIC_API_KEY", "sk-ant-slow-1".to_owned()),
        ]
    };
    let run = |baton: &Baton| {
        let env = env(&fake);
        let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, Path::new(v))).collect();
        baton.baton_with_env(
            baton.path(),
            &["run", "Write done", "--template", "slow", "--yes"],
            &env,
        )
    };
    write(
        &baton.path().join(".baton/templates/slow.yaml"),
        &template(true),
    );
    let done = run(&baton);
    done.expect_code(OK);
    assert!(
        done.stderr.contains("skipped: phase ask"),
        "{}",
        done.stderr
    );
    let id = baton.run_ids()[0].clone();
    let artifacts = baton.baton(&["artifacts", &id, "--json"]).json();
    let settings = artifacts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "template")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = baton.baton(&["artifact", "show", &settings]).stdout;
    assert!(shown.contains("\"ask: "), "{shown}");

    write(
        &baton.path().join(".baton/templates/slow.yaml"),
        &template(false),
    );
    let done = run(&baton);
    done.expect_code(support::FAILED);
    assert!(
        done.stderr.contains("the phase's timeout"),
        "{}",
        done.stderr
    );
    assert_eq!(baton.run_ids().len(), 1, "no second run was made");
}

#[test]
fn with_iteration_pause_a_rejected_change_waits_for_a_person_then_retry_sends_it_back() {
    let baton = Baton::new();
    let reject = serde_json::json!({"approved": false, "summary": "Say hello, not hi.",
        "issues": [{"severity": "high", "file": "greeting.txt", "line": 1,
                    "message": "it says hi", "suggestion": "write hello"}]})
    .to_string();
    let fake = FakeLlm::start(Script::new([Turn::text(reject), Turn::text(approve())])).unwrap();
    write(
        &baton.path().join(".baton/templates/careful.yaml"),
        r#"version: 1
name: careful
iteration: pause
phases:
  - name: greet
    role: implementer
    agent: exec
    run: "echo hi > greeting.txt"
  - name: check
    role: reviewer_functional
    provider: anthropic
    model: claude-sonnet-4-5
"#,
    );
    baton.write_config(
        "[review]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nfinal = false\n",
    );
    let url = fake.url();
    let env = [
        ("BATON_ANTHROPIC_BASE_URL", Path::new(&url)),
        ("ANTHROPIC_API_KEY", Path::new("sk-ant-careful-1")),
    ];
    let done = baton.baton_with_env(
        baton.path(),
        &["run", "Greet", "--template", "careful", "--yes"],
        &env,
    );
    done.expect_code(PAUSED);
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    assert_eq!(
        task(&report, "greet")["status"],
        "needs_human",
        "{report:#}"
    );
    assert_eq!(report["reviews"][0]["approved"], false, "{report:#}");
    assert_eq!(fake.requests().len(), 1, "nothing went back on its own");
    // The person read the review and sends the change back; the reviewer approves.
    baton
        .baton_with_env(baton.path(), &["retry", &run, "greet"], &env)
        .expect_code(OK);
    baton
        .baton_with_env(baton.path(), &["resume", &run], &env)
        .expect_code(OK);
    assert_eq!(task(&baton.report(&run), "greet")["status"], "merged");
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn a_phase_whose_model_fails_asks_its_fallback() {
    let baton = Baton::new();
    let approve_text = serde_json::to_string(&approve()).unwrap();
    let refused = "- error: {status: 401, body: \"invalid x-api-key\"}\n";
    let script = format!(
        "{refused}- text: \"Notes from the fallback.\"\n{refused}- text: {approve_text}\n{refused}- text: {approve_text}\n"
    );
    let fake = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    write(
        &baton.path().join(".baton/templates/sturdy.yaml"),
        r#"version: 1
name: sturdy
phases:
  - name: ask
    role: analyzer
    provider: anthropic
    model: claude-sonnet-4-5
    prompt: "Study {{ goal }}"
    fallback: {provider: openai, model: gpt-5}
  - name: greet
    role: implementer
    agent: exec
    run: "echo hello > greeting.txt"
  - name: check
    role: reviewer_functional
    provider: anthropic
    model: claude-sonnet-4-5
    fallback: {provider: openai, model: gpt-5}
"#,
    );
    let url = fake.url();
    let openai = format!("{url}/v1");
    let env = [
        ("BATON_ANTHROPIC_BASE_URL", Path::new(&url)),
        ("ANTHROPIC_API_KEY", Path::new("sk-ant-sturdy-1")),
        ("BATON_OPENAI_BASE_URL", Path::new(&openai)),
        ("OPENAI_API_KEY", Path::new("sk-openai-sturdy-1")),
    ];
    let done = baton.baton_with_env(
        baton.path(),
        &["run", "Greet", "--template", "sturdy", "--yes"],
        &env,
    );
    done.expect_code(OK);
    assert!(
        done.stderr.contains("fallback: phase ask"),
        "{}",
        done.stderr
    );
    let run = baton.run_ids()[0].clone();
    let report = baton.report(&run);
    assert_eq!(task(&report, "greet")["status"], "merged", "{report:#}");
    let reviews = report["reviews"].as_array().unwrap();
    assert!(!reviews.is_empty(), "{report:#}");
    assert!(
        reviews
            .iter()
            .all(|r| r["provider"] == "openai" && r["approved"] == true),
        "{reviews:#?}"
    );
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths.len(), 6, "{paths:?}");
    assert!(
        paths[0].starts_with("/v1/messages") && paths[1].starts_with("/v1/responses"),
        "{paths:?}"
    );
}

#[test]
fn an_implementers_prompt_is_rendered_again_for_each_attempt_with_its_iteration() {
    let baton = Baton::new();
    // The stand-in writes its attempt's number; the check wants the second.
    write(
        &baton.path().join(".baton/templates/again.yaml"),
        r#"version: 1
name: again
phases:
  - name: build
    role: implementer
    agent: claude
    max_retries: 1
    prompt: "Write build.txt{% if iteration > 1 %} again (attempt {{ iteration }}){% endif %}."
    success:
      - "grep -qx 'built 2' build.txt"
"#,
    );
    let bin = baton.scratch("bin");
    support::agents::stand_in_claude(&bin, "built $BATON_ATTEMPT");
    let done = support::agents::baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "Build it", "--template", "again", "--yes"],
    );
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    let prompts = baton.home.join("runs").join(&run).join("prompts");
    let first = std::fs::read_to_string(prompts.join("build.1.md")).unwrap();
    let second = std::fs::read_to_string(prompts.join("build.2.md")).unwrap();
    assert!(first.contains("Write build.txt.\n"), "{first}");
    assert!(
        second.contains("Write build.txt again (attempt 2)."),
        "{second}"
    );
    assert_eq!(task(&baton.report(&run), "build")["status"], "merged");
}
