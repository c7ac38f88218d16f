//! The rungs of the escalation ladder above a task's retries: when an AI task is out of
//! attempts on its agent, the first of that agent's `[agents.NAME] fallback` agents that is
//! installed, healthy and not limited gets a round of attempts (the task's `retries` + 1); when
//! none is left, a council (`[escalation] council = N`, see `council.rs`) runs the task on N
//! agents at once; after that, a person (`[escalation] person`) or `failed`.

use crate::EngineError;
use crate::context::RunCtx;
use crate::routing::{AUTO_ORDER, installed, program_of};
use baton_agents::AgentAdapter;
use baton_protocol::TaskId;
use baton_store::Escalation;

impl RunCtx {
    /// Whether agent `name` may take work now: installed, healthy and not limited.
    pub(crate) fn agent_usable(&self, name: &str) -> bool {
        let Some(adapter) = baton_agents::adapter(name).filter(|a| a.name() != "exec") else {
            return false;
        };
        let avoid = self.avoid();
        installed(program_of(adapter, &self.agents))
            && !avoid.limited.iter().any(|n| n == name)
            && !avoid.unhealthy.iter().any(|n| n == name)
    }

    /// Where `task` goes after its attempt `number` failed with no retry left: the next rung
    /// and why, or `None` when only the last rung (a person, or `failed`) is left.
    pub(crate) async fn next_rung(
        &self,
        task: &TaskId,
        number: u32,
    ) -> Result<Option<(Escalation, String)>, EngineError> {
        let Some(spec) = self.plan.task(task) else {
            return Ok(None);
        };
        if !spec.agent.is_ai() {
            return Ok(None);
        }
        let attempts = self.store.attempts(self.id(), Some(task)).await?;
        let failed_on = attempts
            .iter()
            .find(|a| a.number == number)
            .and_then(|a| a.agent.clone());
        // The ladder of a named agent: itself, then its fallbacks in order. The next rung is
        // the first usable agent after the one that just ran out of attempts.
        if let (Some(failed_on), Some(own)) =
            (&failed_on, baton_agents::adapter(spec.agent.as_str()))
        {
            let mut ladder = vec![own.name().to_owned()];
            if let Some(config) = self.agents.get(own.name()) {
                ladder.extend(config.fallback.iter().cloned());
            }
            if let Some(at) = ladder.iter().position(|a| a == failed_on) {
                let next = ladder[at + 1..]
                    .iter()
                    .find(|agent| self.agent_usable(agent));
                if let Some(next) = next {
                    let round = spec.retries + 1;
                    let why = format!(
                        "{failed_on} is out of attempts; its fallback {next} gets {round} \
                         attempt{} in a new conversation, with the failures so far as feedback",
                        if round == 1 { "" } else { "s" }
                    );
                    return Ok(Some((
                        Escalation::Fallback {
                            agent: next.clone(),
                            attempts: round,
                        },
                        why,
                    )));
                }
            }
        }
        // A task meets one council: one a person retried after is not held again.
        if self.council.size >= 2
            && self
                .store
                .council_candidates(self.id(), Some(task))
                .await?
                .is_empty()
        {
            let members = self.council_members(spec);
            if members.len() >= 2 {
                let names: Vec<String> = members.iter().map(|a| a.name().to_owned()).collect();
                let why = format!(
                    "out of attempts and fallbacks; a council of {} runs it at once: {}",
                    names.len(),
                    names.join(", ")
                );
                return Ok(Some((Escalation::Council { members: names }, why)));
            }
        }
        Ok(None)
    }

    /// Whether a council on `spec` must wait: one of its members runs as many attempts as its
    /// `max_concurrency` allows.
    pub(crate) fn council_waits(&self, spec: &baton_core::TaskSpec) -> bool {
        let busy = self.avoid().busy;
        self.council_members(spec)
            .iter()
            .any(|member| busy.iter().any(|name| name == member.name()))
    }

    /// The agents of a council on `spec`: those `[escalation] council_agents` lists, or every AI
    /// agent, keeping the installed, healthy, unlimited ones, best track record on the task's
    /// kind first (then baton's `auto` order), at most `[escalation] council` of them.
    pub(crate) fn council_members(
        &self,
        spec: &baton_core::TaskSpec,
    ) -> Vec<&'static dyn AgentAdapter> {
        let size = usize::try_from(self.council.size).unwrap_or(usize::MAX);
        let usable = |adapter: &&'static dyn AgentAdapter| self.agent_usable(adapter.name());
        if !self.council.agents.is_empty() {
            return self
                .council
                .agents
                .iter()
                .filter_map(|name| baton_agents::adapter(name))
                .filter(usable)
                .take(size)
                .collect();
        }
        let mut members: Vec<&'static dyn AgentAdapter> = baton_agents::ADAPTERS
            .iter()
            .copied()
            .filter(|adapter| adapter.name() != "exec")
            .filter(usable)
            .collect();
        let kind = crate::stats::task_kind(spec);
        rank_by_record(&mut members, &self.track_records, &kind);
        members.truncate(size);
        members
    }
}

/// Orders `agents` best track record on `kind` first (an agent with no record counts as even,
/// as `auto` routing does), then in baton's `auto` order.
fn rank_by_record(
    agents: &mut [&'static dyn AgentAdapter],
    records: &crate::stats::TrackRecords,
    kind: &str,
) {
    let rate = |name: &str| {
        records
            .get(&(name.to_owned(), kind.to_owned()))
            .filter(|(attempts, _)| *attempts > 0)
            .map_or(0.5, |(attempts, succeeded)| {
                f64::from(*succeeded) / f64::from(*attempts)
            })
    };
    let order = |name: &str| {
        AUTO_ORDER
            .iter()
            .position(|n| *n == name)
            .unwrap_or(AUTO_ORDER.len())
    };
    agents.sort_by(|a, b| {
        rate(b.name())
            .total_cmp(&rate(a.name()))
            .then_with(|| order(a.name()).cmp(&order(b.name())))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(agents: &[&'static dyn AgentAdapter]) -> Vec<&'static str> {
        agents.iter().map(|a| a.name()).collect()
    }

    #[test]
    fn council_members_are_ranked_by_track_record_then_auto_order() {
        let adapter = |name| baton_agents::adapter(name).unwrap();
        let mut agents = vec![adapter("gemini"), adapter("codex"), adapter("claude")];
        let mut records = crate::stats::TrackRecords::new();
        rank_by_record(&mut agents, &records, "general");
        assert_eq!(names(&agents), ["claude", "codex", "gemini"]);
        // Gemini succeeds on this kind, Claude fails; Codex has no record (even).
        records.insert(("gemini".into(), "rust".into()), (4, 4));
        records.insert(("claude".into(), "rust".into()), (4, 1));
        rank_by_record(&mut agents, &records, "rust");
        assert_eq!(names(&agents), ["gemini", "codex", "claude"]);
        // Records of another kind say nothing here.
        rank_by_record(&mut agents, &records, "general");
        assert_eq!(names(&agents), ["claude", "codex", "gemini"]);
    }
}
