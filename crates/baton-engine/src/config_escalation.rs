//! The `[escalation]` table of `baton.toml`: what happens to a task out of attempts on its
//! agent. The ladder is retries, then the agent's `[agents.NAME] fallback` agents, then a
//! council of several agents at once (`council = N`), then a person (`person = true`) or
//! `failed`. See docs/escalation.md.

use serde::Deserialize;

/// The `[escalation]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EscalationFile {
    pub person: Option<bool>,
    /// Read as any value so that a wrong type is refused naming the key.
    pub council: Option<toml::Value>,
    pub council_agents: Option<Vec<String>>,
}

/// `[escalation] council` and `council_agents`, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CouncilConfig {
    /// How many agents run the task at once after its retries and fallbacks (0: no council).
    pub size: u32,
    /// The agents that sit on it, in order; empty: the `size` healthiest installed AI agents,
    /// best track record first.
    pub agents: Vec<String>,
}

impl EscalationFile {
    /// The council settings, or the problem in words naming the key (the caller adds the file).
    /// `None` when the file sets neither key.
    pub(crate) fn council(&self) -> Result<Option<CouncilConfig>, String> {
        let size = match &self.council {
            None => None,
            Some(toml::Value::Integer(n)) if (0..=16).contains(n) => u32::try_from(*n).ok(),
            Some(other) => {
                return Err(format!(
                    "escalation.council = {other}: write how many agents run the task at once \
                     after its retries and fallbacks, a whole number from 2 to 16 (0 turns the \
                     council off)"
                ));
            }
        };
        if size == Some(1) {
            return Err(
                "escalation.council = 1: a council needs at least 2 agents (0 turns it \
                        off)"
                    .into(),
            );
        }
        let agents = self.council_agents.clone();
        if let Some(agents) = &agents {
            let ai = |name: &str| {
                baton_agents::adapter(name).is_some_and(|adapter| adapter.name() != "exec")
            };
            for (at, name) in agents.iter().enumerate() {
                if !ai(name) {
                    let names = baton_agents::ADAPTERS
                        .iter()
                        .map(|adapter| adapter.name())
                        .filter(|name| *name != "exec")
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(format!(
                        "escalation.council_agents names {name:?}, which is not an AI agent \
                         baton can run (the agents are: {names})"
                    ));
                }
                if agents[..at].contains(name) {
                    return Err(format!(
                        "escalation.council_agents names {name:?} twice; each member is a \
                         different agent"
                    ));
                }
            }
            let wanted = size.unwrap_or(0);
            if usize::try_from(wanted).unwrap_or(usize::MAX) > agents.len() {
                return Err(format!(
                    "escalation.council = {wanted} but escalation.council_agents lists only {} \
                     agents; list at least {wanted} or make the council smaller",
                    agents.len()
                ));
            }
        }
        if size.is_none() && agents.is_none() {
            return Ok(None);
        }
        Ok(Some(CouncilConfig {
            size: size.unwrap_or(0),
            agents: agents.unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<CouncilConfig>, String> {
        let file: EscalationFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.council()
    }

    #[test]
    fn a_council_of_named_agents_is_read() {
        let council = parse("council = 2\ncouncil_agents = [\"claude\", \"codex\"]")
            .unwrap()
            .unwrap();
        assert_eq!(council.size, 2);
        assert_eq!(council.agents, ["claude", "codex"]);
        assert_eq!(parse("person = true").unwrap(), None);
    }

    #[test]
    fn bad_councils_are_refused_naming_the_key() {
        for (text, says) in [
            ("council = -1", "escalation.council = -1"),
            ("council = \"three\"", "escalation.council = \"three\""),
            ("council = 1", "at least 2"),
            (
                "council = 2\ncouncil_agents = [\"nope\", \"codex\"]",
                "\"nope\"",
            ),
            (
                "council = 3\ncouncil_agents = [\"claude\", \"codex\"]",
                "lists only 2",
            ),
            (
                "council = 2\ncouncil_agents = [\"codex\", \"codex\"]",
                "twice",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
