//! The append-only event log.

use crate::{Store, StoreError, now_text};
use baton_protocol::{EVENT_VERSION, Event, EventBody, RunId, TaskId};
use sqlx::{Row, SqliteConnection};

/// The most lines of a failure reason shown where a person reads it.
pub const REASON_MAX_LINES: usize = 40;
/// The most bytes of a failure reason shown where a person reads it.
pub const REASON_MAX_BYTES: usize = 4096;

/// `reason` (a failure, a merge note) as a person should read it: whole, without trailing
/// blank lines, up to [`REASON_MAX_LINES`] lines and [`REASON_MAX_BYTES`] bytes; when cut,
/// a last line says how many lines are left out and that `baton logs RUN TASK` has them
/// (`baton events RUN` when `task` is empty: a reason of the run itself).
pub fn readable_reason(reason: &str, run: &RunId, task: &str) -> String {
    let lines: Vec<&str> = reason.trim_end().lines().map(str::trim_end).collect();
    let mut out = String::new();
    let mut shown = 0;
    for line in &lines {
        if shown == REASON_MAX_LINES || out.len() + line.len() + 1 > REASON_MAX_BYTES {
            break;
        }
        out.push_str(line);
        out.push('\n');
        shown += 1;
    }
    if shown == 0 && !lines.is_empty() {
        // One line longer than the limit: keep its head.
        let mut end = REASON_MAX_BYTES.min(lines[0].len());
        while !lines[0].is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&lines[0][..end]);
        out.push_str(" …\n");
        shown = 1;
    }
    let left = lines.len() - shown;
    if left > 0 {
        let noun = if left == 1 { "line" } else { "lines" };
        let see = if task.is_empty() {
            format!("baton events {run}")
        } else {
            format!("baton logs {run} {task}")
        };
        out.push_str(&format!("… {left} more {noun} (see `{see}`)\n"));
    }
    out.truncate(out.trim_end().len());
    out
}

/// Appends one event inside the caller's transaction and returns it with its sequence number.
pub(crate) async fn insert_event(
    conn: &mut SqliteConnection,
    run: &RunId,
    task: Option<&TaskId>,
    body: EventBody,
) -> Result<Event, StoreError> {
    let time = now_text();
    let payload = serde_json::to_value(&body)
        .map_err(|e| StoreError::Corrupt(format!("event does not serialize: {e}")))?;
    let data = payload
        .get("data")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let seq: i64 = sqlx::query(
        "INSERT INTO events (time, run_id, task_id, type, version, payload)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(&time)
    .bind(run.as_str())
    .bind(task.map(|t| t.as_str()))
    .bind(body.type_name())
    .bind(i64::from(EVENT_VERSION))
    .bind(data.to_string())
    .fetch_one(&mut *conn)
    .await?
    .try_get("seq")?;
    Ok(Event {
        seq,
        time,
        run: run.clone(),
        task: task.cloned(),
        version: EVENT_VERSION,
        body,
    })
}

pub(crate) fn event_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Event, StoreError> {
    let kind: String = row.try_get("type")?;
    let payload: String = row.try_get("payload")?;
    let data: serde_json::Value = serde_json::from_str(&payload)
        .map_err(|e| StoreError::Corrupt(format!("event payload: {e}")))?;
    let body: EventBody = serde_json::from_value(serde_json::json!({ "type": kind, "data": data }))
        .map_err(|e| StoreError::Corrupt(format!("event {kind}: {e}")))?;
    Ok(Event {
        seq: row.try_get("seq")?,
        time: row.try_get("time")?,
        run: RunId::new(row.try_get::<String, _>("run_id")?),
        task: row
            .try_get::<Option<String>, _>("task_id")?
            .map(TaskId::new),
        version: u32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        body,
    })
}

impl Store {
    /// Appends one event on its own.
    pub async fn append_event(
        &self,
        run: &RunId,
        task: Option<&TaskId>,
        body: EventBody,
    ) -> Result<Event, StoreError> {
        let mut conn = self.writer.acquire().await?;
        insert_event(&mut conn, run, task, body).await
    }

    /// Appends many events in one transaction (output lines are batched this way).
    pub async fn append_events(
        &self,
        run: &RunId,
        items: Vec<(Option<TaskId>, EventBody)>,
    ) -> Result<Vec<Event>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.writer.begin().await?;
        let mut written = Vec::with_capacity(items.len());
        for (task, body) in items {
            written.push(insert_event(&mut tx, run, task.as_ref(), body).await?);
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Events of a run with a sequence number above `after`, oldest first, at most `limit`.
    pub async fn events(
        &self,
        run: &RunId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, time, run_id, task_id, type, version, payload FROM events
             WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(run.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events of one task of a run, oldest first, restricted to the given types (all when empty).
    pub async fn task_events(
        &self,
        run: &RunId,
        task: &TaskId,
        after: i64,
        types: &[&str],
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, time, run_id, task_id, type, version, payload FROM events
             WHERE run_id = ? AND task_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(run.as_str())
        .bind(task.as_str())
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let kind: String = row.try_get("type")?;
            if types.is_empty() || types.contains(&kind.as_str()) {
                out.push(event_from_row(row)?);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Each task's checklist: the last todo list its agent reported (Codex `todo_list`,
    /// Claude Code `TodoWrite`), from its latest attempt that reported one. Tasks whose agents
    /// reported none are absent.
    pub async fn checklists(
        &self,
        run: &RunId,
    ) -> Result<std::collections::BTreeMap<TaskId, Vec<baton_protocol::TodoItem>>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, json_extract(payload, '$.event.items') AS items FROM events
             WHERE run_id = ? AND type = 'attempt.agent' AND task_id IS NOT NULL
               AND json_extract(payload, '$.event.type') = 'todo_list'
             ORDER BY seq",
        )
        .bind(run.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut lists = std::collections::BTreeMap::new();
        for row in &rows {
            let task: String = row.try_get("task_id")?;
            let items: Option<String> = row.try_get("items")?;
            let items: Vec<baton_protocol::TodoItem> =
                serde_json::from_str(items.as_deref().unwrap_or("[]"))
                    .map_err(|e| StoreError::Corrupt(format!("a todo list event: {e}")))?;
            lists.insert(TaskId::new(task), items);
        }
        Ok(lists)
    }
}
