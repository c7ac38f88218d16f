//! `[planner]` in `baton.toml`: which LLM provider and model turn a goal into a plan
//! (`baton plan new`, `baton run "GOAL"`), and the agent the plan's tasks run on.

use crate::EngineError;
use baton_core::text::line_column;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The most output tokens a planning call may have when `[planner] max_tokens` does not say.
pub const DEFAULT_PLANNER_MAX_TOKENS: u32 = 8192;

/// The `[planner]` settings, resolved (each `None` when no file says).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannerConfig {
    /// A provider of `baton providers` (`anthropic`, `openai`, `openai-chat`, `ollama`...).
    pub provider: Option<String>,
    /// The model, as the provider names it.
    pub model: Option<String>,
    /// The most output tokens of one planning call.
    pub max_tokens: Option<u32>,
    /// The agent the planned tasks run on (default `auto`: routing chooses).
    pub agent: Option<String>,
    /// An agent CLI that plans in its read-only mode instead of a provider (`claude`: Claude
    /// Code in plan mode).
    pub cli: Option<String>,
}

impl PlannerConfig {
    /// This configuration with `later`'s values on top.
    pub fn overlay(self, later: PlannerConfig) -> PlannerConfig {
        PlannerConfig {
            provider: later.provider.or(self.provider),
            model: later.model.or(self.model),
            max_tokens: later.max_tokens.or(self.max_tokens),
            agent: later.agent.or(self.agent),
            cli: later.cli.or(self.cli),
        }
    }

    /// The agent planned tasks run on.
    pub fn agent(&self) -> &str {
        self.agent.as_deref().unwrap_or("auto")
    }
}

/// The `[planner]` table as written (with where each value is, for errors).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlannerFile {
    provider: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    max_tokens: Option<Spanned<i64>>,
    agent: Option<Spanned<String>>,
    cli: Option<Spanned<String>>,
}

impl PlannerFile {
    /// The settings, checked; errors name `path`, the line and column in `text`, and the field.
    pub(crate) fn resolve(self, text: &str, path: &Path) -> Result<PlannerConfig, EngineError> {
        let fail = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_column(text, span.start);
            EngineError::Config(format!(
                "{}:{line}:{column}: {message} (see docs/config.md)",
                path.display()
            ))
        };
        let provider = match self.provider {
            None => None,
            Some(value) => {
                let name = value.get_ref().trim();
                if baton_agents::providers::find(name).is_none() {
                    let names: Vec<&str> = baton_agents::providers::PROVIDERS
                        .iter()
                        .map(|spec| spec.name)
                        .collect();
                    return Err(fail(
                        value.span(),
                        format!(
                            "planner.provider = {name:?} is not a provider baton knows; write \
                             one of {}",
                            names.join(", ")
                        ),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let model = match self.model {
            None => None,
            Some(value) if value.get_ref().trim().is_empty() => {
                return Err(fail(
                    value.span(),
                    "planner.model is empty; write the model's name as the provider knows it"
                        .to_owned(),
                ));
            }
            Some(value) => Some(value.get_ref().trim().to_owned()),
        };
        let max_tokens = match self.max_tokens {
            None => None,
            Some(value) => {
                let n = *value.get_ref();
                match u32::try_from(n) {
                    Ok(n) if (256..=200_000).contains(&n) => Some(n),
                    _ => {
                        return Err(fail(
                            value.span(),
                            format!(
                                "planner.max_tokens = {n}: write the most output tokens of one \
                                 planning call, from 256 to 200000"
                            ),
                        ));
                    }
                }
            }
        };
        let agent = match self.agent {
            None => None,
            Some(value) => {
                let name = value.get_ref().trim();
                let known = name == "auto"
                    || baton_agents::adapter(name).is_some_and(|a| a.name() != "exec");
                if !known {
                    let names: Vec<&str> = baton_agents::ADAPTERS
                        .iter()
                        .map(|adapter| adapter.name())
                        .filter(|name| *name != "exec")
                        .collect();
                    return Err(fail(
                        value.span(),
                        format!(
                            "planner.agent = {name:?}: write auto or one of {}",
                            names.join(", ")
                        ),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let cli = match self.cli {
            None => None,
            Some(value) => {
                let name = value.get_ref().trim();
                if !crate::planner_cli::PLANNER_CLIS.contains(&name) {
                    return Err(fail(
                        value.span(),
                        format!(
                            "planner.cli = {name:?}: the agent CLIs that can plan are {}",
                            crate::planner_cli::PLANNER_CLIS.join(", ")
                        ),
                    ));
                }
                if provider.is_some() {
                    return Err(fail(
                        value.span(),
                        "planner.cli and planner.provider are both set: the planner is a \
                         provider or an agent CLI, not both; remove one"
                            .to_owned(),
                    ));
                }
                Some(name.to_owned())
            }
        };
        Ok(PlannerConfig {
            provider,
            model,
            max_tokens,
            agent,
            cli,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        planner: PlannerFile,
    }

    fn resolve(text: &str) -> Result<PlannerConfig, EngineError> {
        let doc: Doc = toml::from_str(text).unwrap();
        doc.planner.resolve(text, Path::new("/repo/baton.toml"))
    }

    #[test]
    fn a_full_planner_table_is_read() {
        let config = resolve(
            "[planner]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nmax_tokens = \
             4000\nagent = \"claude\"\n",
        )
        .unwrap();
        assert_eq!(config.provider.as_deref(), Some("anthropic"));
        assert_eq!(config.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(config.max_tokens, Some(4000));
        assert_eq!(config.agent(), "claude");
    }

    #[test]
    fn bad_values_name_the_file_line_and_field() {
        let error = resolve("[planner]\nmodel = \"m\"\nprovider = \"antropic\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("/repo/baton.toml:3:12: planner.provider"),
            "{error}"
        );
        assert!(error.contains("anthropic, "), "{error}");
        let error = resolve("[planner]\nmax_tokens = 5\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":2:14: planner.max_tokens = 5"), "{error}");
        let error = resolve("[planner]\nmodel = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("planner.model is empty"), "{error}");
        let error = resolve("[planner]\nagent = \"exec\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("planner.agent = \"exec\""), "{error}");
        let error = resolve("[planner]\ncli = \"cursor\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":2:7: planner.cli = \"cursor\""), "{error}");
        let error = resolve("[planner]\nprovider = \"openai\"\ncli = \"claude\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not both"), "{error}");
    }

    #[test]
    fn the_later_file_wins_field_by_field() {
        let user = PlannerConfig {
            provider: Some("openai".into()),
            model: Some("gpt-5".into()),
            ..PlannerConfig::default()
        };
        let repo = PlannerConfig {
            model: Some("gpt-5-mini".into()),
            ..PlannerConfig::default()
        };
        let both = user.overlay(repo);
        assert_eq!(both.provider.as_deref(), Some("openai"));
        assert_eq!(both.model.as_deref(), Some("gpt-5-mini"));
        assert_eq!(both.agent(), "auto");
    }
}
