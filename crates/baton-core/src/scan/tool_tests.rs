#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The tools' parsers on output recorded from the real tools (eslint 10.15.0, mypy 2.4.1,
//! rustfmt 1.95, cargo test 1.95, pytest 9.2.0), absolute paths rewritten to `/repo`.

use super::*;
use baton_protocol::scan::{Finding, FindingKind};

/// `eslint -f json .` on a file with an unused variable (error, only a suggestion) and a `let`
/// that should be `const` (warning, a fix).
const ESLINT_JSON: &str = r####"[{"filePath":"/repo/eslint.config.js","messages":[],"suppressedMessages":[],"errorCount":0,"fatalErrorCount":0,"warningCount":0,"fixableErrorCount":0,"fixableWarningCount":0,"usedDeprecatedRules":[]},{"filePath":"/repo/src/index.js","messages":[{"ruleId":"no-unused-vars","severity":2,"message":"'unused' is assigned a value but never used.","line":1,"column":7,"messageId":"unusedVar","endLine":1,"endColumn":13,"suggestions":[{"messageId":"removeVar","data":{"varName":"unused"},"fix":{"range":[0,17],"text":""},"desc":"Remove unused variable 'unused'."}]},{"ruleId":"prefer-const","severity":1,"message":"'x' is never reassigned. Use 'const' instead.","line":2,"column":5,"messageId":"useConst","endLine":2,"endColumn":6,"fix":{"range":[18,28],"text":"const x = 2;"}}],"suppressedMessages":[],"errorCount":1,"fatalErrorCount":0,"warningCount":1,"fixableErrorCount":0,"fixableWarningCount":1,"source":"const unused = 1;\nlet x = 2;\nexport function f() {\n  return x;\n}\n","usedDeprecatedRules":[]}]"####;

/// `mypy --output json --cache-dir=/dev/null .` (one JSON object a line).
const MYPY_JSON: &str = r####"{"file": "app/calc.py", "line": 5, "column": 16, "end_line": 5, "end_column": 19, "message": "Argument 2 to \"add\" has incompatible type \"str\"; expected \"int\"", "hint": null, "code": "arg-type", "severity": "error"}
{"file": "app/calc.py", "line": 5, "column": 16, "end_line": 5, "end_column": 19, "message": "See https://mypy.rtfd.io/en/stable/_refs.html#code-arg-type", "hint": null, "code": null, "severity": "note"}
"####;

/// The same with mypy's text output (`--show-column-numbers --show-error-codes`).
const MYPY_TEXT: &str = r####"app/calc.py:5:17: error: Argument 2 to "add" has incompatible type "str"; expected "int"  [arg-type]
app/calc.py:9: error: Name "y" is not defined  [name-defined]
app/calc.py:9: note: See https://mypy.rtfd.io
Found 2 errors in 1 file (checked 3 source files)
"####;

/// `cargo fmt --check -- --color never` on a crate with one unformatted file.
const RUSTFMT_CHECK: &str = r####"Diff in /repo/src/extra.rs:1:
-pub fn   sub(a:u32,b:u32)->u32{a-b}
+pub fn sub(a: u32, b: u32) -> u32 {
+    a - b
+}
Diff in /repo/src/extra.rs:7:
-fn  x() {}
+fn x() {}
Diff in /repo/src/main.rs at line 3:
-fn  main() {}
+fn main() {}
"####;

/// `cargo test --no-fail-fast` with stderr on stdout (`2>&1`): a failing unit test, and in
/// `tests/outer.rs` a panicking test and one returning `Err`.
const CARGO_TEST: &str = r####"   Compiling tiny v0.1.0 (/repo)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1.39s
     Running unittests src/lib.rs (target/debug/deps/tiny-b8411d1b6389d6df)

running 2 tests
test tests::fine ... ok
test tests::adds ... FAILED

failures:

---- tests::adds stdout ----

thread 'tests::adds' (32595) panicked at src/lib.rs:11:9:
assertion `left == right` failed
  left: 4
 right: 5
stack backtrace:
   0: __rustc::rust_begin_unwind
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs:689:5
   1: core::panicking::panic_fmt
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs:80:14
   2: core::panicking::assert_failed_inner
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs:439:17
   3: core::panicking::assert_failed::<u32, u32>
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs:394:5
   4: tiny::tests::adds
             at ./src/lib.rs:11:9
   5: tiny::tests::adds::{{closure}}
             at ./src/lib.rs:10:14
   6: core::ops::function::FnOnce::call_once
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs:250:5
   7: <fn() -> core::result::Result<(), alloc::string::String> as core::ops::function::FnOnce<()>>::call_once
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs:250:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.


