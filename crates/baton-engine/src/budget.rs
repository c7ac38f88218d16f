//! Budgets as the frontends see them: set a limit, read what is spent and reserved against
//! each, and the spending history per day, agent and model.

use crate::{Engine, EngineError};
use baton_core::{BudgetLimit, BudgetScope, LimitUse, Tokens, Usd};
use baton_store::GLOBAL_KEY;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The key of the project scope for the repository at `root`: its path, as runs record it.
pub fn project_key(root: &Path) -> String {
    root.to_string_lossy().into_owned()
}

/// One line of `baton budget history`: a day, an agent and a model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryLine {
    /// The UTC day, `2026-11-29`.
    pub day: String,
    pub agent: String,
    /// The model, or `-` when none was known.
    pub model: String,
    pub attempts: u64,
    pub tokens: Tokens,
    /// Dollars of the attempts whose cost is known.
    pub cost: Usd,
    /// Attempts whose cost is unknown (not counted in `cost`).
    pub unknown_cost_attempts: u64,
}

impl Engine {
    /// Sets or replaces a limit (a limit with neither dollars nor tokens removes it).
    pub async fn set_budget(&self, limit: &BudgetLimit) -> Result<(), EngineError> {
        self.store().set_budget(limit).await?;
        Ok(())
    }

    /// The rate and usage limits agents reported that have not lifted yet.
    pub async fn agent_limits(&self) -> Result<Vec<baton_store::AgentLimit>, EngineError> {
        Ok(self.store().active_agent_limits().await?)
    }

    /// Sets a run's own limit (`baton run --budget`, `baton resume --budget`): a unit not
    /// given keeps its current limit.
    pub async fn set_run_budget(
        &self,
        run: &baton_protocol::RunId,
        usd: Option<Usd>,
        tokens: Option<u64>,
    ) -> Result<(), EngineError> {
        let current = self
            .budget_limits(BudgetScope::Run, run.as_str())
            .await?
            .into_iter()
            .next();
        let limit = BudgetLimit {
            scope: BudgetScope::Run,
            key: run.as_str().to_owned(),
            period: baton_core::BudgetPeriod::Run,
            usd: usd.or(current.as_ref().and_then(|l| l.usd)),
            tokens: tokens.or(current.as_ref().and_then(|l| l.tokens)),
        };
        self.set_budget(&limit).await
    }

    /// The limits of one scope and key (both periods).
    pub async fn budget_limits(
        &self,
        scope: BudgetScope,
        key: &str,
    ) -> Result<Vec<BudgetLimit>, EngineError> {
        let run = (scope == BudgetScope::Run).then(|| baton_protocol::RunId::new(key));
        let limits = self.store().budgets_for(run.as_ref(), key).await?;
        Ok(limits
            .into_iter()
            .filter(|limit| limit.scope == scope && limit.key == key)
            .collect())
    }

    /// Every project (for the repository at `repo`, when given) and global limit, with what is
    /// spent and reserved against it now.
    pub async fn budget_status(&self, repo: Option<&Path>) -> Result<Vec<LimitUse>, EngineError> {
        let key = repo
            .map(project_key)
            .unwrap_or_else(|| GLOBAL_KEY.to_owned());
        Ok(self.store().limit_uses(None, &key).await?)
    }

    /// Spending of the last `days` days (today included), per day, agent and model.
    pub async fn budget_history(&self, days: u32) -> Result<Vec<HistoryLine>, EngineError> {
        let since =
            chrono::Utc::now().date_naive() - chrono::Days::new(u64::from(days.saturating_sub(1)));
        let since = format!("{since}T00:00:00.000Z");
        let mut lines: BTreeMap<(String, String, String), HistoryLine> = BTreeMap::new();
        for (at, entry) in self.store().ledger_since(&since).await? {
            let day = at.get(..10).unwrap_or(&at).to_owned();
            let model = entry.model.clone().unwrap_or_else(|| "-".to_owned());
            let line = lines
                .entry((day.clone(), entry.agent.clone(), model.clone()))
                .or_insert_with(|| HistoryLine {
                    day,
                    agent: entry.agent.clone(),
                    model,
                    ..HistoryLine::default()
                });
            line.attempts += 1;
            line.tokens = line.tokens.add(&entry.tokens);
            match entry.cost {
                Some(cost) => line.cost = line.cost.saturating_add(cost),
                None => line.unknown_cost_attempts += 1,
            }
        }
        Ok(lines.into_values().collect())
    }
}

