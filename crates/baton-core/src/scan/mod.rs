//! Finding work in a repository without a model: markers in files' text (`TODO`, calls of the
//! `todo!` macro, ...), linters' diagnostics, `cargo fmt --check`'s differences, the failing
//! tests of a test command's output, and the candidate tasks they group into. Everything here
//! is a function of text; reading files and running the tools is the caller's business.

mod group;
mod lints;
mod plan_yaml;
mod test_failures;

pub use group::{group_findings, sensitive_reason};
pub use lints::{
    LintParseError, parse_clippy, parse_eslint, parse_mypy, parse_ruff, parse_rustfmt_check,
};
pub use plan_yaml::plan_yaml;
pub use test_failures::{FailedTest, parse_test_failures, rust_fn_line};

use baton_protocol::scan::{Finding, FindingKind};

/// Files larger than this are not read for markers (generated or vendored, most likely).
pub const MAX_SCANNED_BYTES: u64 = 1024 * 1024;

/// How much of a line a finding keeps as its text.
const MAX_TEXT_CHARS: usize = 200;

/// Whole-word markers, case as written.
const WORD_MARKERS: [(&str, FindingKind); 4] = [
    ("TODO", FindingKind::Todo),
    ("FIXME", FindingKind::Fixme),
    ("XXX", FindingKind::Xxx),
    ("HACK", FindingKind::Hack),
];

/// A call of Rust's `todo!` macro. Spelled in two pieces, here and for the tests, so that
/// baton's own sources are not findings of a marker scan.
pub const TODO_CALL: &str = concat!("todo", "!(");
/// A call of Rust's `unimplemented!` macro (spelled in two pieces, like [`TODO_CALL`]).
pub const UNIMPLEMENTED_CALL: &str = concat!("unimplemented", "!(");

/// Markers found anywhere in a line (the code that says it is not written yet).
const CODE_MARKERS: [(&str, FindingKind); 4] = [
    (TODO_CALL, FindingKind::TodoMacro),
    (UNIMPLEMENTED_CALL, FindingKind::Unimplemented),
    (
        "raise NotImplementedError",
        FindingKind::NotImplementedError,
    ),
    (
        "throw new Error(\"not implemented\")",
        FindingKind::NotImplementedThrow,
    ),
];

/// Whether content looks binary, the way git decides: a NUL byte in its first 8000 bytes.
pub fn looks_binary(content: &[u8]) -> bool {
    content.iter().take(8000).any(|&b| b == 0)
}

/// The markers in one file's text: at most one finding per kind per line, in line order.
pub fn find_markers(file: &str, text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut kinds: Vec<FindingKind> = WORD_MARKERS
            .iter()
            .filter(|(word, _)| has_whole_word(line, word))
            .map(|(_, kind)| *kind)
            .collect();
        kinds.extend(
            CODE_MARKERS
                .iter()
                .filter(|(pattern, _)| line.contains(pattern))
                .map(|(_, kind)| *kind),
        );
        for kind in kinds {
            found.push(Finding {
                file: file.to_owned(),
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                kind,
                text: shorten(line.trim()),
                code: None,
                level: None,
                fixable: false,
            });
        }
    }
    found
}

/// Whether `word` occurs in `line` with no letter, digit or `_` right before or after it.
fn has_whole_word(line: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(word).any(|(start, _)| {
        let before = line[..start].chars().next_back();
        let after = line[start + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// `text` cut to [`MAX_TEXT_CHARS`] characters, with `…` when cut.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "tool_tests.rs"]
mod tool_tests;
