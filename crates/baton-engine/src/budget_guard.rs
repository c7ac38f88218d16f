//! The budget guard of a run being driven: each AI attempt reserves its estimated maximum
//! against every limit that applies before its agent starts; an attempt that cannot reserve
//! does not start and the run pauses (`budget_exceeded`). While agents run, their streamed usage
//! is priced as it arrives; one that spends past its reservation is checked against the limits,
//! and when a limit is crossed every running agent of the run is stopped and the run pauses.
//! Warnings at 80% of any limit. See `docs/budgets.md`.

use crate::EngineError;
use crate::context::RunCtx;
use baton_agents::AgentAdapter;
use baton_core::{Amount, ENVELOPE_TOKENS, Exceeded, LimitUse, Usd, WARN_PER_MILLE};
use baton_protocol::{EventBody, TaskId};

/// How many of this repository's recent attempts of an agent an estimate looks at.
const HISTORY_ATTEMPTS: u32 = 20;
/// How many known costs an estimate needs before it trusts the history over the price table.
const HISTORY_MIN: usize = 3;

/// What an attempt is expected to cost at most, and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Estimate {
    pub amount: Amount,
    pub basis: EstimateBasis,
}

/// Where an estimate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EstimateBasis {
    /// The task's own `max_cost`.
    MaxCost,
    /// The most this repository's recent attempts of the agent cost.
    History { attempts: usize },
    /// The price table, for a long session of the model (see [`ENVELOPE_TOKENS`]).
    Prices { model: String },
    /// No history and no price: tokens only; dollars are guarded by the live check alone.
    Unknown,
}

/// The model an agent runs when neither the task nor the configuration names one, for
/// estimates only (the client chooses its own default).
fn usual_model(agent: &str) -> Option<&'static str> {
    match agent {
        "claude" => Some("claude-sonnet-4-5"),
        "codex" => Some("gpt-5"),
        "gemini" => Some("gemini-2.5-pro"),
        _ => None,
    }
}

/// A running agent's spending, priced as its usage arrives.
pub(crate) struct LiveSpend {
    /// What the attempt reserved.
    pub reserved: Amount,
    /// The model its tokens are priced at when the client reports no dollars.
    pub model: Option<String>,
}

/// The estimate of an attempt of `agent` running `model` in the repository `repo` for a task
/// whose `max_cost` is `max_cost`: that, else its history in `store` (when there is a store),
/// else `prices`.
pub(crate) async fn estimate_for(
    store: Option<&baton_store::Store>,
    repo: &str,
    prices: &baton_core::PriceTable,
    agent: &str,
    model: Option<&str>,
    max_cost: Option<Usd>,
) -> Result<Estimate, EngineError> {
    if let Some(usd) = max_cost {
        return Ok(Estimate {
            amount: Amount {
                usd,
                tokens: ENVELOPE_TOKENS.total(),
            },
            basis: EstimateBasis::MaxCost,
        });
    }
    let history = match store {
        Some(store) => store.agent_history(repo, agent, HISTORY_ATTEMPTS).await?,
        None => Vec::new(),
    };
    let known: Vec<(Usd, u64)> = history
        .iter()
        .filter_map(|(cost, tokens)| cost.map(|c| (c, *tokens)))
        .collect();
    if known.len() >= HISTORY_MIN {
        let usd = known.iter().map(|(c, _)| *c).max().unwrap_or(Usd::ZERO);
        let tokens = known.iter().map(|(_, t)| *t).max().unwrap_or(0);
        return Ok(Estimate {
            amount: Amount { usd, tokens },
            basis: EstimateBasis::History {
                attempts: known.len(),
            },
        });
    }
    let model = model.or_else(|| usual_model(agent));
    let tokens = ENVELOPE_TOKENS.total();
    if let Some(model) = model
        && let Some(usd) = prices.cost(model, &ENVELOPE_TOKENS)
    {
        return Ok(Estimate {
            amount: Amount { usd, tokens },
            basis: EstimateBasis::Prices {
                model: model.to_owned(),
            },
        });
    }
    Ok(Estimate {
        amount: Amount {
            usd: Usd::ZERO,
            tokens,
        },
        basis: EstimateBasis::Unknown,
    })
}

