//! The escalation ladder in a run's report: which tasks moved to a fallback agent or a council
//! (and why), and each council's record: its members, each one's agent, cost, gate result, diff
//! size and review score, the winner and why.

use baton_protocol::{CouncilCandidate, Event, EventBody};
use baton_store::CandidateRow;
use serde::Serialize;

/// One move up the ladder.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationLine {
    pub task: String,
    /// `fallback` or `council`.
    pub rung: String,
    /// The fallback agent, or the council's members.
    pub agents: Vec<String>,
    pub who: String,
    pub why: String,
    pub time: String,
}

impl EscalationLine {
    /// The line of a `task.escalated` event; `None` for any other event.
    pub fn from_event(event: &Event) -> Option<EscalationLine> {
        let EventBody::TaskEscalated {
            rung,
            agents,
            who,
            why,
        } = &event.body
        else {
            return None;
        };
        Some(EscalationLine {
            task: event
                .task
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            rung: rung.clone(),
            agents: agents.clone(),
            who: who.clone(),
            why: why.clone(),
            time: event.time.clone(),
        })
    }
}

/// One council of a task.
#[derive(Debug, Clone, Serialize)]
pub struct CouncilReport {
    pub task: String,
    /// The attempt number of its first candidate.
    pub first_attempt: u32,
    pub candidates: Vec<CouncilCandidate>,
    /// The winner's member number and agent, if a candidate won.
    pub winner: Option<u32>,
    pub winner_agent: Option<String>,
    /// The judge's words (`None` while it runs).
    pub verdict: Option<String>,
}

impl crate::Engine {
    /// The escalation ladder of `run`: its tasks' moves up it, and its councils' records.
    pub async fn escalations(
        &self,
        run: &baton_protocol::RunId,
    ) -> Result<(Vec<EscalationLine>, Vec<CouncilReport>), crate::EngineError> {
        let moves = self
            .store
            .escalations(run)
            .await?
            .iter()
            .filter_map(EscalationLine::from_event)
            .collect();
        let held = councils(&self.store.council_candidates(run, None).await?);
        Ok((moves, held))
    }
}

/// The councils of a run from its candidate rows (sorted by task and attempt).
pub fn councils(rows: &[CandidateRow]) -> Vec<CouncilReport> {
    let mut out: Vec<CouncilReport> = Vec::new();
    for row in rows {
        let same = out
            .last()
            .is_some_and(|c| c.task == row.task_id.as_str() && c.first_attempt == row.council);
        if !same {
            out.push(CouncilReport {
                task: row.task_id.to_string(),
                first_attempt: row.council,
                candidates: Vec::new(),
                winner: None,
                winner_agent: None,
                verdict: row.verdict.clone(),
            });
        }
        if let Some(council) = out.last_mut() {
            if row.winner {
                council.winner = Some(row.member);
                council.winner_agent = Some(row.agent.clone());
            }
            council.candidates.push(row.view());
        }
    }
    out
}

/// The "Escalations" and "Councils" sections of the Markdown report; empty when no task
/// climbed the ladder.
pub fn escalation_markdown(escalations: &[EscalationLine], councils: &[CouncilReport]) -> String {
    let mut out = String::new();
    if !escalations.is_empty() {
        out.push_str("## Escalations\n\n");
        for line in escalations {
            out.push_str(&format!(
                "- {}: {} to {} ({}): {}\n",
                line.task,
                line.rung,
                line.agents.join(", "),
                line.who,
                line.why.replace('\n', " ")
            ));
        }
    }
    for council in councils {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "## Council of task {} (attempts from {})\n\n",
            council.task, council.first_attempt
        ));
        out.push_str(
            "| member | agent | attempt | lane | gates | cost | diff lines | reviews approved | \
             high issues | winner |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for c in &council.candidates {
            let dash = || "-".to_string();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                c.member,
                c.agent,
                c.attempt,
                c.lane,
                if c.passed { "passed" } else { "failed" },
                c.cost_micros
                    .map_or_else(dash, |m| baton_core::Usd(m).to_string()),
                c.diff_lines.map_or_else(dash, |n| n.to_string()),
                c.reviews_approved.map_or_else(dash, |n| n.to_string()),
                c.high_issues,
                if c.winner { "yes" } else { "" }
            ));
        }
        out.push_str(&format!(
            "\nVerdict: {}\n",
            council.verdict.as_deref().unwrap_or("still running")
        ));
        for c in council.candidates.iter().filter(|c| c.failure.is_some()) {
            out.push_str(&format!(
                "- {} (member {}): {}\n",
                c.agent,
                c.member,
                c.failure.as_deref().unwrap_or_default()
            ));
        }
    }
    out
}
