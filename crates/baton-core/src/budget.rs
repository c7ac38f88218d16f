//! Budgets: limits in dollars and tokens per scope (a run, a repository, everything) and
//! period (the run, a day, a month), and the arithmetic that admits a reservation or says which
//! limit it would cross. Pure: the store supplies what was spent and reserved.

use crate::pricing::Usd;
use serde::{Deserialize, Serialize};

/// What a limit covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// One run (`baton run --budget`).
    Run,
    /// Every run in one repository.
    Project,
    /// Every run of this baton home.
    Global,
}

impl BudgetScope {
    /// Every scope, narrowest first.
    pub const ALL: [BudgetScope; 3] = [BudgetScope::Run, BudgetScope::Project, BudgetScope::Global];

    /// The stable text form (database, `--json`, `--scope`).
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetScope::Run => "run",
            BudgetScope::Project => "project",
            BudgetScope::Global => "global",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(text: &str) -> Option<BudgetScope> {
        BudgetScope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The window a limit counts spending over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// The whole run (run scope only).
    Run,
    /// The current UTC day.
    Day,
    /// The current UTC month.
    Month,
}

impl BudgetPeriod {
    /// The stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Run => "run",
            BudgetPeriod::Day => "day",
            BudgetPeriod::Month => "month",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(text: &str) -> Option<BudgetPeriod> {
        [BudgetPeriod::Run, BudgetPeriod::Day, BudgetPeriod::Month]
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    /// Where the window that holds `now` starts, as sortable RFC 3339 UTC text (`None` for the
    /// run period, which counts the run's whole ledger). `now` is RFC 3339 UTC text such as the
    /// store writes (`2026-11-29T22:04:48.244Z`).
    pub fn window_start(self, now: &str) -> Option<String> {
        match self {
            BudgetPeriod::Run => None,
            BudgetPeriod::Day => Some(format!("{}T00:00:00.000Z", now.get(..10)?)),
            BudgetPeriod::Month => Some(format!("{}-01T00:00:00.000Z", now.get(..7)?)),
        }
    }
}

/// Dollars and tokens together: a spend, a reservation, a limit's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Amount {
    /// Dollars (known costs only).
    pub usd: Usd,
    /// Tokens of every kind.
    pub tokens: u64,
}

impl Amount {
    /// The sum, saturating.
    pub fn plus(self, other: Amount) -> Amount {
        Amount {
            usd: self.usd.saturating_add(other.usd),
            tokens: self.tokens.saturating_add(other.tokens),
        }
    }
}

/// One limit: a scope (and its key: the run id, the repository key, or `*`), a period, and a
/// ceiling in dollars, tokens or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLimit {
    pub scope: BudgetScope,
    /// The run id, the repository key, or `*` for global.
    pub key: String,
    pub period: BudgetPeriod,
    /// The most dollars, if limited in dollars.
    pub usd: Option<Usd>,
    /// The most tokens, if limited in tokens.
    pub tokens: Option<u64>,
}

/// A limit with what counts against it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitUse {
    pub limit: BudgetLimit,
    /// Settled spending in the limit's window.
    pub spent: Amount,
    /// Open reservations of attempts still running.
    pub reserved: Amount,
}

/// Which unit of a limit is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetUnit {
    Dollars,
    Tokens,
}

/// A limit a reservation (or spending) would cross, with the figures that say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exceeded {
    pub scope: BudgetScope,
    pub key: String,
    pub period: BudgetPeriod,
    pub unit: BudgetUnit,
    /// The limit, in micro-dollars or tokens.
    pub limit: u64,
    /// Spent plus reserved before this request, same unit.
    pub committed: u64,
    /// What was asked for, same unit.
    pub asked: u64,
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |value: u64| match self.unit {
            BudgetUnit::Dollars => Usd(value).to_string(),
            BudgetUnit::Tokens => format!("{value} tokens"),
        };
        let scope = match self.scope {
            BudgetScope::Run => "the run's budget".to_owned(),
            BudgetScope::Project => format!("the project's {} budget", period_word(self.period)),
            BudgetScope::Global => format!("the global {} budget", period_word(self.period)),
        };
        write!(
            f,
            "{scope} of {} would be exceeded: {} spent or reserved, {} more needed",
            show(self.limit),
            show(self.committed),
            show(self.asked)
        )
    }
}

fn period_word(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Run => "run",
        BudgetPeriod::Day => "daily",
        BudgetPeriod::Month => "monthly",
    }
}

impl LimitUse {
    /// The limit with `live` in place of `reservation` (an attempt spending past what it
    /// reserved): the first unit that would then be over its ceiling.
    pub fn exceeded_with(&self, reservation: Amount, live: Amount) -> Option<Exceeded> {
        let others = LimitUse {
            limit: self.limit.clone(),
            spent: self.spent,
            reserved: self.reserved.minus(reservation),
        };
        others.exceeded_by(live)
    }

    /// What is committed against the limit: spent plus reserved.
    pub fn committed(&self) -> Amount {
        self.spent.plus(self.reserved)
    }

    /// The first unit of this limit that `asked` more would take past its ceiling.
    pub fn exceeded_by(&self, asked: Amount) -> Option<Exceeded> {
        let committed = self.committed();
        let check = |unit, limit: Option<u64>, committed: u64, asked: u64| {
            let limit = limit?;
            (committed.saturating_add(asked) > limit).then(|| Exceeded {
                scope: self.limit.scope,
                key: self.limit.key.clone(),
                period: self.limit.period,
                unit,
                limit,
                committed,
                asked,
            })
        };
        check(
            BudgetUnit::Dollars,
            self.limit.usd.map(Usd::micros),
            committed.usd.micros(),
            asked.usd.micros(),
        )
        .or_else(|| {
            check(
                BudgetUnit::Tokens,
                self.limit.tokens,
                committed.tokens,
                asked.tokens,
            )
        })
    }