/// Whether a person approved `spec`'s cost (the task itself, or every task of the run).
fn approved(spec: &baton_core::TaskSpec, approvals: &[baton_store::Approval]) -> bool {
    approvals.iter().any(|approval| {
        approval.approved
            && (approval.task_id == spec.id || approval.task_id.as_str() == baton_store::EVERY_TASK)
    })
}

impl RunCtx {
    /// The estimate of an attempt of `spec` on `adapter`.
    pub(crate) async fn estimate(
        &self,
        spec: &baton_core::TaskSpec,
        adapter: &dyn AgentAdapter,
    ) -> Result<Estimate, EngineError> {
        let model = crate::agent_run::model_of(self, adapter.name(), spec);
        estimate_for(
            Some(&self.store),
            &self.run.repo,
            &self.prices,
            adapter.name(),
            model.as_deref(),
            spec.max_cost,
        )
        .await
    }

    /// Whether `spec`'s next attempt on `adapter` must wait for a person: its estimate is past
    /// the approval threshold and no approval covers it. Returns the request's words.
    pub(crate) async fn approval_needed(
        &self,
        spec: &baton_core::TaskSpec,
        adapter: &dyn AgentAdapter,
        approvals: &[baton_store::Approval],
    ) -> Result<Option<(Estimate, Usd)>, EngineError> {
        let Some(threshold) = self.approval_threshold else {
            return Ok(None);
        };
        if approved(spec, approvals) {
            return Ok(None);
        }
        let estimate = self.estimate(spec, adapter).await?;
        // An unknown cost cannot be judged against a dollar threshold: it does not wait.
        if estimate.basis == EstimateBasis::Unknown || estimate.amount.usd <= threshold {
            return Ok(None);
        }
        Ok(Some((estimate, threshold)))
    }

