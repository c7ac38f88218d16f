//! `[agents.NAME]` in `baton.toml`: how baton runs a built-in agent here (its program, extra
//! arguments and environment, default model), and what routing knows about it (capabilities,
//! the complexity it is for, the agents to fall back to when it reaches a limit).

use serde::Deserialize;
use std::collections::BTreeMap;

/// One agent's settings, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The program to start instead of the agent's usual binary (a path or a name on PATH).
    pub command: Option<String>,
    /// Extra arguments, before the prompt.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables (they win over what baton sets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The model when a task names none.
    pub model: Option<String>,
    /// What the agent is good at; `agent: auto` gives it only tasks whose capabilities it has.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The task complexities (1 to 10, inclusive) `agent: auto` gives it: `[1, 4]`.
    pub complexity: Option<[u32; 2]>,
    /// Agents to use instead when this one reaches a rate or usage limit, in order.
    #[serde(default)]
    pub fallback: Vec<String>,
    /// The most attempts of this agent that run at once in a run (default: no limit beyond
    /// the run's lanes).
    pub max_concurrency: Option<u32>,
    /// What one task costs with this agent, in dollars, roughly: `agent: auto` tries the
    /// cheapest fitting agent first.
    pub cost_hint: Option<f64>,
}

impl AgentConfig {
    /// This configuration with `later`'s on top (the repository's over the user's): every
    /// value `later` sets wins, lists it gives replace this one's, environments merge.
    pub fn overlay(mut self, later: AgentConfig) -> AgentConfig {
        fn list(earlier: &mut Vec<String>, later: Vec<String>) {
            if !later.is_empty() {
                *earlier = later;
            }
        }
        self.command = later.command.or(self.command);
        list(&mut self.args, later.args);
        self.env.extend(later.env);
        self.model = later.model.or(self.model);
        list(&mut self.capabilities, later.capabilities);
        self.complexity = later.complexity.or(self.complexity);
        list(&mut self.fallback, later.fallback);
        self.max_concurrency = later.max_concurrency.or(self.max_concurrency);
        self.cost_hint = later.cost_hint.or(self.cost_hint);
        self
    }
}

/// Checks the `[agents]` tables: known agent names, complexity ranges, fallbacks. Returns the
/// problem in words (the caller adds the file).
pub(crate) fn check_agents(agents: &BTreeMap<String, AgentConfig>) -> Result<(), String> {
    let known =
        |name: &str| baton_agents::adapter(name).is_some_and(|adapter| adapter.name() != "exec");
    let names = || {
        baton_agents::ADAPTERS
            .iter()
            .map(|adapter| adapter.name())
            .filter(|name| *name != "exec")
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, agent) in agents {
        if !known(name) {
            return Err(format!(
                "[agents.{name}]: unknown agent {name:?}; the agents are: {}",
                names()
            ));
        }
        if let Some([low, high]) = agent.complexity
            && !(1 <= low && low <= high && high <= 10)
        {
            return Err(format!(
                "[agents.{name}] complexity = [{low}, {high}]: write [low, high] with 1 <= low <= \
                 high <= 10"
            ));
        }
        if agent.max_concurrency == Some(0) {
            return Err(format!(
                "[agents.{name}] max_concurrency = 0: write at least 1 (or leave it out for no \
                 limit)"
            ));
        }
        if let Some(hint) = agent.cost_hint
            && !(hint.is_finite() && hint >= 0.0)
        {
            return Err(format!(
                "[agents.{name}] cost_hint = {hint}: write the dollars one task costs, 0 or more"
            ));
        }
        for other in &agent.fallback {
            if !known(other) || other == name {
                return Err(format!(
                    "[agents.{name}] fallback names {other:?}, which is not another agent (the \
                     agents are: {})",
                    names()
                ));
            }
        }
    }
    Ok(())
}

/// Whether `agent` may take a task with these capabilities and complexity under `agent: auto`.
pub(crate) fn fits(
    agent: Option<&AgentConfig>,
    capabilities: &[String],
    complexity: Option<u32>,
) -> bool {
    let has = |wanted: &String| agent.is_some_and(|a| a.capabilities.contains(wanted));
    let in_range = match (agent.and_then(|a| a.complexity), complexity) {
        (Some([low, high]), Some(value)) => (low..=high).contains(&value),
        _ => true,
    };
    capabilities.iter().all(has) && in_range
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(capabilities: &[&str], complexity: Option<[u32; 2]>) -> AgentConfig {
        AgentConfig {
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            complexity,
            ..AgentConfig::default()
        }
    }

    #[test]
    fn an_agent_fits_a_task_when_it_has_every_capability_and_the_complexity_is_in_range() {
        let cheap = agent(&["rust"], Some([1, 4]));
        let caps = vec!["rust".to_string()];
        assert!(fits(Some(&cheap), &caps, Some(3)));
        assert!(!fits(Some(&cheap), &caps, Some(8)), "too complex for it");
        assert!(!fits(Some(&cheap), &["web".to_string()], None));
        assert!(fits(Some(&cheap), &[], None));
        assert!(
            fits(None, &[], Some(9)),
            "an unconfigured agent takes plain tasks"
        );
        assert!(
            !fits(None, &caps, None),
            "but not ones that need capabilities"
        );
    }

    #[test]
    fn unknown_agents_bad_ranges_and_self_fallbacks_are_refused() {
        let mut agents = BTreeMap::new();
        agents.insert("claude".to_string(), agent(&[], Some([1, 10])));
        assert!(check_agents(&agents).is_ok());
        agents.insert("claud".to_string(), AgentConfig::default());
        assert!(
            check_agents(&agents)
                .unwrap_err()
                .contains("unknown agent \"claud\"")
        );
        agents.remove("claud");
        agents.insert("codex".to_string(), agent(&[], Some([7, 3])));
        assert!(
            check_agents(&agents)
                .unwrap_err()
                .contains("1 <= low <= high <= 10")
        );
        agents.insert(
            "codex".to_string(),
            AgentConfig {
                fallback: vec!["codex".into()],
                ..AgentConfig::default()
            },
        );
        assert!(
            check_agents(&agents)
                .unwrap_err()
                .contains("not another agent")
        );
    }
}
