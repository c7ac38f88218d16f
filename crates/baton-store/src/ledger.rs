//! The usage ledger: tokens and dollars of every agent attempt.

use crate::{Store, StoreError, now_text};
use baton_core::{CostBasis, Tokens, Usd};
use baton_protocol::{RunId, TaskId};
use sqlx::Row;

/// One attempt's usage, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub run_id: RunId,
    pub task_id: TaskId,
    pub attempt: u32,
    /// The agent that ran (`claude`, `codex`, ...).
    pub agent: String,
    /// The model it reported or was given, if known.
    pub model: Option<String>,
    pub tokens: Tokens,
    /// Dollars; `None` when unknown (never zero for unknown).
    pub cost: Option<Usd>,
    pub basis: CostBasis,
    /// The price table that priced it (for `priced`).
    pub price_version: Option<String>,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(row: &sqlx::sqlite::SqliteRow, column: &str) -> Result<u64, StoreError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("ledger.{column} = {value}")))
}

impl Store {
    /// Records an attempt's usage and settles its reservation, in one transaction. Recording
    /// the same attempt again replaces its row (an attempt's usage settles once; a resumed
    /// engine may write it a second time).
    pub async fn record_usage(&self, entry: &LedgerEntry) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let now = now_text();
        sqlx::query(
            "INSERT INTO ledger (run_id, task_id, attempt, agent, model, input_tokens,
                 cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
                 cost_micros, cost_basis, price_version, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET
                 agent = excluded.agent, model = excluded.model,
                 input_tokens = excluded.input_tokens,
                 cached_input_tokens = excluded.cached_input_tokens,
                 cache_write_tokens = excluded.cache_write_tokens,
                 output_tokens = excluded.output_tokens,
                 reasoning_tokens = excluded.reasoning_tokens,
                 cost_micros = excluded.cost_micros, cost_basis = excluded.cost_basis,
                 price_version = excluded.price_version, recorded_at = excluded.recorded_at",
        )
        .bind(entry.run_id.as_str())
        .bind(entry.task_id.as_str())
        .bind(i64::from(entry.attempt))
        .bind(&entry.agent)
        .bind(entry.model.as_deref())
        .bind(to_i64(entry.tokens.input))
        .bind(to_i64(entry.tokens.cached_input))
        .bind(to_i64(entry.tokens.cache_write))
        .bind(to_i64(entry.tokens.output))
        .bind(to_i64(entry.tokens.reasoning))
        .bind(entry.cost.map(|usd| to_i64(usd.micros())))
        .bind(entry.basis.as_str())
        .bind(entry.price_version.as_deref())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE reservations SET settled_at = ?
             WHERE run_id = ? AND task_id = ? AND attempt = ? AND settled_at IS NULL",
        )
        .bind(&now)
        .bind(entry.run_id.as_str())
        .bind(entry.task_id.as_str())
        .bind(i64::from(entry.attempt))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A run's ledger, by task and attempt.
    pub async fn ledger(&self, run: &RunId) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM ledger WHERE run_id = ? ORDER BY task_id, attempt")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// A run's ledger with the time each row was recorded, by task and attempt.
    pub async fn ledger_with_times(
        &self,
        run: &RunId,
    ) -> Result<Vec<(String, LedgerEntry)>, StoreError> {
        let rows = sqlx::query("SELECT * FROM ledger WHERE run_id = ? ORDER BY task_id, attempt")
            .bind(run.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("recorded_at")?, entry_from_row(row)?)))
            .collect()
    }

    /// Every ledger row recorded at or after `since` (RFC 3339 UTC), with its time, oldest
    /// first (`baton budget history`).
    pub async fn ledger_since(
        &self,
        since: &str,
    ) -> Result<Vec<(String, LedgerEntry)>, StoreError> {
        let rows = sqlx::query("SELECT * FROM ledger WHERE recorded_at >= ? ORDER BY recorded_at")
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("recorded_at")?, entry_from_row(row)?)))
            .collect()
    }
}

fn entry_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<LedgerEntry, StoreError> {
    let basis: String = row.try_get("cost_basis")?;
    let cost: Option<i64> = row.try_get("cost_micros")?;
    let attempt: i64 = row.try_get("attempt")?;
    Ok(LedgerEntry {
        run_id: RunId::new(row.try_get::<String, _>("run_id")?),
        task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
        attempt: u32::try_from(attempt)
            .map_err(|_| StoreError::Corrupt(format!("ledger.attempt = {attempt}")))?,
        agent: row.try_get("agent")?,
        model: row.try_get("model")?,
        tokens: Tokens {
            input: to_u64(row, "input_tokens")?,
            cached_input: to_u64(row, "cached_input_tokens")?,
            cache_write: to_u64(row, "cache_write_tokens")?,
            output: to_u64(row, "output_tokens")?,
            reasoning: to_u64(row, "reasoning_tokens")?,
        },
        cost: cost
            .map(|micros| {
                u64::try_from(micros)
                    .map(Usd)
                    .map_err(|_| StoreError::Corrupt(format!("ledger.cost_micros = {micros}")))
            })
            .transpose()?,
        basis: CostBasis::parse(&basis)
            .ok_or_else(|| StoreError::Corrupt(format!("ledger.cost_basis = {basis}")))?,
        price_version: row.try_get("price_version")?,
    })
}
