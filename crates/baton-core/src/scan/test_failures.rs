//! The failing tests in a test command's output (stdout and stderr as one stream): `cargo
//! test`'s `test NAME ... FAILED` lines with the panic location of each, and pytest's short
//! summary `FAILED path::test - message` (and `ERROR path - message` for a file that could not
//! be collected) with the line its traceback ends at in the test's file.

use baton_protocol::scan::{Finding, FindingKind};

use super::shorten;

/// One test the output reports failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTest {
    /// The test's name as the runner prints it (`tests::adds`, `tests/test_x.py::test_add`).
    pub name: String,
    /// Where it failed, when the output says: the panic location (cargo), the test's file
    /// (pytest). For cargo without a panic location (a test returning `Err`), the source file
    /// of the test target (`Running tests/outer.rs`), when the output names it.
    pub file: Option<String>,
    /// The line in `file`, when the output says.
    pub line: Option<u32>,
    /// What the runner said about it (the panic message, pytest's one-line reason).
    pub message: String,
}

impl FailedTest {
    /// A finding at `file:line` (defaults for what the output did not say); its text is the
    /// runner's message, its code the test's name.
    pub fn finding(&self, file: String, line: u32) -> Finding {
        let text = if self.message.is_empty() {
            "the test failed".to_owned()
        } else {
            self.message.clone()
        };
        Finding {
            file,
            line: line.max(1),
            kind: FindingKind::FailingTest,
            text: shorten(&text),
            code: Some(self.name.clone()),
            level: Some("error".to_owned()),
            fixable: false,
        }
    }
}

/// The failing tests of `cargo test` and of pytest in `output`, in the order reported.
pub fn parse_test_failures(output: &str) -> Vec<FailedTest> {
    let mut failed = parse_cargo_test(output);
    failed.extend(parse_pytest(output));
    failed
}

/// `cargo test` (libtest): every `test NAME ... FAILED`, with the location and message of the
/// panic in its `---- NAME stdout ----` section. The `Running [unittests ]PATH (...)` line
/// before a target's results names its source file, the fallback location.
fn parse_cargo_test(output: &str) -> Vec<FailedTest> {
    let lines: Vec<&str> = output.lines().collect();
    let mut failed: Vec<FailedTest> = Vec::new();
    let mut target_file: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            let rest = rest.strip_prefix("unittests ").unwrap_or(rest);
            target_file = rest
                .split(" (")
                .next()
                .filter(|path| path.ends_with(".rs"))
                .map(str::to_owned);
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        {
            let name = name.trim().to_owned();
            let (file, line, message) = cargo_panic(&lines[index..], &name)
                .map(|(file, line, message)| (Some(file), Some(line), message))
                .unwrap_or((target_file.clone(), None, String::new()));
            failed.push(FailedTest {
                name,
                file,
                line,
                message,
            });
        }
    }
    failed
}

/// The panic location and first message line in `NAME`'s `---- NAME stdout ----` section
/// (searched from the test's result line on, up to the next section).
fn cargo_panic(lines: &[&str], name: &str) -> Option<(String, u32, String)> {
    let header = format!("---- {name} stdout ----");
    let start = lines.iter().position(|l| l.trim() == header)?;
    let section = lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("---- ") && l.trim() != "failures:");
    let mut section = section.peekable();
    while let Some(line) = section.next() {
        let Some((_, after)) = line.split_once(" panicked at ") else {
            continue;
        };
        // Rust 1.73 and later: `panicked at FILE:LINE:COL:` then the message on the next
        // line; before: `panicked at 'MESSAGE', FILE:LINE:COL`.
        if let Some(location) = after.strip_suffix(':') {
            let (file, line) = file_and_line(location)?;
            let message = section
                .peek()
                .map(|m| m.trim().to_owned())
                .unwrap_or_default();
            return Some((file, line, message));
        }
        let (message, location) = after.rsplit_once("', ")?;
        let (file, line) = file_and_line(location)?;
        return Some((file, line, message.trim_start_matches('\'').to_owned()));
    }
    None
}

/// `FILE:LINE:COL` or `FILE:LINE` into the file and the line.
fn file_and_line(location: &str) -> Option<(String, u32)> {
    let mut parts = location.trim().rsplitn(3, ':');
    let last = parts.next()?;
    let middle = parts.next()?;
    match (parts.next(), middle.parse::<u32>(), last.parse::<u32>()) {
        (Some(file), Ok(line), Ok(_column)) => Some((file.to_owned(), line)),
        (None, _, Ok(line)) => Some((middle.to_owned(), line)),
        _ => None,
    }
}

/// pytest: every `FAILED NODEID - MESSAGE` and `ERROR NODEID - MESSAGE` of the short test
/// summary (pytest prints it by default: `-rfE`). The line is the last `FILE:LINE: ` of the
/// test's traceback section that is in the test's own file.
fn parse_pytest(output: &str) -> Vec<FailedTest> {
    let lines: Vec<&str> = output.lines().collect();
    let mut failed = Vec::new();
    for line in &lines {
        let Some(rest) = line
            .strip_prefix("FAILED ")
            .or_else(|| line.strip_prefix("ERROR "))
        else {
            continue;
        };
        let (node, message) = match rest.split_once(" - ") {
            Some((node, message)) => (node.trim(), message.trim()),
            None => (rest.trim(), ""),
        };
        let file = node.split("::").next().unwrap_or(node);
        if !file.ends_with(".py") {
            continue;
        }
        failed.push(FailedTest {
            name: node.to_owned(),
            file: Some(file.to_owned()),
            line: pytest_line(&lines, node, file),
            message: message.to_owned(),
        });
    }
    failed
}

/// The line of `file` where the traceback of `node` ends, from its section headed
/// `____ Class.test ____`.
fn pytest_line(lines: &[&str], node: &str, file: &str) -> Option<u32> {
    let title = node.split("::").skip(1).collect::<Vec<_>>().join(".");
    if title.is_empty() {
        return None;
    }
    let is_header = |line: &str, title: &str| {
        line.starts_with('_')
            && line.trim_matches('_').trim() == title
            && line.trim_start_matches('_').starts_with(' ')
    };
    let start = lines.iter().position(|l| is_header(l, &title))?;
    let prefix = format!("{file}:");
    lines[start + 1..]
        .iter()
        .take_while(|l| !(l.starts_with("___") || l.starts_with("====")))
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once(": ").or_else(|| rest.split_once(':')))
        .filter_map(|(number, _)| number.parse::<u32>().ok())
        .last()
}

/// The line of `fn NAME` (the last `::` segment of a test's name) in a Rust file's text, for a
/// failing test whose output gave no line.
pub fn rust_fn_line(text: &str, test_name: &str) -> Option<u32> {
    let function = test_name.rsplit("::").next()?;
    let needle = format!("fn {function}(");
    text.lines()
        .position(|line| line.contains(&needle))
        .and_then(|index| u32::try_from(index + 1).ok())
}
