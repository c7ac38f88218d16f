#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::{AgentKind, parse_plan};
use baton_protocol::scan::{CandidateTask, Fixer};
use proptest::prelude::*;

fn kinds(found: &[Finding]) -> Vec<(u32, FindingKind)> {
    found.iter().map(|f| (f.line, f.kind)).collect()
}

#[test]
fn markers_are_found_with_their_line_and_text() {
    let text = format!(
        "fn a() {{\n    // TODO: handle errors\n    {TODO_CALL}\"later\")\n}}\n# FIXME(x) and HACK\n"
    );
    let found = find_markers("src/a.rs", &text);
    assert_eq!(
        kinds(&found),
        vec![
            (2, FindingKind::Todo),
            (3, FindingKind::TodoMacro),
            (5, FindingKind::Fixme),
            (5, FindingKind::Hack),
        ]
    );
    assert_eq!(found[0].file, "src/a.rs");
    assert_eq!(found[0].text, "// TODO: handle errors");
}

#[test]
fn word_markers_must_be_whole_words_in_their_case() {
    let text = "TODOS\ntodo: lower\nMY_TODO\nXXXL\nHACKED\nautoTODO\n(XXX)\nTODO.\n";
    assert_eq!(
        kinds(&find_markers("f", text)),
        vec![(7, FindingKind::Xxx), (8, FindingKind::Todo)]
    );
}

#[test]
fn code_that_is_not_written_yet_is_found_in_each_language() {
    let text = format!(
        "{UNIMPLEMENTED_CALL})\nraise NotImplementedError\nthrow new Error(\"not implemented\");\n"
    );
    assert_eq!(
        kinds(&find_markers("f", &text)),
        vec![
            (1, FindingKind::Unimplemented),
            (2, FindingKind::NotImplementedError),
            (3, FindingKind::NotImplementedThrow),
        ]
    );
}

#[test]
fn long_lines_are_shortened_on_a_character_boundary() {
    let text = format!("// TODO {}", "é".repeat(400));
    let found = find_markers("f", &text);
    assert_eq!(found[0].text.chars().count(), 201);
    assert!(found[0].text.ends_with('…'));
}

#[test]
fn binary_content_is_recognised_by_a_nul_byte() {
    assert!(looks_binary(b"\x7fELF\0\0"));
    assert!(!looks_binary("TODO é".as_bytes()));
}

proptest! {
    #[test]
    fn every_finding_points_at_a_line_holding_its_marker(
        lines in proptest::collection::vec("[ a-zA-Z_!(]{0,12}(TODO|todo!\\(|XXX)?[ a-zA-Z_]{0,12}", 0..20)
    ) {
        let text = lines.join("\n");
        for finding in find_markers("f", &text) {
            let line = lines[finding.line as usize - 1].trim();
            prop_assert_eq!(&finding.text, line);
            let needle = match finding.kind {
                FindingKind::Todo => "TODO",
                FindingKind::TodoMacro => TODO_CALL,
                FindingKind::Xxx => "XXX",
                other => panic!("unexpected kind {other:?}"),
            };
            prop_assert!(line.contains(needle));
        }
    }
}

/// What `cargo clippy --message-format=json` prints (trimmed to the fields read), recorded
/// from clippy 0.1.95: one lint twice (lib and test targets), a summary without span, and an
/// artifact line.
const CLIPPY_SAMPLE: &str = r#"{"reason":"compiler-artifact","package_id":"tiny 0.1.0","target":{"name":"tiny"}}
{"reason":"compiler-message","package_id":"tiny 0.1.0","message":{"$message_type":"diagnostic","message":"unneeded `return` statement","code":{"code":"clippy::needless_return","explanation":null},"level":"warning","spans":[{"file_name":"src/lib.rs","line_start":2,"line_end":2,"is_primary":true,"suggestion_applicability":null}],"children":[{"message":"remove `return`","code":null,"level":"help","spans":[{"file_name":"src/lib.rs","line_start":2,"line_end":2,"is_primary":true,"suggested_replacement":"x","suggestion_applicability":"MachineApplicable"}],"children":[]}]}}
{"reason":"compiler-message","package_id":"tiny 0.1.0","message":{"$message_type":"diagnostic","message":"unneeded `return` statement","code":{"code":"clippy::needless_return","explanation":null},"level":"warning","spans":[{"file_name":"src/lib.rs","line_start":2,"line_end":2,"is_primary":true,"suggestion_applicability":null}],"children":[{"message":"remove `return`","code":null,"level":"help","spans":[{"file_name":"src/lib.rs","line_start":2,"line_end":2,"is_primary":true,"suggested_replacement":"x","suggestion_applicability":"MachineApplicable"}],"children":[]}]}}
{"reason":"compiler-message","package_id":"tiny 0.1.0","message":{"message":"this function has too many arguments (8/7)","code":{"code":"clippy::too_many_arguments"},"level":"warning","spans":[{"file_name":"src/big.rs","line_start":10,"is_primary":true}],"children":[]}}
{"reason":"compiler-message","package_id":"tiny 0.1.0","message":{"message":"1 warning emitted","code":null,"level":"warning","spans":[],"children":[]}}
{"reason":"build-finished","success":true}
"#;

