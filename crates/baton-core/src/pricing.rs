//! Money and tokens: what a model call cost, from its token counts and a price table.
//!
//! Dollars are integer micro-dollars ([`Usd`]), never floats: sums over thousands of calls stay
//! exact, and a ledger row never reads `0.30000000000000004`. Prices are per million tokens,
//! also in micro-dollars (`$3 / M` is `3_000_000`), so a cost is `tokens * price / 1_000_000`,
//! rounded to the nearest micro-dollar. A cost that cannot be known (a model with no price, a
//! client that reports no tokens) is `None`, never zero.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An amount of US dollars in micro-dollars (1 USD = 1,000,000).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Usd(pub u64);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(0);

    /// From a decimal dollar amount (prices are written as decimals in price files). Negative or
    /// non-finite amounts are refused.
    pub fn from_dollars(dollars: f64) -> Option<Usd> {
        if !dollars.is_finite() || dollars < 0.0 {
            return None;
        }
        let micros = (dollars * 1_000_000.0).round();
        (micros <= u64::MAX as f64).then_some(Usd(micros as u64))
    }

    /// The amount in micro-dollars.
    pub fn micros(self) -> u64 {
        self.0
    }

    /// The sum, saturating at the largest amount.
    pub fn saturating_add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }
}

impl std::fmt::Display for Usd {
    /// `$0.0026`, `$12.50`: four decimals under a dollar, two above.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dollars = self.0 / 1_000_000;
        let micros = self.0 % 1_000_000;
        if dollars == 0 {
            write!(f, "${dollars}.{:04}", (micros + 50) / 100)
        } else {
            let cents = (micros + 5_000) / 10_000;
            let (dollars, cents) = if cents == 100 {
                (dollars + 1, 0)
            } else {
                (dollars, cents)
            };
            write!(f, "${dollars}.{cents:02}")
        }
    }
}

/// Tokens of one call or one attempt, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tokens {
    /// Input tokens that were not read from a cache.
    pub input: u64,
    /// Input tokens read from the provider's prompt cache (billed lower).
    pub cached_input: u64,
    /// Input tokens written to the prompt cache (billed higher, Anthropic).
    pub cache_write: u64,
    /// Output tokens, reasoning included when the provider counts it so.
    pub output: u64,
    /// Reasoning tokens (informational when already part of `output`).
    pub reasoning: u64,
}

impl Tokens {
    /// Every token counted once (reasoning is part of output, so not added again).
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.cached_input)
            .saturating_add(self.cache_write)
            .saturating_add(self.output)
    }

    /// The sum of two counts.
    pub fn add(&self, other: &Tokens) -> Tokens {
        Tokens {
            input: self.input.saturating_add(other.input),
            cached_input: self.cached_input.saturating_add(other.cached_input),
            cache_write: self.cache_write.saturating_add(other.cache_write),
            output: self.output.saturating_add(other.output),
            reasoning: self.reasoning.saturating_add(other.reasoning),
        }
    }
}

impl From<&baton_protocol::UsageTotals> for Tokens {
    fn from(usage: &baton_protocol::UsageTotals) -> Tokens {
        Tokens {
            input: usage.input_tokens,
            cached_input: usage.cached_input_tokens,
            cache_write: usage.cache_write_tokens,
            output: usage.output_tokens,
            reasoning: usage.reasoning_tokens,
        }
    }
}

/// What a model charges per million tokens of each kind, in micro-dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Per million input tokens.
    pub input: Usd,
    /// Per million cached input tokens (defaults to the input price when a model has none).
    pub cached_input: Usd,
    /// Per million tokens written to the cache (defaults to the input price).
    pub cache_write: Usd,
    /// Per million output tokens.
    pub output: Usd,
    /// Per million reasoning tokens billed apart from output (zero when reasoning is output).
    pub reasoning: Usd,
}