failures:
    tests::adds

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.39s

error: test failed, to rerun pass `--lib`
     Running tests/outer.rs (target/debug/deps/outer-3038c17839160bb4)

running 2 tests
test returns_err ... FAILED
test from_outside ... FAILED

failures:

---- returns_err stdout ----
Error: "nope"

---- from_outside stdout ----

thread 'from_outside' (32604) panicked at tests/outer.rs:3:5:
outside broke
stack backtrace:
   0: __rustc::rust_begin_unwind
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs:689:5
   1: core::panicking::panic_fmt
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/panicking.rs:80:14
   2: outer::from_outside
             at ./tests/outer.rs:3:5
   3: outer::from_outside::{{closure}}
             at ./tests/outer.rs:2:18
   4: core::ops::function::FnOnce::call_once
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs:250:5
   5: <fn() -> core::result::Result<(), alloc::string::String> as core::ops::function::FnOnce<()>>::call_once
             at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs:250:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.


failures:
    from_outside
    returns_err

test result: FAILED. 0 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.53s


running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

"####;

/// `pytest` (its default short summary `-rfE`): a failing function and a failing method.
const PYTEST: &str = r####"============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-9.2.0, pluggy-1.7.0
rootdir: /repo
collected 3 items

tests/test_calc.py F.F                                                   [100%]

=================================== FAILURES ===================================
___________________________________ test_add ___________________________________

    def test_add():
>       assert add(1, 2) == 4
E       assert 3 == 4
E        +  where 3 = add(1, 2)

tests/test_calc.py:5: AssertionError
_________________________________ TestK.test_m _________________________________

self = <tests.test_calc.TestK object at 0x7f1eb44b4d90>

    def test_m(self):
>       raise ValueError("boom")
E       ValueError: boom

tests/test_calc.py:14: ValueError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - assert 3 == 4
FAILED tests/test_calc.py::TestK::test_m - ValueError: boom
========================= 2 failed, 1 passed in 0.22s ==========================
"####;

fn lines_and_codes(found: &[Finding]) -> Vec<(&str, u32, Option<&str>)> {
    found
        .iter()
        .map(|f| (f.file.as_str(), f.line, f.code.as_deref()))
        .collect()
}

#[test]
fn eslint_messages_are_read_relative_to_the_repository_with_their_level_and_fix() {
    let found = parse_eslint(ESLINT_JSON, "/repo").unwrap();
    assert_eq!(
        lines_and_codes(&found),
        vec![
            ("src/index.js", 1, Some("no-unused-vars")),
            ("src/index.js", 2, Some("prefer-const")),
        ]
    );
    assert!(found.iter().all(|f| f.kind == FindingKind::Eslint));
    assert_eq!(found[0].level.as_deref(), Some("error"));
    assert_eq!(
        found[0].text,
        "'unused' is assigned a value but never used."
    );
    // A suggestion is not a fix eslint applies by itself; prefer-const's is.
    assert!(!found[0].fixable);
    assert_eq!(found[1].level.as_deref(), Some("warning"));
    assert!(found[1].fixable);
}

#[test]
fn eslint_output_that_is_not_its_json_is_an_error_naming_eslint() {
    let error = parse_eslint("Oops! Something went wrong! :(", "/repo").unwrap_err();
    assert_eq!(error.tool, "eslint");
    assert!(
        error.to_string().contains("eslint printed output"),
        "{error}"
    );
}

#[test]
fn mypy_json_errors_are_read_and_notes_dropped() {
    let found = parse_mypy(MYPY_JSON);
    assert_eq!(
        lines_and_codes(&found),
        vec![("app/calc.py", 5, Some("arg-type"))]
    );
    assert_eq!(found[0].kind, FindingKind::Mypy);
    assert_eq!(found[0].level.as_deref(), Some("error"));
    assert_eq!(
        found[0].text,
        "Argument 2 to \"add\" has incompatible type \"str\"; expected \"int\""
    );
}

#[test]
fn mypy_text_errors_are_read_with_or_without_a_column() {
    let found = parse_mypy(MYPY_TEXT);
    assert_eq!(
        lines_and_codes(&found),
        vec![
            ("app/calc.py", 5, Some("arg-type")),
            ("app/calc.py", 9, Some("name-defined")),
        ]
    );
    assert_eq!(found, {
        let mut from_json = parse_mypy(MYPY_JSON);
        from_json.push(found[1].clone());
        from_json
    });
    assert_eq!(found[1].text, "Name \"y\" is not defined");
}

