//! What is wrong with a plan, where, and how to fix it.
use std::fmt;

/// One problem in a plan file, at a 1-based line and column of `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name used in messages, e.g. `plan.yaml`.
    pub origin: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.origin, self.line, self.column, self.message
        )
    }
}

/// Every problem found in a plan file, in source order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanErrors {
    diagnostics: Vec<Diagnostic>,
}

impl PlanErrors {
    /// Wraps diagnostics, sorted by position (stable for equal positions).
    pub(crate) fn new(mut diagnostics: Vec<Diagnostic>) -> PlanErrors {
        diagnostics.sort_by_key(|d| (d.line, d.column));
        PlanErrors { diagnostics }
    }

    /// The diagnostics, in source order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// A 1-based place in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    /// The start of the file, for problems of the whole plan.
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// Collects diagnostics for one file.
pub(crate) struct Report {
    origin: String,
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn new(origin: &str) -> Report {
        Report {
            origin: origin.to_owned(),
            diagnostics: Vec::new(),
        }
    }

    /// Records `message` at `pos`.
    pub fn at(&mut self, pos: Pos, message: impl fmt::Display) {
        self.diagnostics.push(Diagnostic {
            origin: self.origin.clone(),
            line: pos.line,
            column: pos.column,
            message: message.to_string(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    pub fn into_errors(self) -> PlanErrors {
        PlanErrors::new(self.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_one_diagnostic_per_line_in_source_order() {
        let mut report = Report::new("plan.yaml");
        report.at(
            Pos {
                line: 14,
                column: 5,
            },
            "second",
        );
        report.at(Pos { line: 2, column: 1 }, "first");
        assert_eq!(
            report.into_errors().to_string(),
            "plan.yaml:2:1: first\nplan.yaml:14:5: second"
        );
    }
}
