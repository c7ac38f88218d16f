//! The judge of a council (`[escalation] council = N`): several agents ran the same task at
//! once, each in its own lane; which candidate's change goes on to the merge queue, and why.
//!
//! The judge is objective first: only a candidate whose change passed the task's gates (and the
//! claims and territory checks every attempt gets) may win. Among those, the reviewers' score
//! when `[review]` is configured (more review kinds approved, then fewer high-severity issues),
//! then the smaller diff (lines added plus removed), then the earlier member.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// What the judge knows about one candidate of a council.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateSummary {
    /// The candidate's place in the council, from 1.
    pub member: u32,
    /// The agent that ran it.
    pub agent: String,
    /// Whether its change passed the task's gates, claims and territory checks.
    pub passed: bool,
    /// Review kinds that approved its change (`None`: not reviewed).
    pub reviews_approved: Option<u32>,
    /// High-severity issues the reviewers found in its change.
    pub high_issues: u32,
    /// Lines added plus removed by its change (`None`: it left no change to measure).
    pub diff_lines: Option<u64>,
}

/// The judge's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilVerdict {
    /// The winning member, if any candidate passed.
    pub winner: Option<u32>,
    /// Why, in a sentence a person can read in the report.
    pub why: String,
}

/// Picks the winner among `candidates` (see the module's rules).
pub fn judge(candidates: &[CandidateSummary]) -> CouncilVerdict {
    let mut passing: Vec<&CandidateSummary> = candidates.iter().filter(|c| c.passed).collect();
    if passing.is_empty() {
        return CouncilVerdict {
            winner: None,
            why: format!(
                "none of the {} candidates passed the task's gates",
                candidates.len()
            ),
        };
    }
    passing.sort_by_key(|c| {
        (
            Reverse(c.reviews_approved.unwrap_or(0)),
            c.high_issues,
            c.diff_lines.unwrap_or(u64::MAX),
            c.member,
        )
    });
    let best = passing[0];
    let why = if passing.len() == 1 {
        format!(
            "{} (member {}) was the only candidate to pass the task's gates",
            best.agent, best.member
        )
    } else {
        let runner = passing[1];
        let reason = if best.reviews_approved.unwrap_or(0) != runner.reviews_approved.unwrap_or(0) {
            format!(
                "more review kinds approved ({} against {})",
                best.reviews_approved.unwrap_or(0),
                runner.reviews_approved.unwrap_or(0)
            )
        } else if best.high_issues != runner.high_issues {
            format!(
                "fewer high-severity review issues ({} against {})",
                best.high_issues, runner.high_issues
            )
        } else if best.diff_lines != runner.diff_lines {
            format!(
                "the smaller diff ({} lines against {})",
                lines(best.diff_lines),
                lines(runner.diff_lines)
            )
        } else {
            "an equal score, and it was the earlier member".to_string()
        };
        format!(
            "{} of {} candidates passed the task's gates; {} (member {}) won on {reason}",
            passing.len(),
            candidates.len(),
            best.agent,
            best.member
        )
    };
    CouncilVerdict {
        winner: Some(best.member),
        why,
    }
}

fn lines(diff: Option<u64>) -> String {
    diff.map_or_else(|| "unknown".into(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(member: u32, agent: &str, passed: bool, diff: u64) -> CandidateSummary {
        CandidateSummary {
            member,
            agent: agent.into(),
            passed,
            reviews_approved: None,
            high_issues: 0,
            diff_lines: Some(diff),
        }
    }

    #[test]
    fn no_passing_candidate_means_no_winner() {
        let verdict = judge(&[
            candidate(1, "claude", false, 1),
            candidate(2, "codex", false, 1),
        ]);
        assert_eq!(verdict.winner, None);
        assert!(verdict.why.contains("none of the 2"), "{}", verdict.why);
    }

    #[test]
    fn the_only_passing_candidate_wins_whatever_its_diff() {
        let verdict = judge(&[
            candidate(1, "claude", false, 1),
            candidate(2, "codex", true, 500),
            candidate(3, "gemini", false, 2),
        ]);
        assert_eq!(verdict.winner, Some(2));
        assert!(verdict.why.contains("codex (member 2) was the only"));
    }

    #[test]
    fn reviews_beat_diff_size_and_high_issues_break_review_ties() {
        let mut a = candidate(1, "claude", true, 10);
        let mut b = candidate(2, "codex", true, 500);
        a.reviews_approved = Some(1);
        b.reviews_approved = Some(2);
        assert_eq!(judge(&[a.clone(), b.clone()]).winner, Some(2));
        a.reviews_approved = Some(2);
        b.high_issues = 1;
        let verdict = judge(&[a, b]);
        assert_eq!(verdict.winner, Some(1));
        assert!(
            verdict.why.contains("fewer high-severity"),
            "{}",
            verdict.why
        );
    }

    #[test]
    fn the_smaller_diff_wins_then_the_earlier_member() {
        let verdict = judge(&[
            candidate(1, "claude", true, 40),
            candidate(2, "codex", true, 12),
        ]);
        assert_eq!(verdict.winner, Some(2));
        assert!(verdict.why.contains("smaller diff (12 lines against 40)"));
        let tie = judge(&[
            candidate(1, "claude", true, 12),
            candidate(2, "codex", true, 12),
        ]);
        assert_eq!(tie.winner, Some(1));
        assert!(tie.why.contains("earlier member"));
    }
}