#[test]
fn clippy_diagnostics_are_read_once_with_their_fixability() {
    let found = parse_clippy(CLIPPY_SAMPLE);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].file, "src/lib.rs");
    assert_eq!(found[0].line, 2);
    assert_eq!(found[0].code.as_deref(), Some("clippy::needless_return"));
    assert_eq!(found[0].level.as_deref(), Some("warning"));
    assert!(found[0].fixable);
    assert_eq!(found[1].file, "src/big.rs");
    assert!(!found[1].fixable);
}

/// What `ruff check --output-format=json` prints (ruff 0.6), trimmed to the fields read.
const RUFF_SAMPLE: &str = r#"[
  {"cell":null,"code":"F401","end_location":{"column":10,"row":1},"filename":"/repo/pkg/mod.py","fix":{"applicability":"safe","edits":[],"message":"Remove unused import: `os`"},"location":{"column":8,"row":1},"message":"`os` imported but unused","noqa_row":1,"url":"https://docs.astral.sh/ruff/rules/unused-import"},
  {"cell":null,"code":"F841","end_location":{"column":6,"row":4},"filename":"/repo/pkg/mod.py","fix":{"applicability":"unsafe","edits":[],"message":"Remove assignment"},"location":{"column":5,"row":4},"message":"Local variable `x` is assigned to but never used","noqa_row":4,"url":null},
  {"cell":null,"code":"E902","end_location":null,"filename":"/elsewhere/x.py","fix":null,"location":{"column":1,"row":1},"message":"No such file","noqa_row":null,"url":null}
]"#;

#[test]
fn ruff_diagnostics_are_read_relative_to_the_repository_with_safe_fixes() {
    let found = parse_ruff(RUFF_SAMPLE, "/repo/").unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].file, "pkg/mod.py");
    assert_eq!(found[0].line, 1);
    assert_eq!(found[0].code.as_deref(), Some("F401"));
    assert!(found[0].fixable);
    assert!(!found[1].fixable, "unsafe fixes are not applied by --fix");
    assert_eq!(found[2].file, "/elsewhere/x.py");
    assert_eq!(parse_ruff("[]\n", "/repo").unwrap(), Vec::new());
    let error = parse_ruff("error: no such file", "/repo").unwrap_err();
    assert!(error.to_string().contains("ruff"), "{error}");
}

fn finding(file: &str, line: u32, kind: FindingKind, fixable: bool) -> Finding {
    Finding {
        file: file.to_owned(),
        line,
        kind,
        text: format!("text of {file}:{line}"),
        code: None,
        level: None,
        fixable,
    }
}

