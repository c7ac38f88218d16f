//! Aider: `aider --message PROMPT --yes-always --no-auto-commits --no-gitignore --no-pretty
//! --no-fancy-input --no-check-update --analytics-disable --no-show-model-warnings`. It prints text, not JSON: baton reads its `Tokens: ... Cost: ...` lines,
//! `Applied edit to PATH` lines and litellm errors, and keeps every other line as a message.

use crate::adapter::{
    AgentAdapter, AgentInvocation, MAX_PROMPT_ARG_BYTES, StreamDecoder, UsageReporting,
};
use crate::limits::classify_error;
use crate::wire::dollars_to_micros;
use baton_exec::CommandSpec;
use baton_protocol::{AgentEvent, FileChangeKind, Usage};

/// The Aider adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aider;

impl AgentAdapter for Aider {
    fn name(&self) -> &'static str {
        "aider"
    }

    fn binary(&self) -> &'static str {
        "aider"
    }

    fn command(&self, invocation: &AgentInvocation) -> CommandSpec {
        let mut spec = invocation.base_spec(self.binary());
        spec = match &invocation.prompt_file {
            // Aider reads a long prompt from a file itself.
            Some(file) if invocation.prompt.len() > MAX_PROMPT_ARG_BYTES => {
                spec.arg("--message-file").arg(file.to_string_lossy())
            }
            _ => spec.arg("--message").arg(invocation.prompt_arg()),
        };
        spec = spec.args([
            "--yes-always",
            "--no-auto-commits",
            "--no-gitignore",
            "--no-pretty",
            "--no-fancy-input",
            // Headless and quiet: no update check or analytics over the network, no prompt
            // about a model Aider has no metadata for.
            "--no-check-update",
            "--analytics-disable",
            "--no-show-model-warnings",
        ]);
        if let Some(model) = &invocation.model {
            spec = spec.arg("--model").arg(model.clone());
        }
        invocation.with_extra_env(spec.args(invocation.extra_args.iter().cloned()))
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(AiderDecoder::default())
    }

    fn usage_reporting(&self) -> UsageReporting {
        UsageReporting::TokensCostIfConfigured
    }
}

/// Reads Aider's text output.
///
/// A `Tokens:` line gives one message's tokens (rounded by Aider: `2.5k` is 2,500) and, when the
/// model has prices, the message's and the session's cost. The decoder keeps the token sum
/// itself and reports it with the session cost as a running total, so the last report is the
/// run's usage. Aider does not say whether an edited file is new: every edit is a `modify`.
#[derive(Debug, Default)]
pub struct AiderDecoder {
    /// Tokens of every message so far.
    totals: Usage,
}

impl StreamDecoder for AiderDecoder {
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let text = line.trim();
        if text.is_empty() {
            return Vec::new();
        }
        if let Some(report) = text.strip_prefix("Tokens: ") {
            return self.tokens(report).into_iter().collect();
        }
        if let Some(path) = text.strip_prefix("Applied edit to ") {
            return vec![AgentEvent::FileChange {
                path: path.into(),
                kind: FileChangeKind::Modify,
            }];
        }
        if is_error_line(text) {
            return vec![AgentEvent::Error {
                kind: classify_error(text, None),
                message: text.into(),
            }];
        }
        vec![AgentEvent::Message { text: text.into() }]
    }
}

impl AiderDecoder {
    /// Reads `2.5k sent, 1.2k cache write, 3k cache hit, 26 received. Cost: $0.0026 message,
    /// $0.0026 session.`
    fn tokens(&mut self, report: &str) -> Option<AgentEvent> {
        let (tokens, cost) = match report.split_once("Cost:") {
            Some((tokens, cost)) => (tokens, Some(cost)),
            None => (report, None),
        };
        let mut step = Usage::default();
        let mut understood = false;
        for part in tokens.trim().trim_end_matches('.').split(',') {
            let Some((count, label)) = part.trim().split_once(' ') else {
                continue;
            };
            let Some(count) = parse_count(count) else {
                continue;
            };
            understood = true;
            match label.trim() {
                "sent" => step.input_tokens = count,
                "received" => step.output_tokens = count,
                "cache write" => step.cache_write_tokens = count,
                "cache hit" => step.cached_input_tokens = count,
                _ => {}
            }
        }
        if !understood {
            return Some(AgentEvent::Message {
                text: format!("Tokens: {report}"),
            });
        }
        // Aider's "sent" counts the whole prompt, cached parts included; baton's input does not.
        step.input_tokens = step
            .input_tokens
            .saturating_sub(step.cached_input_tokens + step.cache_write_tokens);
        let totals = &mut self.totals;
        totals.input_tokens += step.input_tokens;
        totals.output_tokens += step.output_tokens;
        totals.cached_input_tokens += step.cached_input_tokens;
        totals.cache_write_tokens += step.cache_write_tokens;
        if let Some(session) = cost.and_then(session_cost) {
            totals.cost_usd_micros = Some(session);
        }
        totals.cumulative = true;
        Some(AgentEvent::Usage(totals.clone()))
    }
}

/// The session cost of `$0.0026 message, $0.0026 session.`, in micro-dollars.
fn session_cost(cost: &str) -> Option<u64> {
    cost.split(',')
        .find(|part| part.contains("session"))
        .and_then(|part| {
            let amount = part.trim().trim_start_matches('$');
            let amount = amount.split_whitespace().next()?;
            amount.replace(',', "").parse::<f64>().ok()
        })
        .and_then(dollars_to_micros)
}

/// `26`, `2.5k`, `12k`, `1.2M` as a count.
pub fn parse_count(text: &str) -> Option<u64> {
    let (number, scale) = match text.chars().last()? {
        'k' | 'K' => (&text[..text.len() - 1], 1_000.0),
        'm' | 'M' => (&text[..text.len() - 1], 1_000_000.0),
        _ => (text, 1.0),
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| (value * scale).round() as u64)
}

/// Lines Aider prints for a failed model call (through litellm) or its own errors.
fn is_error_line(text: &str) -> bool {
    text.starts_with("litellm.")
        || text.contains("Error:")
            && (text.contains("litellm") || text.contains("API") || text.starts_with("Error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_with_k_and_m_suffixes_are_read() {
        assert_eq!(parse_count("26"), Some(26));
        assert_eq!(parse_count("2.5k"), Some(2_500));
        assert_eq!(parse_count("12k"), Some(12_000));
        assert_eq!(parse_count("1.2M"), Some(1_200_000));
        assert_eq!(parse_count("many"), None);
    }
}