#[test]
fn rustfmt_differences_are_one_fixable_finding_per_file_at_its_first_line() {
    let found = parse_rustfmt_check(RUSTFMT_CHECK, "/repo");
    assert_eq!(
        lines_and_codes(&found),
        vec![("src/extra.rs", 1, None), ("src/main.rs", 3, None)]
    );
    assert!(
        found
            .iter()
            .all(|f| f.kind == FindingKind::Rustfmt && f.fixable)
    );
    assert!(parse_rustfmt_check("", "/repo").is_empty());
}

#[test]
fn cargo_test_failures_carry_their_panic_location_or_their_target_file() {
    let failed = parse_test_failures(CARGO_TEST);
    let summary: Vec<(&str, Option<&str>, Option<u32>, &str)> = failed
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.file.as_deref(),
                t.line,
                t.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "tests::adds",
                Some("src/lib.rs"),
                Some(11),
                "assertion `left == right` failed"
            ),
            ("returns_err", Some("tests/outer.rs"), None, ""),
            (
                "from_outside",
                Some("tests/outer.rs"),
                Some(3),
                "outside broke"
            ),
        ]
    );
}

#[test]
fn an_old_style_panic_line_gives_its_location_and_message() {
    let output = "test t::x ... FAILED\n\nfailures:\n\n---- t::x stdout ----\nthread 't::x' panicked at 'it broke', src/a.rs:7:5\n";
    let failed = parse_test_failures(output);
    assert_eq!(failed[0].file.as_deref(), Some("src/a.rs"));
    assert_eq!(failed[0].line, Some(7));
    assert_eq!(failed[0].message, "it broke");
}

#[test]
fn pytest_failures_come_from_the_short_summary_with_the_line_in_the_test_file() {
    let failed = parse_test_failures(PYTEST);
    let summary: Vec<(&str, Option<&str>, Option<u32>, &str)> = failed
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.file.as_deref(),
                t.line,
                t.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "tests/test_calc.py::test_add",
                Some("tests/test_calc.py"),
                Some(5),
                "assert 3 == 4"
            ),
            (
                "tests/test_calc.py::TestK::test_m",
                Some("tests/test_calc.py"),
                Some(14),
                "ValueError: boom"
            ),
        ]
    );
    let finding = failed[0].finding("tests/test_calc.py".to_owned(), 5);
    assert_eq!(finding.kind, FindingKind::FailingTest);
    assert_eq!(
        finding.code.as_deref(),
        Some("tests/test_calc.py::test_add")
    );
    assert_eq!(finding.text, "assert 3 == 4");
    assert_eq!(failed[1].finding("f".to_owned(), 0).line, 1);
}

#[test]
fn a_pytest_collection_error_is_a_failing_test_of_its_file() {
    let output = "=========================== short test summary info ============================\nERROR tests/test_calc.py - TypeError: unsupported operand\n";
    let failed = parse_test_failures(output);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].file.as_deref(), Some("tests/test_calc.py"));
    assert_eq!(failed[0].line, None);
}

#[test]
fn output_with_no_failures_gives_none() {
    assert!(
        parse_test_failures("test result: ok. 3 passed; 0 failed\n3 passed in 0.1s\n").is_empty()
    );
}

#[test]
fn a_test_functions_line_is_found_by_its_name() {
    let text = "#[test]\nfn other() {}\n\n#[test]\nfn returns_err() -> Result<(), String> {\n";
    assert_eq!(rust_fn_line(text, "returns_err"), Some(5));
    assert_eq!(rust_fn_line(text, "tests::other"), Some(2));
    assert_eq!(rust_fn_line(text, "missing"), None);
}

#[test]
fn a_rustfmt_fixer_task_runs_cargo_fmt_after_clippys_fixes() {
    let lint = Finding {
        file: "src/lib.rs".to_owned(),
        line: 2,
        kind: FindingKind::Clippy,
        text: "unneeded `return` statement".to_owned(),
        code: Some("clippy::needless_return".to_owned()),
        level: Some("warning".to_owned()),
        fixable: true,
    };
    let mut found = parse_rustfmt_check(RUSTFMT_CHECK, "/repo");
    found.push(lint);
    let tasks = group_findings(&found);
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["clippy-fix", "rustfmt-fix"]);
    assert_eq!(tasks[1].files, ["src/extra.rs", "src/main.rs"]);
    let yaml = plan_yaml(&tasks, "goal").unwrap();
    let plan = crate::parse_plan(&yaml, "scan.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let fmt = &plan.tasks[1];
    assert_eq!(fmt.agent, crate::AgentKind::Exec);
    assert_eq!(fmt.deps, [baton_protocol::TaskId::new("clippy-fix")]);
    assert!(yaml.contains("run: \"cargo fmt --all\""), "{yaml}");
}
