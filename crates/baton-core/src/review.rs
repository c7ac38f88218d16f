//! Reviews of a change by a model: what it is asked, how its answer is read, and what the
//! implementer is told when it rejects. Pure; the engine makes the calls.

use baton_protocol::{ReviewKind, ReviewReport};

/// The JSON a reviewer must answer with, as the prompt states it.
pub const REPORT_SCHEMA: &str = r#"{"approved": true or false, "summary": "one or two sentences", "issues": [{"severity": "low" | "medium" | "high" | "critical", "file": "path/in/repo" or null, "line": 12 or null, "message": "what is wrong", "suggestion": "what to do" or null}]}"#;

/// The system text and the user message of a review of `diff` for the task titled `title`
/// whose instructions were `instructions`. `criteria` (a workflow template's reviewer prompt,
/// possibly empty) is added to what the reviewer judges; it is all a custom review judges.
pub fn review_request(
    kind: ReviewKind,
    criteria: &str,
    goal: &str,
    title: &str,
    instructions: &str,
    diff: &str,
) -> (String, String) {
    let focus = match kind {
        ReviewKind::Functional => {
            "Judge whether the change does what the task asks, correctly and completely: logic \
             errors, missed cases, broken behaviour, missing or wrong tests."
        }
        ReviewKind::Style => {
            "Judge readability and consistency with the surrounding code: naming, structure, \
             duplication, comments, dead code. Do not reject for taste alone."
        }
        ReviewKind::Security => {
            "Judge whether the change opens a security hole: injection, unsafe input handling, \
             secrets in code, weakened authentication or authorisation, unsafe defaults."
        }
        ReviewKind::Custom => "Judge the change by the criteria below.",
    };
    let criteria = criteria.trim();
    let criteria = if criteria.is_empty() {
        String::new()
    } else {
        format!(" Criteria: {criteria}")
    };
    let system = format!(
        "You are a {} code reviewer. {focus}{criteria} Approve unless an issue of medium severity or \
         worse must be fixed first. Answer with one JSON object and nothing else, in this \
         shape: {REPORT_SCHEMA}",
        kind.as_str()
    );
    let user = format!(
        "Goal of the whole change: {goal}\n\nThe task: {title}\n\n{}\n\nThe diff to review:\n\
         ```diff\n{diff}```\n",
        instructions.trim()
    );
    (system, user)
}

/// Reads a reviewer's answer: one JSON object (a ```json fence or text around it is
/// tolerated) in the shape of [`REPORT_SCHEMA`]. The error says what is wrong with it.
pub fn parse_report(answer: &str) -> Result<ReviewReport, String> {
    let start = answer.find('{');
    let end = answer.rfind('}');
    let (Some(start), Some(end)) = (start, end) else {
        return Err("the reviewer's answer has no JSON object".into());
    };
    if end < start {
        return Err("the reviewer's answer has no JSON object".into());
    }
    let report: ReviewReport = serde_json::from_str(&answer[start..=end])
        .map_err(|error| format!("the reviewer's report is not in the asked shape: {error}"))?;
    if report.summary.trim().is_empty() {
        return Err("the reviewer's report has an empty summary".into());
    }
    Ok(report)
}

/// What the implementer's next attempt is told about the reviews that rejected its change.
pub fn rejection_feedback(reports: &[(ReviewKind, ReviewReport)]) -> String {
    let mut out = String::from("The change passed its gates but reviewers rejected it:\n");
    for (kind, report) in reports.iter().filter(|(_, r)| !r.approved) {
        out.push_str(&format!(
            "\n{} review: {}\n",
            kind.as_str(),
            report.summary.trim()
        ));
        out.push_str(&issue_lines(report));
    }
    out
}

/// A report's issues, one line each (`- [severity] file:line: message`), with the suggestion
/// under it.
pub fn issue_lines(report: &ReviewReport) -> String {
    let mut out = String::new();
    for issue in &report.issues {
        let place = match (&issue.file, issue.line) {
            (Some(file), Some(line)) => format!(" {file}:{line}"),
            (Some(file), None) => format!(" {file}"),
            _ => String::new(),
        };
        let severity = serde_json::to_value(issue.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "- [{severity}]{place}: {}\n",
            issue.message.trim()
        ));
        if let Some(suggestion) = &issue.suggestion {
            out.push_str(&format!("  suggestion: {}\n", suggestion.trim()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::Severity;

    #[test]
    fn a_fenced_report_is_read_and_a_bad_one_says_why() {
        let answer = "Here it is:\n```json\n{\"approved\": false, \"summary\": \"Off by one.\", \"issues\": [{\"severity\": \"high\", \"file\": \"src/a.rs\", \"line\": 3, \"message\": \"loop ends early\", \"suggestion\": \"use ..=\"}]}\n```";
        let report = parse_report(answer).unwrap();
        assert!(!report.approved);
        assert_eq!(report.issues[0].severity, Severity::High);
        assert_eq!(report.issues[0].line, Some(3));
        assert!(
            parse_report("looks good to me")
                .unwrap_err()
                .contains("no JSON object")
        );
        assert!(
            parse_report("{\"approved\": \"yes\", \"summary\": \"x\"}")
                .unwrap_err()
                .contains("not in the asked shape")
        );
        assert!(parse_report("{\"approved\": true, \"summary\": \" \"}").is_err());
    }

    #[test]
    fn the_feedback_names_each_rejecting_review_and_its_issues_with_their_place() {
        let rejected = parse_report(
            r#"{"approved": false, "summary": "Wrong greeting.", "issues": [{"severity": "medium", "file": "greeting.txt", "line": 1, "message": "says wrong", "suggestion": "say hello"}]}"#,
        )
        .unwrap();
        let approved = parse_report(r#"{"approved": true, "summary": "Fine."}"#).unwrap();
        let text = rejection_feedback(&[
            (ReviewKind::Functional, rejected),
            (ReviewKind::Style, approved),
        ]);
        assert!(
            text.contains("functional review: Wrong greeting."),
            "{text}"
        );
        assert!(
            text.contains("- [medium] greeting.txt:1: says wrong\n  suggestion: say hello"),
            "{text}"
        );
        assert!(!text.contains("style review"), "{text}");
    }

    #[test]
    fn the_request_carries_the_schema_the_task_and_the_diff() {
        let (system, user) = review_request(
            ReviewKind::Security,
            "",
            "g",
            "Login",
            "Add login.",
            "+secret = 1\n",
        );
        assert!(system.contains("security code reviewer"), "{system}");
        assert!(system.contains(REPORT_SCHEMA), "{system}");
        assert!(user.contains("The task: Login\n\nAdd login."), "{user}");
        assert!(user.contains("```diff\n+secret = 1\n```"), "{user}");
    }

    #[test]
    fn a_custom_review_judges_by_the_criteria_it_is_given() {
        let (system, _) = review_request(
            ReviewKind::Custom,
            "Every public function has a doc comment.",
            "g",
            "t",
            "i",
            "+x\n",
        );
        assert!(system.contains("custom code reviewer"), "{system}");
        assert!(
            system.contains("Criteria: Every public function has a doc comment."),
            "{system}"
        );
    }
}