    /// Whether the council of `members` on `spec` must wait for a person: the estimates of
    /// its candidates together are past the approval threshold and no approval covers the
    /// task. Returns the total (`None` when a candidate's cost is unknown: it cannot be judged
    /// against dollars, as for an attempt).
    pub(crate) async fn council_approval_needed(
        &self,
        spec: &baton_core::TaskSpec,
        members: &[&'static dyn AgentAdapter],
        approvals: &[baton_store::Approval],
    ) -> Result<Option<(Usd, Usd)>, EngineError> {
        let Some(threshold) = self.approval_threshold else {
            return Ok(None);
        };
        if approved(spec, approvals) {
            return Ok(None);
        }
        let mut total = Usd::ZERO;
        for member in members {
            let estimate = self.estimate(spec, *member).await?;
            if estimate.basis == EstimateBasis::Unknown {
                return Ok(None);
            }
            total = total.saturating_add(estimate.amount.usd);
        }
        Ok((total > threshold).then_some((total, threshold)))
    }

    /// Reserves `estimate` for attempt `number` of `task`. Returns the dollars left for it under
    /// the tightest dollar limit (what Claude Code's `--max-budget-usd` gets), or, when a limit
    /// would be crossed, pauses the run and returns why.
    pub(crate) async fn reserve_attempt(
        &self,
        task: &TaskId,
        number: u32,
        estimate: &Estimate,
    ) -> Result<Result<Option<Usd>, String>, EngineError> {
        let reserved = self
            .store
            .reserve(self.id(), task, number, &self.run.repo, estimate.amount)
            .await?;
        match reserved {
            Ok(uses) => {
                self.warn_uses(&uses).await?;
                let left = uses
                    .iter()
                    .filter_map(|used| {
                        let limit = used.limit.usd?;
                        let others = used.committed().minus(estimate.amount);
                        Some(Usd(limit.micros().saturating_sub(others.usd.micros())))
                    })
                    .min();
                Ok(Ok(left))
            }
            Err(exceeded) => {
                let why = format!(
                    "attempt {number} of task {task} did not start: {exceeded} (estimate {})",
                    describe_estimate(estimate)
                );
                self.pause_for_budget(&exceeded, &why, false).await?;
                Ok(Err(why))
            }
        }
    }

    /// Checks a running agent that spent `live`, past its reservation, against the limits;
    /// when one is crossed, stops every running agent of the run and pauses it.
    pub(crate) async fn check_overrun(
        &self,
        task: &TaskId,
        number: u32,
        spend: &LiveSpend,
        live: Amount,
    ) -> Result<(), EngineError> {
        if self.budget_paused() {
            return Ok(());
        }
        let uses = self
            .store
            .limit_uses(Some(self.id()), &self.run.repo)
            .await?;
        if let Some(exceeded) = uses
            .iter()
            .find_map(|used| used.exceeded_with(spend.reserved, live))
        {
            let why = format!(
                "task {task} attempt {number} spent {} and {} tokens, past its reservation: {}",
                live.usd, live.tokens, exceeded
            );
            self.pause_for_budget(&exceeded, &why, true).await?;
            return Ok(());
        }
        let now: Vec<LimitUse> = uses
            .into_iter()
            .map(|mut used| {
                used.reserved = used.reserved.minus(spend.reserved).plus(live);
                used
            })
            .collect();
        self.warn_uses(&now).await
    }

    /// Whether a budget paused the run (no attempt starts any more).
    pub(crate) fn budget_paused(&self) -> bool {
        self.budget_pause
            .lock()
            .map(|p| p.is_some())
            .unwrap_or(true)
    }

    /// Why the run paused for its budget.
    pub(crate) fn budget_pause_reason(&self) -> Option<String> {
        self.budget_pause.lock().ok().and_then(|p| p.clone())
    }

    /// Pauses the run for `exceeded` (once: the first reason stays), with a `budget.exceeded`
    /// event; with `stop_agents`, every agent of the run still running is stopped.
    async fn pause_for_budget(
        &self,
        exceeded: &Exceeded,
        why: &str,
        stop_agents: bool,
    ) -> Result<(), EngineError> {
        let first = self
            .budget_pause
            .lock()
            .map(|mut pause| {
                let first = pause.is_none();
                if first {
                    *pause = Some(why.to_owned());
                }
                first
            })
            .unwrap_or(false);
        if !first {
            return Ok(());
        }
        let event = self
            .store
            .append_event(
                self.id(),
                None,
                EventBody::BudgetExceeded {
                    scope: exceeded.scope.as_str().to_owned(),
                    period: exceeded.period.as_str().to_owned(),
                    unit: match exceeded.unit {
                        baton_core::BudgetUnit::Dollars => "dollars".to_owned(),
                        baton_core::BudgetUnit::Tokens => "tokens".to_owned(),
                    },
                    limit: exceeded.limit,
                    committed: exceeded.committed,
                    message: why.to_owned(),
                },
            )
            .await?;
        self.emit([event]);
        if stop_agents {
            self.stop_running_agents();
        }
        Ok(())
    }

    /// One `budget.warning` per limit and run, once it is 80% committed.
    async fn warn_uses(&self, uses: &[LimitUse]) -> Result<(), EngineError> {
        for used in uses {
            let share = used.used_per_mille();
            if share < WARN_PER_MILLE {
                continue;
            }
            let key = format!(
                "{}/{}",
                used.limit.scope.as_str(),
                used.limit.period.as_str()
            );
            let first = self
                .budget_warned
                .lock()
                .map(|mut warned| warned.insert(key))
                .unwrap_or(false);
            if !first {
                continue;
            }
            let event = self
                .store
                .append_event(
                    self.id(),
                    None,
                    EventBody::BudgetWarning {
                        scope: used.limit.scope.as_str().to_owned(),
                        period: used.limit.period.as_str().to_owned(),
                        per_mille: share,
                        message: format!(
                            "{} {} budget {}% committed: {} spent, {} reserved",
                            used.limit.scope.as_str(),
                            used.limit.period.as_str(),
                            share / 10,
                            describe_amount(used.spent),
                            describe_amount(used.reserved)
                        ),
                    },
                )
                .await?;
            self.emit([event]);
        }
        Ok(())
    }
}

fn describe_amount(amount: Amount) -> String {
    format!("{} and {} tokens", amount.usd, amount.tokens)
}

/// An estimate in words, with its basis.
pub(crate) fn describe_estimate(estimate: &Estimate) -> String {
    format!(
        "{}, {}",
        describe_amount(estimate.amount),
        describe_basis(&estimate.basis)
    )
}

/// Where an estimate comes from, in words.
pub(crate) fn describe_basis(basis: &EstimateBasis) -> String {
    match basis {
        EstimateBasis::MaxCost => "the task's max_cost".to_owned(),
        EstimateBasis::History { attempts } => {
            format!("the most of this repository's last {attempts} attempts of the agent")
        }
        EstimateBasis::Prices { model } => format!("{model}'s prices for a long session"),
        EstimateBasis::Unknown => "no price known: tokens only".to_owned(),
    }
}
