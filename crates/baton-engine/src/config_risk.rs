//! `[risk]` of `baton.toml`: rules that map paths, agent kinds and capabilities to a risk
//! level on top of the built-in ones, and how long a task waits for approval (see
//! `docs/approvals.md`).
//!
//! ```toml
//! [risk]
//! defaults = true              # the built-in high rules (false: none of them)
//! approval_timeout = "2h"
//! on_timeout = "reject"        # or "wait"
//!
//! [[risk.rules]]
//! name = "docs"
//! level = "medium"
//! paths = ["docs/**"]
//!
//! [[risk.rules]]
//! name = "dependencies"        # a built-in rule's name replaces it
//! level = "medium"             # (its paths stay when the rule gives none)
//! ```

use crate::EngineError;
use baton_core::risk::{DEFAULT_RULE_NAMES, check_rule, default_rules};
use baton_core::text::line_column;
use baton_core::{AgentKind, RiskRule, RiskRules};
use baton_protocol::RiskLevel;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// What happens to a task that has waited `approval_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// A live engine rejects it (`approval timed out after 2h`).
    Reject,
    /// It keeps waiting; a warning says it is overdue.
    #[default]
    Wait,
}

/// `[risk]`, resolved over the configuration files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskConfig {
    /// Whether the built-in rules apply (`defaults`, default true).
    pub defaults: bool,
    /// The configured rules, in order (a built-in rule's name replaces that rule).
    pub rules: Vec<RiskRule>,
    /// `approval_timeout`: how long a task may wait for approval.
    pub approval_timeout: Option<Duration>,
    /// `on_timeout`: what then happens.
    pub on_timeout: OnTimeout,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            defaults: true,
            rules: Vec::new(),
            approval_timeout: None,
            on_timeout: OnTimeout::Wait,
        }
    }
}

impl RiskConfig {
    /// The rules a run applies: the built-in ones (unless off), each replaced by a configured
    /// rule of its name, then the other configured rules.
    pub fn rules(&self) -> Result<RiskRules, EngineError> {
        let mut rules = if self.defaults {
            default_rules()
        } else {
            Vec::new()
        };
        for rule in &self.rules {
            match rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = inherit(existing, rule),
                None => rules.push(rule.clone()),
            }
        }
        RiskRules::new(rules).map_err(|error| EngineError::Config(error.to_string()))
    }

    /// Lays `layer` (a later file) over this configuration.
    pub(crate) fn overlay(&mut self, layer: RiskLayer) {
        if let Some(defaults) = layer.defaults {
            self.defaults = defaults;
        }
        if layer.approval_timeout.is_some() {
            self.approval_timeout = layer.approval_timeout;
        }
        if let Some(on_timeout) = layer.on_timeout {
            self.on_timeout = on_timeout;
        }
        for rule in layer.rules {
            match self.rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = inherit(existing, &rule),
                None => self.rules.push(rule),
            }
        }
    }
}

/// `rule` replacing `earlier` of the same name: its selectors, or the earlier ones when it
/// gives none (a rule that only changes a level).
fn inherit(earlier: &RiskRule, rule: &RiskRule) -> RiskRule {
    let selects =
        !rule.paths.is_empty() || !rule.agents.is_empty() || !rule.capabilities.is_empty();
    if selects {
        rule.clone()
    } else {
        RiskRule {
            level: rule.level,
            ..earlier.clone()
        }
    }
}

/// What one file's `[risk]` says.
#[derive(Debug, Default)]
pub(crate) struct RiskLayer {
    defaults: Option<bool>,
    rules: Vec<RiskRule>,
    approval_timeout: Option<Duration>,
    on_timeout: Option<OnTimeout>,
}

/// `[risk]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskFile {
    defaults: Option<bool>,
    approval_timeout: Option<Spanned<String>>,
    on_timeout: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

/// One `[[risk.rules]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Spanned<String>,
    level: Spanned<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
    #[serde(default)]
    capabilities: Vec<String>,
}

