//! What a reviewer says about a change: the report baton asks a model for, validates, keeps
//! (store, events, the run's report) and hands back to the implementer when it rejects.

use serde::{Deserialize, Serialize};

/// What a review looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// Does the change do what the task asks, correctly?
    Functional,
    /// Is it readable and in the codebase's style?
    Style,
    /// Does it open a hole (injection, secrets, unsafe input handling)?
    Security,
    /// Does it meet criteria a workflow template states (its `reviewer_custom` phase)?
    Custom,
}

impl ReviewKind {
    /// Every kind, in the order they are listed.
    pub const ALL: [ReviewKind; 4] = [
        ReviewKind::Functional,
        ReviewKind::Style,
        ReviewKind::Security,
        ReviewKind::Custom,
    ];

    /// The name used in configuration, events and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Functional => "functional",
            ReviewKind::Style => "style",
            ReviewKind::Security => "security",
            ReviewKind::Custom => "custom",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(text: &str) -> Option<ReviewKind> {
        ReviewKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How bad an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// One issue a reviewer found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewIssue {
    pub severity: Severity,
    /// The file, relative to the repository, when the issue is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// A reviewer's report on one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReport {
    pub approved: bool,
    /// The verdict in a sentence or two.
    pub summary: String,
    #[serde(default)]
    pub issues: Vec<ReviewIssue>,
}
