//! `baton budget set|status|history`.

use super::{open_engine, print_json, repo_dir};
use crate::cli::BudgetCommand;
use crate::{Exit, exit, style};
use baton_core::{BudgetLimit, BudgetPeriod, BudgetScope, LimitUse, Usd};
use baton_engine::budget::project_key;
use std::path::PathBuf;

/// `baton budget ...`.
pub async fn budget(
    repo: &Option<PathBuf>,
    command: BudgetCommand,
    json: bool,
) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    match command {
        BudgetCommand::Set {
            scope,
            daily,
            monthly,
            daily_tokens,
            monthly_tokens,
            clear,
        } => {
            if !clear
                && daily.is_none()
                && monthly.is_none()
                && daily_tokens.is_none()
                && monthly_tokens.is_none()
            {
                return Err(Exit {
                    code: exit::BAD_INPUT,
                    error: anyhow::anyhow!(
                        "say what to limit: --daily USD, --monthly USD, --daily-tokens N or \
                         --monthly-tokens N (or --clear to remove the {} limits)",
                        scope.as_str()
                    ),
                });
            }
            let key = scope_key(repo, scope).await?;
            let current = engine.budget_limits(scope, &key).await?;
            let mut set = Vec::new();
            for (period, usd, tokens) in [
                (BudgetPeriod::Day, daily, daily_tokens),
                (BudgetPeriod::Month, monthly, monthly_tokens),
            ] {
                let before = current.iter().find(|l| l.period == period);
                let limit = BudgetLimit {
                    scope,
                    key: key.clone(),
                    period,
                    usd: if clear {
                        None
                    } else {
                        usd.or(before.and_then(|l| l.usd))
                    },
                    tokens: if clear {
                        None
                    } else {
                        tokens.or(before.and_then(|l| l.tokens))
                    },
                };
                engine.set_budget(&limit).await?;
                set.push(limit);
            }
            if json {
                print_json(&set)?;
            } else {
                for limit in &set {
                    println!("{}", describe_limit(limit));
                }
            }
            Ok(exit::OK)
        }
        BudgetCommand::Status => {
            let root = baton_git::Git::discover(&repo_dir(repo))
                .await
                .ok()
                .map(|git| git.root().to_path_buf());
            let uses = engine.budget_status(root.as_deref()).await?;
            if json {
                print_json(&uses)?;
                return Ok(exit::OK);
            }
            if uses.is_empty() {
                println!(
                    "No budget is set. `baton budget set --scope project --daily 20` limits this \
                     repository; `baton run --budget 5` limits one run."
                );
                return Ok(exit::OK);
            }
            println!(
                "{:<8} {:<6} {:>12} {:>12} {:>12} {:>12} {:>5}",
                "SCOPE", "PERIOD", "LIMIT", "SPENT", "RESERVED", "LEFT", "USED"
            );
            for used in &uses {
                print_use(used);
            }
            Ok(exit::OK)
        }
        BudgetCommand::History { days } => {
            let lines = engine.budget_history(days).await?;
            if json {
                print_json(&lines)?;
                return Ok(exit::OK);
            }
            if lines.is_empty() {
                println!("Nothing was spent in the last {days} days.");
                return Ok(exit::OK);
            }
            println!(
                "{:<10} {:<9} {:<26} {:>8} {:>12} {:>10}",
                "DAY", "AGENT", "MODEL", "ATTEMPTS", "TOKENS", "COST"
            );
            let mut total = Usd::ZERO;
            let mut unknown = 0;
            for line in &lines {
                let cost = if line.unknown_cost_attempts > 0 {
                    format!("{}+?", line.cost)
                } else {
                    line.cost.to_string()
                };
                println!(
                    "{:<10} {:<9} {:<26} {:>8} {:>12} {:>10}",
                    line.day,
                    line.agent,
                    line.model,
                    line.attempts,
                    line.tokens.total(),
                    cost
                );
                total = total.saturating_add(line.cost);
                unknown += line.unknown_cost_attempts;
            }
            println!("\nTotal: {total}");
            if unknown > 0 {
                println!(
                    "{}",
                    style::warn(&format!(
                        "{unknown} attempt(s) of unknown cost are not in the total (`+?`)"
                    ))
                );
            }
            Ok(exit::OK)
        }
    }
}

/// The key of `scope` here: the repository's path for a project, `*` for global.
async fn scope_key(repo: &Option<PathBuf>, scope: BudgetScope) -> Result<String, Exit> {
    match scope {
        BudgetScope::Project => {
            let git = baton_git::Git::discover(&repo_dir(repo))
                .await
                .map_err(|error| Exit {
                    code: exit::BAD_INPUT,
                    error: anyhow::anyhow!(
                        "--scope project limits the repository of the current directory (or \
                         --repo), but {error}"
                    ),
                })?;
            Ok(project_key(git.root()))
        }
        BudgetScope::Global | BudgetScope::Run => Ok(baton_store::GLOBAL_KEY.to_owned()),
    }
}

fn describe_limit(limit: &BudgetLimit) -> String {
    let period = match limit.period {
        BudgetPeriod::Day => "daily",
        BudgetPeriod::Month => "monthly",
        BudgetPeriod::Run => "run",
    };
    let mut parts = Vec::new();
    if let Some(usd) = limit.usd {
        parts.push(usd.to_string());
    }
    if let Some(tokens) = limit.tokens {
        parts.push(format!("{tokens} tokens"));
    }
    let what = if parts.is_empty() {
        "no limit".to_owned()
    } else {
        parts.join(" and ")
    };
    format!("{} {period}: {what}", limit.scope.as_str())
}

fn print_use(used: &LimitUse) {
    let committed = used.committed();
    let row = |limit: String, spent: String, reserved: String, left: String| {
        let share = used.used_per_mille();
        let pct = format!("{}%", share / 10);
        let pct = if share >= 1000 {
            style::warn(&pct)
        } else {
            pct
        };
        println!(
            "{:<8} {:<6} {:>12} {:>12} {:>12} {:>12} {:>5}",
            used.limit.scope.as_str(),
            used.limit.period.as_str(),
            limit,
            spent,
            reserved,
            left,
            pct
        );
    };
    if let Some(limit) = used.limit.usd {
        row(
            limit.to_string(),
            used.spent.usd.to_string(),
            used.reserved.usd.to_string(),
            Usd(limit.micros().saturating_sub(committed.usd.micros())).to_string(),
        );
    }
    if let Some(limit) = used.limit.tokens {
        row(
            format!("{limit} tok"),
            format!("{} tok", used.spent.tokens),
            format!("{} tok", used.reserved.tokens),
            format!("{} tok", limit.saturating_sub(committed.tokens)),
        );
    }
}