impl RiskFile {
    /// Checks and resolves the table of `path`, whose text is `text`. Errors name the file,
    /// line, column and field.
    pub(crate) fn resolve(&self, text: &str, path: &Path) -> Result<RiskLayer, EngineError> {
        let at = |span: std::ops::Range<usize>, why: String| {
            let (line, column) = line_column(text, span.start);
            EngineError::Config(format!(
                "{}:{line}:{column}: {why} (see docs/config.md)",
                path.display()
            ))
        };
        let approval_timeout = match &self.approval_timeout {
            None => None,
            Some(written) => {
                let value = written.get_ref();
                let duration = baton_core::parse_duration(value).map_err(|why| {
                    at(
                        written.span(),
                        format!(
                            "risk.approval_timeout = {value:?}: {why}; write a duration such \
                             as \"2h\" or \"30m\""
                        ),
                    )
                })?;
                if duration.is_zero() {
                    return Err(at(
                        written.span(),
                        "risk.approval_timeout is zero; write how long a task may wait, such as \
                         \"2h\" (or remove it to wait without limit)"
                            .into(),
                    ));
                }
                Some(duration)
            }
        };
        let on_timeout = match &self.on_timeout {
            None => None,
            Some(written) => Some(match written.get_ref().as_str() {
                "reject" => OnTimeout::Reject,
                "wait" => OnTimeout::Wait,
                other => {
                    return Err(at(
                        written.span(),
                        format!("risk.on_timeout = {other:?}: write \"reject\" or \"wait\""),
                    ));
                }
            }),
        };
        let mut rules = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let field = |name: &str| format!("risk.rules[{index}].{name}");
            let name = rule.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(at(
                    rule.name.span(),
                    format!(
                        "{} is empty; name the rule (messages use it)",
                        field("name")
                    ),
                ));
            }
            let level = RiskLevel::parse(rule.level.get_ref()).ok_or_else(|| {
                at(
                    rule.level.span(),
                    format!(
                        "{} = {:?} is not a risk level; write \"low\", \"medium\" or \"high\"",
                        field("level"),
                        rule.level.get_ref()
                    ),
                )
            })?;
            for agent in &rule.agents {
                if AgentKind::parse(agent.get_ref()).is_none() {
                    let known: Vec<&str> = AgentKind::ALL.iter().map(|a| a.as_str()).collect();
                    return Err(at(
                        agent.span(),
                        format!(
                            "{} names {:?}, which is no agent kind; use one of {}",
                            field("agents"),
                            agent.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
            }
            let resolved = RiskRule {
                name: name.clone(),
                level,
                paths: rule.paths.iter().map(|p| p.get_ref().clone()).collect(),
                agents: rule.agents.iter().map(|a| a.get_ref().clone()).collect(),
                capabilities: rule.capabilities.clone(),
            };
            for glob in &rule.paths {
                let one = RiskRule {
                    paths: vec![glob.get_ref().clone()],
                    ..resolved.clone()
                };
                check_rule(&one)
                    .map_err(|why| at(glob.span(), format!("{}: {why}", field("paths"))))?;
            }
            let overrides = DEFAULT_RULE_NAMES.contains(&name.as_str());
            if !overrides && let Err(why) = check_rule(&resolved) {
                return Err(at(rule.name.span(), format!("{}: {why}", field("name"))));
            }
            rules.push(resolved);
        }
        Ok(RiskLayer {
            defaults: self.defaults,
            rules,
            approval_timeout,
            on_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<RiskConfig, String> {
        #[derive(Deserialize)]
        struct Wrapper {
            risk: RiskFile,
        }
        let file: Wrapper = toml::from_str(text).map_err(|e| e.to_string())?;
        let layer = file
            .risk
            .resolve(text, Path::new("baton.toml"))
            .map_err(|e| e.to_string())?;
        let mut config = RiskConfig::default();
        config.overlay(layer);
        Ok(config)
    }

    #[test]
    fn rules_timeout_and_policy_are_read() {
        let config = resolve(
            "[risk]\napproval_timeout = \"2h\"\non_timeout = \"reject\"\n\n[[risk.rules]]\n\
             name = \"docs\"\nlevel = \"medium\"\npaths = [\"docs/**\"]\n",
        )
        .unwrap();
        assert_eq!(config.approval_timeout, Some(Duration::from_secs(7200)));
        assert_eq!(config.on_timeout, OnTimeout::Reject);
        let rules = config.rules().unwrap();
        let names: Vec<&str> = rules.rules().map(|r| r.name.as_str()).collect();
        assert_eq!(names.last(), Some(&"docs"));
        assert!(names.contains(&"migrations"));
    }

    #[test]
    fn a_rule_named_like_a_default_replaces_it_and_keeps_its_paths() {
        let config =
            resolve("[[risk.rules]]\nname = \"dependencies\"\nlevel = \"medium\"\n").unwrap();
        let rules = config.rules().unwrap();
        let deps = rules.rules().find(|r| r.name == "dependencies").unwrap();
        assert_eq!(deps.level, RiskLevel::Medium);
        assert!(deps.paths.contains(&"**/Cargo.toml".to_owned()));
        assert_eq!(
            rules.rules().filter(|r| r.name == "dependencies").count(),
            1
        );
    }

    #[test]
    fn defaults_can_be_turned_off() {
        let config = resolve("[risk]\ndefaults = false\n").unwrap();
        assert_eq!(config.rules().unwrap().rules().count(), 0);
    }

    #[test]
    fn an_unknown_level_names_file_line_and_field() {
        let error = resolve("[[risk.rules]]\nname = \"x\"\nlevel = \"severe\"\npaths = [\"a\"]\n")
            .unwrap_err();
        assert_eq!(
            error,
            "baton.toml:3:9: risk.rules[0].level = \"severe\" is not a risk level; write \
             \"low\", \"medium\" or \"high\" (see docs/config.md)"
        );
    }

    #[test]
    fn a_bad_glob_names_file_line_and_field() {
        let error = resolve(
            "[[risk.rules]]\nname = \"x\"\nlevel = \"high\"\npaths = [\"ok/**\", \"src/[ab\"]\n",
        )
        .unwrap_err();
        assert!(
            error.starts_with(
                "baton.toml:4:19: risk.rules[0].paths: risk rule \"x\": path \"src/[ab\" is not a \
                 valid glob: unclosed character class"
            ),
            "{error}"
        );
    }

    #[test]
    fn bad_timeouts_policies_agents_and_empty_rules_are_refused() {
        for (text, expected) in [
            (
                "[risk]\napproval_timeout = \"soon\"\n",
                "baton.toml:2:20: risk.approval_timeout = \"soon\"",
            ),
            (
                "[risk]\napproval_timeout = \"0s\"\n",
                "baton.toml:2:20: risk.approval_timeout is zero",
            ),
            (
                "[risk]\non_timeout = \"approve\"\n",
                "baton.toml:2:14: risk.on_timeout = \"approve\"",
            ),
            (
                "[[risk.rules]]\nname = \"x\"\nlevel = \"low\"\nagents = [\"robot\"]\n",
                "baton.toml:4:11: risk.rules[0].agents names \"robot\"",
            ),
            (
                "[[risk.rules]]\nname = \"x\"\nlevel = \"low\"\n",
                "baton.toml:2:8: risk.rules[0].name: risk rule \"x\" selects no task",
            ),
        ] {
            let error = resolve(text).unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }
}