impl ModelPrice {
    /// The cost of `tokens` at this price, rounded to the nearest micro-dollar.
    pub fn cost(&self, tokens: &Tokens) -> Usd {
        let part = |count: u64, price: Usd| -> u128 { u128::from(count) * u128::from(price.0) };
        let sum = part(tokens.input, self.input)
            + part(tokens.cached_input, self.cached_input)
            + part(tokens.cache_write, self.cache_write)
            + part(tokens.output, self.output)
            + part(tokens.reasoning, self.reasoning);
        let micros = (sum + 500_000) / 1_000_000;
        Usd(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// A versioned table of model prices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PriceTable {
    /// Which table priced a cost (recorded with it in the ledger).
    pub version: String,
    /// Prices by model name, lower case.
    pub models: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// The price of `model`: its exact name, else without a route prefix
    /// (`openrouter/anthropic/claude-sonnet-4` → `anthropic/claude-sonnet-4` → `claude-sonnet-4`),
    /// else without a date suffix (`claude-sonnet-4-20250514` → `claude-sonnet-4`).
    pub fn price(&self, model: &str) -> Option<(&str, &ModelPrice)> {
        let model = model.trim().to_ascii_lowercase();
        let mut candidate = model.as_str();
        loop {
            if let Some((name, price)) = self.models.get_key_value(candidate) {
                return Some((name.as_str(), price));
            }
            if let Some(undated) = strip_date(candidate)
                && let Some((name, price)) = self.models.get_key_value(undated)
            {
                return Some((name.as_str(), price));
            }
            match candidate.split_once('/') {
                Some((_, rest)) => candidate = rest,
                None => return None,
            }
        }
    }

    /// The cost of `tokens` on `model`, `None` when the table has no price for it.
    pub fn cost(&self, model: &str, tokens: &Tokens) -> Option<Usd> {
        self.price(model).map(|(_, price)| price.cost(tokens))
    }

    /// This table with `other`'s prices on top (an override file).
    pub fn overlaid(mut self, other: PriceTable) -> PriceTable {
        self.models.extend(other.models);
        if !other.version.is_empty() {
            self.version = format!("{}+{}", self.version, other.version);
        }
        self
    }
}

/// `name-YYYYMMDD` or `name-YYYY-MM-DD` without its date.
fn strip_date(model: &str) -> Option<&str> {
    let (head, tail) = model.rsplit_once('-')?;
    if tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit()) {
        return Some(head);
    }
    // `-2025-04-14`: three numeric parts.
    let mut parts = model.rsplitn(4, '-');
    let (day, month, year, head) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(day, 2) && numeric(month, 2) && numeric(year, 4)).then_some(head)
}

/// How a ledger row's dollars were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// The client reported the cost itself (Claude Code, OpenCode, Aider).
    Reported,
    /// baton priced the tokens with its price table.
    Priced,
    /// Neither: no price for the model, or no token counts. Shown as unknown, never as zero.
    Unknown,
}

impl CostBasis {
    /// The text form stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            CostBasis::Reported => "reported",
            CostBasis::Priced => "priced",
            CostBasis::Unknown => "unknown",
        }
    }

    /// Parses [`CostBasis::as_str`].
    pub fn parse(text: &str) -> Option<CostBasis> {
        match text {
            "reported" => Some(CostBasis::Reported),
            "priced" => Some(CostBasis::Priced),
            "unknown" => Some(CostBasis::Unknown),
            _ => None,
        }
    }
}

/// The dollars of one attempt: what the client reported if it did, else the table's price of
/// its tokens, else unknown.
pub fn settle_cost(
    reported: Option<Usd>,
    model: Option<&str>,
    tokens: Option<&Tokens>,
    table: &PriceTable,
) -> (Option<Usd>, CostBasis) {
    if let Some(reported) = reported {
        return (Some(reported), CostBasis::Reported);
    }
    match (model, tokens) {
        (Some(model), Some(tokens)) => match table.cost(model, tokens) {
            Some(cost) => (Some(cost), CostBasis::Priced),
            None => (None, CostBasis::Unknown),
        },
        _ => (None, CostBasis::Unknown),
    }
}

#[cfg(test)]
#[path = "pricing_tests.rs"]
mod tests;