    /// The largest share of the limit committed, in either unit, in thousandths (800 is 80%).
    pub fn used_per_mille(&self) -> u64 {
        let committed = self.committed();
        let share = |limit: Option<u64>, used: u64| match limit {
            Some(0) => 1000,
            Some(limit) => {
                u64::try_from(u128::from(used) * 1000 / u128::from(limit)).unwrap_or(u64::MAX)
            }
            None => 0,
        };
        share(self.limit.usd.map(Usd::micros), committed.usd.micros())
            .max(share(self.limit.tokens, committed.tokens))
    }
}

/// Admits a reservation of `asked` against every limit that applies, or names the first it
/// would cross (narrowest scope first).
pub fn admit(uses: &[LimitUse], asked: Amount) -> Result<(), Exceeded> {
    match uses.iter().find_map(|limit| limit.exceeded_by(asked)) {
        Some(exceeded) => Err(exceeded),
        None => Ok(()),
    }
}

impl Amount {
    /// The difference, saturating at zero.
    pub fn minus(self, other: Amount) -> Amount {
        Amount {
            usd: Usd(self.usd.micros().saturating_sub(other.usd.micros())),
            tokens: self.tokens.saturating_sub(other.tokens),
        }
    }

    /// Whether either unit of `self` is more than the same unit of `other`.
    pub fn exceeds(self, other: Amount) -> bool {
        self.usd > other.usd || self.tokens > other.tokens
    }
}

/// The tokens an attempt is assumed to use at most when this repository has no history for its
/// agent: a long agentic session's input (most of it re-read context) and output.
pub const ENVELOPE_TOKENS: crate::pricing::Tokens = crate::pricing::Tokens {
    input: 200_000,
    cached_input: 0,
    cache_write: 0,
    output: 20_000,
    reasoning: 0,
};

/// The share of a limit at which baton warns, in thousandths.
pub const WARN_PER_MILLE: u64 = 800;

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(usd: Option<u64>, tokens: Option<u64>) -> BudgetLimit {
        BudgetLimit {
            scope: BudgetScope::Project,
            key: "repo".into(),
            period: BudgetPeriod::Day,
            usd: usd.map(Usd),
            tokens,
        }
    }

    fn amount(usd: u64, tokens: u64) -> Amount {
        Amount {
            usd: Usd(usd),
            tokens,
        }
    }

    #[test]
    fn a_reservation_is_admitted_up_to_the_limit_and_not_a_micro_dollar_past_it() {
        let uses = [LimitUse {
            limit: limit(Some(10_000_000), None),
            spent: amount(6_000_000, 0),
            reserved: amount(3_000_000, 0),
        }];
        assert!(admit(&uses, amount(1_000_000, 999_999)).is_ok());
        let refused = admit(&uses, amount(1_000_001, 0)).unwrap_err();
        assert_eq!(refused.unit, BudgetUnit::Dollars);
        assert_eq!(refused.committed, 9_000_000);
        assert_eq!(
            refused.to_string(),
            "the project's daily budget of $10.00 would be exceeded: $9.00 spent or reserved, \
             $1.00 more needed"
        );
    }

    #[test]
    fn a_token_limit_is_checked_on_its_own_and_the_narrowest_scope_is_named_first() {
        let mut run = limit(None, Some(1000));
        run.scope = BudgetScope::Run;
        run.period = BudgetPeriod::Run;
        let uses = [
            LimitUse {
                limit: run,
                spent: amount(0, 900),
                reserved: Amount::default(),
            },
            LimitUse {
                limit: limit(Some(1), None),
                spent: amount(5, 0),
                reserved: Amount::default(),
            },
        ];
        let refused = admit(&uses, amount(0, 200)).unwrap_err();
        assert_eq!(refused.scope, BudgetScope::Run);
        assert_eq!(refused.unit, BudgetUnit::Tokens);
        assert!(
            refused
                .to_string()
                .contains("the run's budget of 1000 tokens")
        );
    }

    #[test]
    fn the_share_used_counts_reservations_and_the_fuller_unit() {
        let use_ = LimitUse {
            limit: limit(Some(1000), Some(100)),
            spent: amount(500, 10),
            reserved: amount(300, 85),
        };
        assert_eq!(use_.used_per_mille(), 950);
        assert!(use_.used_per_mille() >= WARN_PER_MILLE);
    }

    #[test]
    fn windows_start_at_the_utc_day_and_month() {
        let now = "2026-11-29T22:04:48.244Z";
        assert_eq!(
            BudgetPeriod::Day.window_start(now).as_deref(),
            Some("2026-11-29T00:00:00.000Z")
        );
        assert_eq!(
            BudgetPeriod::Month.window_start(now).as_deref(),
            Some("2026-11-01T00:00:00.000Z")
        );
        assert_eq!(BudgetPeriod::Run.window_start(now), None);
        assert!("2026-11-29T00:00:00.000Z" < now, "windows compare as text");
    }

    #[test]
    fn scopes_and_periods_round_trip_their_text() {
        for scope in BudgetScope::ALL {
            assert_eq!(BudgetScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(BudgetScope::parse("team"), None);
        assert_eq!(BudgetPeriod::parse("month"), Some(BudgetPeriod::Month));
    }
}