/// One task's estimated cost per attempt, for `baton run --dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskEstimate {
    pub task: String,
    /// The agent that would run it (`exec` for a shell task; `None` when no agent can).
    pub agent: Option<String>,
    /// The model its estimate is priced at, when one is.
    pub model: Option<String>,
    /// Dollars per attempt; `None` when unknown (never 0 for unknown).
    pub usd: Option<Usd>,
    /// Tokens per attempt.
    pub tokens: u64,
    /// Where the figure comes from, in words.
    pub basis: String,
    /// The most attempts the task may take (1 + retries).
    pub attempts: u32,
}

/// The estimated cost of each task of a checked plan: this repository's history per agent
/// (from `home`'s database, when there is one; it is never created for this), else the price
/// table for a long session of the task's model, else unknown.
pub async fn estimate_plan(
    home: &crate::Home,
    checked: &crate::ValidatedPlan,
) -> Result<Vec<TaskEstimate>, EngineError> {
    let config = crate::Config::load(checked.git.root())?;
    let prices =
        baton_agents::prices::price_table(baton_agents::prices::user_prices_path().as_deref())
            .map_err(|error| EngineError::Config(error.to_string()))?;
    let store = if home.database().exists() {
        Some(baton_store::Store::open(&home.database()).await?)
    } else {
        None
    };
    let repo = project_key(checked.git.root());
    let mut estimates = Vec::new();
    for task in &checked.plan.tasks {
        let attempts = task.retries + 1;
        if !task.agent.is_ai() {
            estimates.push(TaskEstimate {
                task: task.id.to_string(),
                agent: Some("exec".into()),
                model: None,
                usd: Some(Usd::ZERO),
                tokens: 0,
                basis: "a shell command: no model".into(),
                attempts,
            });
            continue;
        }
        let chosen = crate::routing::choose_adapter(
            task,
            &crate::routing::Avoid::default(),
            &config.agents,
            &crate::routing::installed,
        );
        let adapter = match chosen {
            Ok(crate::routing::Choice::Run(adapter) | crate::routing::Choice::Wait(adapter)) => {
                adapter
            }
            Err(why) => {
                estimates.push(TaskEstimate {
                    task: task.id.to_string(),
                    agent: None,
                    model: None,
                    usd: None,
                    tokens: 0,
                    basis: why,
                    attempts,
                });
                continue;
            }
        };
        let model = task.model.clone().or_else(|| {
            config
                .agents
                .get(adapter.name())
                .and_then(|agent| agent.model.clone())
        });
        let estimate = crate::budget_guard::estimate_for(
            store.as_ref(),
            &repo,
            &prices,
            adapter.name(),
            model.as_deref(),
            task.max_cost,
        )
        .await?;
        let priced_model = match &estimate.basis {
            crate::budget_guard::EstimateBasis::Prices { model } => Some(model.clone()),
            _ => model,
        };
        estimates.push(TaskEstimate {
            task: task.id.to_string(),
            agent: Some(adapter.name().to_owned()),
            model: priced_model,
            usd: (estimate.basis != crate::budget_guard::EstimateBasis::Unknown)
                .then_some(estimate.amount.usd),
            tokens: estimate.amount.tokens,
            basis: crate::budget_guard::describe_basis(&estimate.basis),
            attempts,
        });
    }
    Ok(estimates)
}
