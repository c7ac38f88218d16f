//! A template file as written, with the position of every value a message may point at.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateFile {
    pub version: Option<Spanned<u32>>,
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub max_iterations: Option<Spanned<u32>>,
    pub on_failure: Option<Spanned<String>>,
    pub iteration: Option<Spanned<String>>,
    pub budget_usd: Option<Spanned<f64>>,
    pub phases: Option<Spanned<Vec<Spanned<PhaseFile>>>>,
}

/// One entry of `phases:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhaseFile {
    pub name: Option<Spanned<String>>,
    pub role: Option<Spanned<String>>,
    pub agent: Option<Spanned<String>>,
    pub provider: Option<Spanned<String>>,
    pub cli: Option<Spanned<String>>,
    pub model: Option<Spanned<String>>,
    pub prompt: Option<Spanned<String>>,
    pub run: Option<Spanned<String>>,
    pub tool: Option<Spanned<String>>,
    pub output: Option<Spanned<String>>,
    pub claims: Option<Spanned<Vec<String>>>,
    pub can_skip: Option<Spanned<bool>>,
    pub can_iterate: Option<Spanned<bool>>,
    pub max_retries: Option<Spanned<u32>>,
    pub timeout: Option<Spanned<String>>,
    pub after: Option<Vec<Spanned<String>>>,
    pub parallel_with: Option<Vec<Spanned<String>>>,
    pub success: Option<Vec<Spanned<CriterionFile>>>,
    pub fallback: Option<Spanned<FallbackFile>>,
}

/// `fallback: {provider: P, model: M}` or `{cli: C}`: who answers when the phase's model
/// call fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FallbackFile {
    pub provider: Option<String>,
    pub cli: Option<String>,
    pub model: Option<String>,
}

/// A success criterion: a command, or `{run: CMD, expect: pass|fail}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum CriterionFile {
    Command(String),
    Full(CriterionMap),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CriterionMap {
    pub run: String,
    pub expect: Option<String>,
}

/// The fields a phase may have, by role (every role may have name, role, after,
/// parallel_with).
pub(super) fn fields_of(role: super::Role) -> &'static [&'static str] {
    use super::Role::*;
    match role {
        Analyzer => &[
            "provider", "cli", "model", "prompt", "tool", "output", "can_skip", "timeout",
            "fallback",
        ],
        Planner => &[
            "provider", "cli", "model", "prompt", "output", "timeout", "fallback",
        ],
        Implementer => &[
            "agent",
            "model",
            "prompt",
            "run",
            "claims",
            "max_retries",
            "timeout",
            "success",
        ],
        ReviewerFunctional | ReviewerStyle | ReviewerSecurity | ReviewerCustom => &[
            "provider",
            "cli",
            "model",
            "prompt",
            "can_skip",
            "can_iterate",
            "fallback",
        ],
        Verifier => &["run", "success", "timeout", "can_skip"],
    }
}

impl PhaseFile {
    /// The role-specific fields written, each with its position.
    pub fn written(&self) -> Vec<(&'static str, serde_saphyr::Location)> {
        fn at<T>(
            name: &'static str,
            value: &Option<Spanned<T>>,
        ) -> Option<(&'static str, serde_saphyr::Location)> {
            value.as_ref().map(|v| (name, v.referenced))
        }
        [
            at("agent", &self.agent),
            at("provider", &self.provider),
            at("cli", &self.cli),
            at("model", &self.model),
            at("prompt", &self.prompt),
            at("run", &self.run),
            at("tool", &self.tool),
            at("output", &self.output),
            at("claims", &self.claims),
            at("can_skip", &self.can_skip),
            at("can_iterate", &self.can_iterate),
            at("max_retries", &self.max_retries),
            at("timeout", &self.timeout),
            at("fallback", &self.fallback),
        ]
        .into_iter()
        .flatten()
        .chain(
            self.success
                .as_ref()
                .and_then(|list| list.first())
                .map(|first| ("success", first.referenced)),
        )
        .collect()
    }
}
