//! Budgets and reservations. A budget row is a ceiling for one scope and period; spending is
//! read from the ledger; a reservation holds a running attempt's estimated maximum until its
//! usage is recorded (the ledger write settles it in the same transaction).

use crate::{Store, StoreError, now_text};
use baton_core::{Amount, BudgetLimit, BudgetPeriod, BudgetScope, Exceeded, LimitUse, Usd, admit};
use baton_protocol::{RunId, TaskId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// The key of the global scope.
pub const GLOBAL_KEY: &str = "*";

/// Tokens of every kind, as the ledger counts them for budgets (reasoning is part of output).
const LEDGER_TOKENS: &str =
    "COALESCE(SUM(input_tokens + cached_input_tokens + cache_write_tokens + output_tokens), 0)";

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(row: &SqliteRow, column: &str) -> Result<u64, StoreError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} = {value}")))
}

fn opt_u64(row: &SqliteRow, column: &str) -> Result<Option<u64>, StoreError> {
    let value: Option<i64> = row.try_get(column)?;
    value
        .map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} = {v}"))))
        .transpose()
}

fn limit_from_row(row: &SqliteRow) -> Result<BudgetLimit, StoreError> {
    let scope: String = row.try_get("scope")?;
    let period: String = row.try_get("period")?;
    Ok(BudgetLimit {
        scope: BudgetScope::parse(&scope)
            .ok_or_else(|| StoreError::Corrupt(format!("budget scope {scope:?}")))?,
        key: row.try_get("scope_key")?,
        period: BudgetPeriod::parse(&period)
            .ok_or_else(|| StoreError::Corrupt(format!("budget period {period:?}")))?,
        usd: opt_u64(row, "limit_micros")?.map(Usd),
        tokens: opt_u64(row, "limit_tokens")?,
    })
}

/// One open reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub run_id: RunId,
    pub task_id: TaskId,
    pub attempt: u32,
    pub amount: Amount,
}

impl Store {
    /// Sets (or replaces) a limit; a limit with neither dollars nor tokens removes it.
    pub async fn set_budget(&self, limit: &BudgetLimit) -> Result<(), StoreError> {
        if limit.usd.is_none() && limit.tokens.is_none() {
            sqlx::query("DELETE FROM budgets WHERE scope = ? AND scope_key = ? AND period = ?")
                .bind(limit.scope.as_str())
                .bind(&limit.key)
                .bind(limit.period.as_str())
                .execute(&self.writer)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO budgets (scope, scope_key, period, limit_micros, limit_tokens, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (scope, scope_key, period) DO UPDATE SET
                 limit_micros = excluded.limit_micros, limit_tokens = excluded.limit_tokens,
                 updated_at = excluded.updated_at",
        )
        .bind(limit.scope.as_str())
        .bind(&limit.key)
        .bind(limit.period.as_str())
        .bind(limit.usd.map(|usd| to_i64(usd.micros())))
        .bind(limit.tokens.map(to_i64))
        .bind(now_text())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every limit that applies to a run of `repo` (with the run's own when `run` is given).
    pub async fn budgets_for(
        &self,
        run: Option<&RunId>,
        repo: &str,
    ) -> Result<Vec<BudgetLimit>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM budgets
             WHERE (scope = 'run' AND scope_key = ?) OR (scope = 'project' AND scope_key = ?)
                OR (scope = 'global' AND scope_key = ?)
             ORDER BY CASE scope WHEN 'run' THEN 0 WHEN 'project' THEN 1 ELSE 2 END,
                      CASE period WHEN 'run' THEN 0 WHEN 'day' THEN 1 ELSE 2 END",
        )
        .bind(run.map(RunId::as_str).unwrap_or(""))
        .bind(repo)
        .bind(GLOBAL_KEY)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(limit_from_row).collect()
    }

    /// Every limit that applies to a run of `repo`, with what is spent and reserved against it
    /// now.
    pub async fn limit_uses(
        &self,
        run: Option<&RunId>,
        repo: &str,
    ) -> Result<Vec<LimitUse>, StoreError> {
        let limits = self.budgets_for(run, repo).await?;
        let mut conn = self.pool.acquire().await?;
        uses_of(&mut conn, limits, &now_text()).await
    }

    /// Reserves `asked` for attempt `attempt` of `task` against every limit that applies, in one
    /// write transaction (so concurrent reservations, from this process or another, never
    /// together pass a limit). Returns the limits' use after the reservation, or the limit it
    /// would cross (nothing is reserved then).
    pub async fn reserve(
        &self,
        run: &RunId,
        task: &TaskId,
        attempt: u32,
        repo: &str,
        asked: Amount,
    ) -> Result<Result<Vec<LimitUse>, Exceeded>, StoreError> {
        let limits = self.budgets_for(Some(run), repo).await?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_text();
        let uses = uses_of(&mut tx, limits, &now).await?;
        if let Err(exceeded) = admit(&uses, asked) {
            tx.rollback().await?;
            return Ok(Err(exceeded));
        }
        sqlx::query(
            "INSERT INTO reservations (run_id, task_id, attempt, repo, amount_micros, amount_tokens,
                 created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET
                 amount_micros = excluded.amount_micros, amount_tokens = excluded.amount_tokens,
                 settled_at = NULL",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(attempt))
        .bind(repo)
        .bind(to_i64(asked.usd.micros()))
        .bind(to_i64(asked.tokens))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(uses
            .into_iter()
            .map(|mut used| {
                used.reserved = used.reserved.plus(asked);
                used
            })
            .collect()))
    }

    /// Settles a reservation without a ledger row (an attempt that never started its agent).
    pub async fn release_reservation(
        &self,
        run: &RunId,
        task: &TaskId,
        attempt: u32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reservations SET settled_at = ?
             WHERE run_id = ? AND task_id = ? AND attempt = ? AND settled_at IS NULL",
        )
        .bind(now_text())
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(i64::from(attempt))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The cost (`None`: unknown) and tokens of the last `limit` attempts `agent` made in runs
    /// of `repo`, newest first: the history an estimate starts from.
    pub async fn agent_history(
        &self,
        repo: &str,
        agent: &str,
        limit: u32,
    ) -> Result<Vec<(Option<Usd>, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT cost_micros,
                    input_tokens + cached_input_tokens + cache_write_tokens + output_tokens AS tokens
             FROM ledger WHERE agent = ? AND run_id IN (SELECT id FROM runs WHERE repo = ?)
             ORDER BY recorded_at DESC LIMIT ?",
        )
        .bind(agent)
        .bind(repo)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    opt_u64(row, "cost_micros")?.map(Usd),
                    to_u64(row, "tokens")?,
                ))
            })
            .collect()
    }

    /// Settles every open reservation of `run` (a resumed run: none of its attempts runs any
    /// more, and those whose usage was recorded were settled with it). Returns how many.
    pub async fn release_open_reservations(&self, run: &RunId) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE reservations SET settled_at = ? WHERE run_id = ? AND settled_at IS NULL",
        )
        .bind(now_text())
        .bind(run.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// The reservations of `run` still open, oldest first.
    pub async fn open_reservations(&self, run: &RunId) -> Result<Vec<Reservation>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM reservations WHERE run_id = ? AND settled_at IS NULL
             ORDER BY created_at, task_id, attempt",
        )
        .bind(run.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Reservation {
                    run_id: RunId::new(row.try_get::<String, _>("run_id")?),
                    task_id: TaskId::new(row.try_get::<String, _>("task_id")?),
                    attempt: u32::try_from(to_u64(row, "attempt")?)
                        .map_err(|_| StoreError::Corrupt("reservation attempt".into()))?,
                    amount: Amount {
                        usd: Usd(to_u64(row, "amount_micros")?),
                        tokens: to_u64(row, "amount_tokens")?,
                    },
                })
            })
            .collect()
    }
}

