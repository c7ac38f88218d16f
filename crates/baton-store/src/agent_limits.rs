//! Rate and usage limits agents reported, remembered across runs until they lift.

use crate::{Store, StoreError, now_text};
use serde::Serialize;
use sqlx::Row;

/// A limit an agent reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLimit {
    pub agent: String,
    /// `rate` or `usage`.
    pub kind: String,
    /// When the limit lifts, as the client said it (RFC 3339 when it gave an instant).
    pub reset_at: Option<String>,
    /// When baton uses the agent again (RFC 3339 UTC).
    pub until: String,
    pub recorded_at: String,
}

impl Store {
    /// Remembers that `agent` reached a limit until `until` (RFC 3339 UTC).
    pub async fn record_agent_limit(
        &self,
        agent: &str,
        kind: &str,
        reset_at: Option<&str>,
        until: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agent_limits (agent, kind, reset_at, until_at, recorded_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (agent) DO UPDATE SET kind = excluded.kind,
                 reset_at = excluded.reset_at, until_at = excluded.until_at,
                 recorded_at = excluded.recorded_at",
        )
        .bind(agent)
        .bind(kind)
        .bind(reset_at)
        .bind(until)
        .bind(now_text())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets `agent`'s limit (it just worked).
    pub async fn clear_agent_limit(&self, agent: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_limits WHERE agent = ?")
            .bind(agent)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The limits that have not lifted yet.
    pub async fn active_agent_limits(&self) -> Result<Vec<AgentLimit>, StoreError> {
        let rows = sqlx::query("SELECT * FROM agent_limits WHERE until_at > ? ORDER BY agent")
            .bind(now_text())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AgentLimit {
                    agent: row.try_get("agent")?,
                    kind: row.try_get("kind")?,
                    reset_at: row.try_get("reset_at")?,
                    until: row.try_get("until_at")?,
                    recorded_at: row.try_get("recorded_at")?,
                })
            })
            .collect()
    }
}
