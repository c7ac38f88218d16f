//! The usage part of a run's report: tokens and dollars per task, agent and model, and the
//! run's total, from the ledger. A cost that is unknown stays visible as unknown: a total over
//! attempts of which some have no cost says so instead of pretending they were free.

use baton_core::{Tokens, Usd};
use baton_store::LedgerEntry;
use serde::Serialize;
use std::collections::BTreeMap;

/// Tokens and dollars of a group of attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageLine {
    /// Attempts counted.
    pub attempts: u32,
    pub tokens: Tokens,
    /// The sum of the known costs.
    pub cost: Usd,
    /// Attempts whose cost is unknown (not in `cost`).
    pub unknown_cost_attempts: u32,
}

impl UsageLine {
    fn absorb(&mut self, entry: &LedgerEntry) {
        self.attempts += 1;
        self.tokens = self.tokens.add(&entry.tokens);
        match entry.cost {
            Some(cost) => self.cost = self.cost.saturating_add(cost),
            None => self.unknown_cost_attempts += 1,
        }
    }

    /// `$0.0123`, `unknown`, or `$0.0123 + unknown (2 attempts)`.
    pub fn cost_text(&self) -> String {
        match (self.unknown_cost_attempts, self.attempts) {
            (0, _) => self.cost.to_string(),
            (unknown, all) if unknown == all => "unknown".to_string(),
            (1, _) => format!("{} + unknown (1 attempt)", self.cost),
            (unknown, _) => format!("{} + unknown ({unknown} attempts)", self.cost),
        }
    }
}

/// Usage of a run, grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    pub total: UsageLine,
    pub by_task: BTreeMap<String, UsageLine>,
    pub by_agent: BTreeMap<String, UsageLine>,
    /// By model (`unknown` when the attempt named none).
    pub by_model: BTreeMap<String, UsageLine>,
    /// By the UTC day the usage was recorded (`2026-11-29`).
    pub by_day: BTreeMap<String, UsageLine>,
}

impl UsageReport {
    /// Groups a run's ledger, each row with the time it was recorded.
    pub fn from_ledger(entries: &[(String, LedgerEntry)]) -> UsageReport {
        let mut report = UsageReport::default();
        for (recorded_at, entry) in entries {
            report
                .by_day
                .entry(recorded_at.get(..10).unwrap_or(recorded_at).to_owned())
                .or_default()
                .absorb(entry);
            report.total.absorb(entry);
            report
                .by_task
                .entry(entry.task_id.to_string())
                .or_default()
                .absorb(entry);
            report
                .by_agent
                .entry(entry.agent.clone())
                .or_default()
                .absorb(entry);
            report
                .by_model
                .entry(entry.model.clone().unwrap_or_else(|| "unknown".into()))
                .or_default()
                .absorb(entry);
        }
        report
    }

    /// The Markdown section, empty when no agent attempt used tokens (a plan of `exec` tasks).
    pub fn to_markdown(&self) -> String {
        if self.total.attempts == 0 {
            return String::new();
        }
        let mut out = String::from("## Usage\n\n");
        out.push_str(&format!(
            "- total: {} tokens ({} in, {} cached, {} out), {}\n",
            self.total.tokens.total(),
            self.total.tokens.input,
            self.total.tokens.cached_input,
            self.total.tokens.output,
            self.total.cost_text()
        ));
        for (title, groups) in [
            ("task", &self.by_task),
            ("agent", &self.by_agent),
            ("model", &self.by_model),
            ("day", &self.by_day),
        ] {
            out.push_str(&format!(
                "\n| {title} | attempts | input | cached | output | cost |\n| --- | --- | --- | --- | --- | --- |\n"
            ));
            for (name, line) in groups {
                out.push_str(&format!(
                    "| {name} | {} | {} | {} | {} | {} |\n",
                    line.attempts,
                    line.tokens.input,
                    line.tokens.cached_input,
                    line.tokens.output,
                    line.cost_text()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::CostBasis;
    use baton_protocol::{RunId, TaskId};

    fn entry(
        task: &str,
        agent: &str,
        model: Option<&str>,
        cost: Option<u64>,
    ) -> (String, LedgerEntry) {
        let day = if task == "docs" {
            "2026-11-30"
        } else {
            "2026-11-29"
        };
        (
            format!("{day}T10:00:00.000Z"),
            LedgerEntry {
                run_id: RunId::new("r"),
                task_id: TaskId::new(task),
                attempt: 1,
                agent: agent.into(),
                model: model.map(str::to_string),
                tokens: Tokens {
                    input: 100,
                    cached_input: 10,
                    cache_write: 0,
                    output: 50,
                    reasoning: 0,
                },
                cost: cost.map(Usd),
                basis: if cost.is_some() {
                    CostBasis::Priced
                } else {
                    CostBasis::Unknown
                },
                price_version: None,
            },
        )
    }

    #[test]
    fn totals_add_known_costs_and_say_how_many_are_unknown() {
        let report = UsageReport::from_ledger(&[
            entry("lexer", "claude", Some("claude-sonnet-4-5"), Some(1_500)),
            entry("parser", "codex", Some("gpt-5"), Some(2_500)),
            entry("docs", "cursor", None, None),
        ]);
        assert_eq!(report.total.attempts, 3);
        assert_eq!(report.total.tokens.input, 300);
        assert_eq!(report.total.cost, Usd(4_000));
        assert_eq!(report.total.cost_text(), "$0.0040 + unknown (1 attempt)");
        assert_eq!(report.by_agent["cursor"].cost_text(), "unknown");
        assert_eq!(report.by_model["unknown"].attempts, 1);
        assert_eq!(report.by_task["lexer"].cost_text(), "$0.0015");
        assert_eq!(report.by_day["2026-11-29"].cost, Usd(4_000));
        assert_eq!(report.by_day["2026-11-30"].cost_text(), "unknown");
    }

    #[test]
    fn a_run_without_agent_usage_has_no_usage_section() {
        assert_eq!(UsageReport::from_ledger(&[]).to_markdown(), "");
    }

    #[test]
    fn the_usage_section_is_pinned() {
        let report = UsageReport::from_ledger(&[
            entry("lexer", "claude", Some("claude-sonnet-4-5"), Some(1_500)),
            entry("docs", "cursor", None, None),
        ]);
        insta::assert_snapshot!(report.to_markdown());
    }
}