#[test]
fn findings_group_into_fixer_tasks_and_one_task_per_file() {
    let findings = vec![
        finding("src/lib.rs", 3, FindingKind::Clippy, true),
        finding("src/lib.rs", 9, FindingKind::TodoMacro, false),
        finding("src/lib.rs", 1, FindingKind::Todo, false),
        finding("app/main.py", 2, FindingKind::Ruff, true),
        finding("src/Lib.rs", 2, FindingKind::Clippy, false),
    ];
    let tasks = group_findings(&findings);
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        // app/main.py has nothing ruff cannot fix: no agent task.
        vec!["clippy-fix", "ruff-fix", "src-lib-rs", "src-lib-rs-2"]
    );
    assert_eq!(tasks[0].fixer, Some(Fixer::Clippy));
    assert_eq!(tasks[0].files, vec!["src/lib.rs"]);
    assert_eq!(tasks[1].fixer, Some(Fixer::Ruff));
    // src/Lib.rs sorts before src/lib.rs and takes the plain slug.
    let lib = tasks
        .iter()
        .find(|t| t.files == ["src/lib.rs"] && t.fixer.is_none())
        .unwrap();
    assert_eq!(
        kinds(&lib.findings),
        vec![(1, FindingKind::Todo), (9, FindingKind::TodoMacro)]
    );
    let lint_only = tasks.iter().find(|t| t.files == ["src/Lib.rs"]).unwrap();
    assert!(lib.complexity > lint_only.complexity, "{tasks:#?}");
}

#[test]
fn complexity_stays_between_one_and_ten() {
    let many: Vec<Finding> = (1..=50)
        .map(|n| finding("a.rs", n, FindingKind::Unimplemented, false))
        .collect();
    assert_eq!(group_findings(&many)[0].complexity, 10);
    let one = vec![finding("a.rs", 1, FindingKind::Clippy, false)];
    assert_eq!(group_findings(&one)[0].complexity, 1);
}

#[test]
fn security_sensitive_paths_are_flagged_with_the_reason() {
    for path in [
        "src/auth/mod.rs",
        "app/login.py",
        "lib/api_token.rs",
        "db/migrations/001_init.sql",
        ".github/workflows/ci.yml",
        "Dockerfile",
        "deploy/Dockerfile.prod",
        "terraform/main.tf",
        "infra/k8s.yaml",
        "src/Billing.ts",
        "config/secrets.toml",
    ] {
        assert!(sensitive_reason(path).is_some(), "{path} should be flagged");
    }
    for path in [
        "src/tokenizer.rs",
        "AUTHORS.md",
        "src/lib.rs",
        "docs/infra.md",
    ] {
        assert_eq!(sensitive_reason(path), None, "{path} should not be flagged");
    }
    let tasks = group_findings(&[finding("src/auth.rs", 1, FindingKind::Todo, false)]);
    assert!(tasks[0].needs_person);
    assert!(tasks[0].reason.as_deref().unwrap().contains("src/auth.rs"));
}

#[test]
fn the_plan_written_from_candidates_parses_with_the_expected_tasks() {
    let findings = vec![
        finding("src/lib.rs", 3, FindingKind::Clippy, true),
        finding("src/lib.rs", 9, FindingKind::TodoMacro, false),
        finding("src/auth.rs", 2, FindingKind::Todo, false),
        finding("py/we\"ird [1].py", 4, FindingKind::Ruff, true),
        finding("py/we\"ird [1].py", 5, FindingKind::Fixme, false),
    ];
    let tasks: Vec<CandidateTask> = group_findings(&findings);
    let yaml = plan_yaml(&tasks, "Fix what baton scan found").unwrap();
    let plan = parse_plan(&yaml, "scan.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "clippy-fix",
            "ruff-fix",
            "py-we-ird-1-py",
            "src-auth-rs",
            "src-lib-rs"
        ]
    );
    let clippy = &plan.tasks[0];
    assert_eq!(clippy.agent, AgentKind::Exec);
    assert!(clippy.run.starts_with("cargo clippy --fix"));
    let ruff = &plan.tasks[1];
    assert!(ruff.run.contains("'py/we\"ird [1].py'"), "{}", ruff.run);
    let lib = &plan.tasks[4];
    assert_eq!(lib.agent, AgentKind::Auto);
    assert_eq!(
        lib.deps.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        ["clippy-fix"]
    );
    let Some(crate::Prompt::Text(prompt)) = &lib.prompt else {
        panic!("no prompt: {lib:?}");
    };
    assert!(
        prompt.contains("src/lib.rs:9 [todo!] text of src/lib.rs:9"),
        "{prompt}"
    );
    assert!(yaml.contains("# A person should look at this task before it runs: src/auth.rs"));
    assert_eq!(plan_yaml(&[], "nothing"), None);
}
