//! `[review]` in `baton.toml`: which model reviews each task's change before it may merge,
//! for what (functional, style, security), how many rejections a task gets before it climbs
//! the escalation ladder, and whether the whole run's change is reviewed before delivery.

use baton_protocol::ReviewKind;
use serde::Deserialize;

/// The default of `[review] max_iterations`.
pub const DEFAULT_MAX_ITERATIONS: u32 = 2;
/// The default of `[review] max_tokens`.
pub const DEFAULT_REVIEW_TOKENS: u32 = 2048;

/// The `[review]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewFile {
    provider: Option<String>,
    cli: Option<String>,
    model: Option<String>,
    kinds: Option<Vec<String>>,
    max_iterations: Option<u32>,
    max_tokens: Option<u32>,
    #[serde(rename = "final")]
    whole_run: Option<bool>,
}

/// The review settings, checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ReviewConfig {
    /// A provider of `baton providers` (`claude-code` for `cli = "claude"`).
    pub provider: String,
    /// The model (empty: the CLI's own default).
    pub model: String,
    /// `cli = "claude"`: Claude Code in plan mode (read-only) reviews instead of a provider.
    pub cli: Option<String>,
    /// The reviews each change gets, in parallel.
    pub kinds: Vec<ReviewKind>,
    /// How many times a task's change may be rejected and sent back to its implementer before
    /// the rejection counts as a failure of the task (retries, then the escalation ladder).
    pub max_iterations: u32,
    /// The most tokens of one review's answer.
    pub max_tokens: u32,
    /// Review the whole run's change before delivering it (`final`, default true).
    pub whole_run: bool,
    /// What each kind of review also judges (a workflow template's reviewer prompts); a
    /// custom review judges only this.
    #[serde(default)]
    pub criteria: std::collections::BTreeMap<ReviewKind, String>,
    /// A rejection waits for a person (`needs_human`; `baton retry` sends it back) instead of
    /// going back to the implementer at once (a workflow template's `iteration: pause`).
    #[serde(default)]
    pub pause_on_rejection: bool,
    /// Who reviews when this reviewer cannot (its call fails or its answer cannot be read):
    /// a workflow template's reviewer `fallback`.
    #[serde(default)]
    pub fallback: Option<Box<ReviewConfig>>,
}

impl ReviewConfig {
    /// The reviewer a workflow template's phase names (`provider` and `model`, or `cli`),
    /// checked like `[review]`; kinds and iterations are the caller's to set.
    pub(crate) fn named(
        provider: Option<String>,
        cli: Option<String>,
        model: Option<String>,
    ) -> Result<ReviewConfig, String> {
        ReviewFile {
            provider,
            cli,
            model,
            ..ReviewFile::default()
        }
        .resolve()
    }
}

impl ReviewFile {
    /// The settings, or what is wrong with them (naming the field).
    pub(crate) fn resolve(self) -> Result<ReviewConfig, String> {
        if let Some(cli) = &self.cli {
            if !crate::planner_cli::PLANNER_CLIS.contains(&cli.as_str()) {
                return Err(format!(
                    "review.cli = {cli:?}: the agent CLIs that can review are {}",
                    crate::planner_cli::PLANNER_CLIS.join(", ")
                ));
            }
            if self.provider.is_some() {
                return Err("review.cli and review.provider are exclusive: keep one".into());
            }
        }
        let cli = self.cli.clone();
        let provider = match cli.as_deref() {
            Some("codex") => Some("codex".to_owned()),
            Some(_) => Some("claude-code".to_owned()),
            None => self.provider,
        };
        let provider = provider
            .filter(|p| !p.trim().is_empty())
            .ok_or("review.provider is missing: name a provider of `baton providers`")?;
        if cli.is_none() && baton_agents::providers::find(&provider).is_none() {
            let known: Vec<&str> = baton_agents::providers::PROVIDERS
                .iter()
                .map(|spec| spec.name)
                .collect();
            return Err(format!(
                "review.provider = {provider:?} is not a provider baton knows (known: {})",
                known.join(", ")
            ));
        }
        let model = match (&cli, self.model.filter(|m| !m.trim().is_empty())) {
            (_, Some(model)) => model,
            (Some(_), None) => String::new(),
            (None, None) => {
                return Err("review.model is missing: name the model that reviews".into());
            }
        };
        let mut kinds = Vec::new();
        for kind in self.kinds.unwrap_or_else(|| vec!["functional".into()]) {
            let parsed = ReviewKind::parse(&kind)
                .filter(|kind| *kind != ReviewKind::Custom)
                .ok_or_else(|| {
                    format!(
                        "review.kinds has {kind:?}, which is not a review kind (known: functional, \
                     style, security; custom reviews come from a workflow template's \
                     reviewer_custom phase)"
                    )
                })?;
            if !kinds.contains(&parsed) {
                kinds.push(parsed);
            }
        }
        if kinds.is_empty() {
            return Err("review.kinds is empty; remove [review] to review nothing".into());
        }
        let max_iterations = self.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
        if !(1..=10).contains(&max_iterations) {
            return Err(format!(
                "review.max_iterations = {max_iterations}: write 1 to 10"
            ));
        }
        let max_tokens = self.max_tokens.unwrap_or(DEFAULT_REVIEW_TOKENS);
        if max_tokens < 64 {
            return Err(format!(
                "review.max_tokens = {max_tokens}: write 64 or more"
            ));
        }
        Ok(ReviewConfig {
            provider,
            model,
            cli,
            kinds,
            max_iterations,
            max_tokens,
            whole_run: self.whole_run.unwrap_or(true),
            criteria: Default::default(),
            pause_on_rejection: false,
            fallback: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ReviewFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_fill_what_is_not_written_and_bad_values_name_their_field() {
        let config = file("provider = \"anthropic\"\nmodel = \"m\"\n")
            .resolve()
            .unwrap();
        assert_eq!(config.kinds, vec![ReviewKind::Functional]);
        assert_eq!(config.max_iterations, DEFAULT_MAX_ITERATIONS);
        assert!(config.whole_run);
        let cli = file("cli = \"claude\"\n").resolve().unwrap();
        assert_eq!(cli.cli.as_deref(), Some("claude"));
        assert_eq!(cli.model, "");
        for (text, field) in [
            ("model = \"m\"\n", "review.provider is missing"),
            (
                "provider = \"nope\"\nmodel = \"m\"\n",
                "review.provider = \"nope\"",
            ),
            ("provider = \"anthropic\"\n", "review.model is missing"),
            (
                "provider = \"anthropic\"\nmodel = \"m\"\nkinds = [\"vibes\"]\n",
                "review.kinds has \"vibes\"",
            ),
            (
                "provider = \"anthropic\"\nmodel = \"m\"\nmax_iterations = 0\n",
                "review.max_iterations = 0",
            ),
            ("cli = \"cursor\"\n", "review.cli = \"cursor\""),
            ("cli = \"claude\"\nprovider = \"anthropic\"\n", "exclusive"),
        ] {
            let error = file(text).resolve().unwrap_err();
            assert!(error.contains(field), "{text}: {error}");
        }
    }
}
