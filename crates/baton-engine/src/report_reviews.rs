//! The reviews of a run, in its report: each reviewer's verdict on each attempt's change and
//! on the whole run's change.

use baton_protocol::{ReviewIssue, ReviewKind};
use baton_store::ReviewRow;
use serde::Serialize;

/// One review in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewLine {
    /// The task whose attempt was reviewed; `None` for the whole run's change.
    pub task: Option<String>,
    pub attempt: Option<u32>,
    pub kind: ReviewKind,
    pub provider: String,
    pub model: String,
    pub approved: bool,
    pub summary: String,
    pub issues: Vec<ReviewIssue>,
}

impl From<ReviewRow> for ReviewLine {
    fn from(row: ReviewRow) -> ReviewLine {
        ReviewLine {
            task: row.task_id.map(|t| t.to_string()),
            attempt: row.attempt,
            kind: row.kind,
            provider: row.provider,
            model: row.model,
            approved: row.report.approved,
            summary: row.report.summary,
            issues: row.report.issues,
        }
    }
}

/// The "Reviews" section of the Markdown report; empty when nothing was reviewed.
pub fn reviews_markdown(reviews: &[ReviewLine]) -> String {
    if reviews.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Reviews\n\n| change | review | verdict | issues | summary |\n| --- | --- | --- | --- | --- |\n",
    );
    for review in reviews {
        let change = match (&review.task, review.attempt) {
            (Some(task), Some(attempt)) => format!("{task} #{attempt}"),
            _ => "the whole run".to_string(),
        };
        let verdict = if review.approved {
            "approved"
        } else {
            "rejected"
        };
        out.push_str(&format!(
            "| {change} | {} | {verdict} | {} | {} |\n",
            review.kind.as_str(),
            review.issues.len(),
            review.summary.replace('|', "\\|").replace('\n', " ")
        ));
    }
    out
}