/// What is spent and reserved against each of `limits` at `now`. Spending counts in the
/// limit's window; an open reservation counts whenever it was made (its usage will be recorded
/// now).
async fn uses_of(
    conn: &mut sqlx::SqliteConnection,
    limits: Vec<BudgetLimit>,
    now: &str,
) -> Result<Vec<LimitUse>, StoreError> {
    let mut uses = Vec::new();
    for limit in limits {
        let since = limit.period.window_start(now).unwrap_or_default();
        // Which ledger rows and reservations a scope counts; the global one counts them all.
        let (ledger_rows, reservations, key) = match limit.scope {
            BudgetScope::Run => ("run_id = ?", "run_id = ?", Some(&limit.key)),
            BudgetScope::Project => (
                "run_id IN (SELECT id FROM runs WHERE repo = ?)",
                "repo = ?",
                Some(&limit.key),
            ),
            BudgetScope::Global => ("1 = 1", "1 = 1", None),
        };
        let spent_sql = format!(
            "SELECT COALESCE(SUM(cost_micros), 0) AS usd, {LEDGER_TOKENS} AS tokens
             FROM ledger WHERE {ledger_rows} AND recorded_at >= ?"
        );
        let reserved_sql = format!(
            "SELECT COALESCE(SUM(amount_micros), 0) AS usd, COALESCE(SUM(amount_tokens), 0) AS tokens
             FROM reservations WHERE {reservations} AND settled_at IS NULL"
        );
        let mut amounts = Vec::new();
        for (sql, windowed) in [(spent_sql, true), (reserved_sql, false)] {
            let mut query = sqlx::query(&sql);
            if let Some(key) = key {
                query = query.bind(key);
            }
            if windowed {
                query = query.bind(&since);
            }
            let row = query.fetch_one(&mut *conn).await?;
            amounts.push(Amount {
                usd: Usd(to_u64(&row, "usd")?),
                tokens: to_u64(&row, "tokens")?,
            });
        }
        uses.push(LimitUse {
            limit,
            spent: amounts[0],
            reserved: amounts[1],
        });
    }
    Ok(uses)
}
