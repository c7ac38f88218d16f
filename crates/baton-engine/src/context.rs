//! What every step of a run needs, shared by the driver, the attempts and the merge queue.

use crate::home::Home;
use baton_core::{Dag, Plan};
use baton_git::{Git, LanePool};
use baton_protocol::{Event, RunId, TaskId};
use baton_store::{RunRow, Store};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Publishes events to live watchers (the CLI's progress display) after they are stored.
#[derive(Clone, Debug)]
pub struct Bus {
    sender: broadcast::Sender<Event>,
}

impl Bus {
    pub(crate) fn new() -> Bus {
        let (sender, _) = broadcast::channel(4096);
        Bus { sender }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub(crate) fn emit(&self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            // No receiver is fine: nobody is watching live.
            let _ = self.sender.send(event);
        }
    }
}

/// One run being driven by this engine.
pub(crate) struct RunCtx {
    pub store: Store,
    pub bus: Bus,
    pub home: Home,
    pub git: Git,
    pub pool: LanePool,
    /// The repository root as the lanes table names it.
    pub lane_repo: String,
    pub run: RunRow,
    pub plan: Plan,
    pub dag: Dag,
    /// Where the run's agents and gates may write.
    pub sandbox: crate::sandbox::Sandbox,
    pub cancel: CancellationToken,
    /// The integration branch's head as this engine last moved it or recovered it from the
    /// store. Only this engine moves the ref (by compare-and-swap); any other value found in
    /// git is tampering. It also saves a git call on every dispatch. It is updated before the merged task is recorded, so a dependent that becomes
    /// ready always starts from a head that contains its dependency.
    pub integration_head: std::sync::Mutex<Option<baton_git::Oid>>,
    /// Held while the integration branch is moved or checked, so the guard never mistakes the
    /// merge queue's own move for tampering.
    pub ref_lock: tokio::sync::Mutex<()>,
    /// Tasks whose running attempt moved the integration branch, with the failure to give them.
    pub tamper_blame: std::sync::Mutex<std::collections::BTreeMap<TaskId, String>>,
    /// Refs an attempt's clean-up deleted: another attempt that saw them must not recreate them.
    pub cleaned_refs: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// The prices agent usage is priced with (built-in, with the user's file on top).
    pub prices: baton_core::PriceTable,
    /// `[agents.NAME]` of `baton.toml`.
    pub agents: std::collections::BTreeMap<String, crate::config_agents::AgentConfig>,
    /// Agents that reached a rate or usage limit, with when it lifts (RFC 3339 UTC).
    pub limited: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
    /// Agents that failed their health check or had their credentials refused in this run.
    pub unhealthy: std::sync::Mutex<std::collections::BTreeMap<String, Option<String>>>,
    /// How many attempts each agent runs now (for `[agents.NAME] max_concurrency`).
    pub agent_slots: crate::routing::AgentSlots,
    /// `[budget] approval_threshold_usd`: AI attempts estimated past it wait for a person.
    pub approval_threshold: Option<baton_core::Usd>,
    /// Why a budget paused the run, once one did: no attempt starts any more.
    pub budget_pause: std::sync::Mutex<Option<String>>,
    /// The limits (`scope/period`) a `budget.warning` was given for in this drive.
    pub budget_warned: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// The attempts whose agent process runs now (a budget stop stops these).
    pub agents_running: std::sync::Mutex<std::collections::BTreeSet<(TaskId, u32)>>,
    /// The cap of each agent's and gate's log file, in bytes (`[output] log_cap_mb`).
    pub log_cap: u64,
    /// The stop handle of each running attempt (task, attempt number), children of `cancel`.
    pub attempt_stops: AttemptStops,
    /// `[merge] batch`: how many queued items one merge gate run covers.
    pub merge_batch: baton_core::BatchPolicy,
    /// `[merge] lanes`: how many batches are gated at once (speculation).
    pub merge_lanes: usize,
    /// `[merge] wait`: how long a round with room to spare waits for running tasks to join.
    pub merge_wait: std::time::Duration,
    /// `[escalation] person`: a task out of attempts waits for a person (`needs_human`).
    pub escalate_to_person: bool,
    /// A workflow template's implementer prompts by task, rendered for each attempt.
    pub template_prompts: std::collections::BTreeMap<String, crate::template_run::TaskPrompt>,
    /// `[escalation] council`: the council a task meets after its retries and fallbacks.
    pub council: crate::config_escalation::CouncilConfig,
    /// `[review]`: the model that reviews each change, when set.
    pub review: Option<crate::config_review::ReviewConfig>,
    /// The agents' track records over earlier runs, read when the drive starts.
    pub track_records: std::sync::Arc<crate::stats::TrackRecords>,
    /// The risk rules (`[risk]` and the built-in ones) the run's tasks are assessed by.
    pub risk: baton_core::RiskRules,
    /// `[risk] approval_timeout`: how long a task may wait for approval.
    pub approval_timeout: Option<std::time::Duration>,
    /// `[risk] on_timeout`: what happens to a task that waited that long.
    pub on_timeout: crate::config_risk::OnTimeout,
    /// The tasks an overdue-approval warning was given for in this drive.
    pub timeout_warned: std::sync::Mutex<std::collections::BTreeSet<TaskId>>,
}

/// The stop handles of the running attempts, shared with their [`AttemptStop`] guards.
pub(crate) type AttemptStops =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(TaskId, u32), CancellationToken>>>;

/// One attempt's own cancel handle: cancelled by the run's cancel, or alone by `baton stop`.
/// Unregistered when dropped.
pub(crate) struct AttemptStop {
    key: (TaskId, u32),
    token: CancellationToken,
    stops: AttemptStops,
}

impl AttemptStop {
    /// The token its processes run under.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether a person stopped this attempt (and not the whole run).
    pub fn stopped_alone(&self, run_cancel: &CancellationToken) -> bool {
        self.token.is_cancelled() && !run_cancel.is_cancelled()
    }
}

impl Drop for AttemptStop {
    fn drop(&mut self) {
        if let Ok(mut stops) = self.stops.lock() {
            stops.remove(&self.key);
        }
    }
}

impl RunCtx {
    pub fn id(&self) -> &RunId {
        &self.run.id
    }

    /// The branch a task's attempts run on.
    pub fn task_branch(&self, task: &TaskId) -> String {
        format!("baton/{}/tasks/{}", self.run.id, task)
    }

    /// Remembers that `agent` reached a rate or usage limit (`kind`: `rate` or `usage`), in
    /// this run and in the store until it lifts (`auto` tasks and fallbacks then use another
    /// agent, in later runs too), and says so once in the event log.
    pub async fn mark_limited(
        &self,
        agent: &str,
        kind: &str,
        reset_at: Option<String>,
    ) -> Result<(), crate::EngineError> {
        let until = limit_lifts_at(kind, reset_at.as_deref(), chrono::Utc::now());
        self.store
            .record_agent_limit(agent, kind, reset_at.as_deref(), &until)
            .await?;
        let first = self
            .limited
            .lock()
            .map(|mut limited| limited.insert(agent.to_owned(), until.clone()).is_none())
            .unwrap_or(false);
        if first {
            let said = reset_at
                .map(|at| format!(" (it said: resets {at})"))
                .unwrap_or_default();
            self.warn(format!(
                "agent {agent} reached a rate or usage limit{said}; baton uses it again after \
                 {until}: tasks with agent: auto or a fallback use another agent, and those that \
                 may use no other wait"
            ))
            .await?;
        }
        Ok(())
    }

    /// Writes a run-level `warning` event and publishes it.
    pub async fn warn(&self, message: String) -> Result<(), crate::EngineError> {
        let event = self
            .store
            .append_event(
                self.id(),
                None,
                baton_protocol::EventBody::Warning { message },
            )
            .await?;
        self.emit([event]);
        Ok(())
    }

    /// Forgets a limit `agent` reached (it just worked), here and in the store.
    pub async fn clear_limit(&self, agent: &str) -> Result<(), crate::EngineError> {
        let had = self
            .limited
            .lock()
            .map(|mut limited| limited.remove(agent).is_some())
            .unwrap_or(false);
        if had {
            self.store.clear_agent_limit(agent).await?;
        }
        Ok(())
    }

    /// Stops every attempt whose agent process runs now (a budget was crossed).
    pub fn stop_running_agents(&self) {
        let running: Vec<(TaskId, u32)> = self
            .agents_running
            .lock()
            .map(|running| running.iter().cloned().collect())
            .unwrap_or_default();
        if let Ok(stops) = self.attempt_stops.lock() {
            for key in running {
                if let Some(token) = stops.get(&key) {
                    token.cancel();
                }
            }
        }
    }

    /// Registers the stop handle of attempt `number` of `task`.
    pub fn attempt_stop(&self, task: &TaskId, number: u32) -> AttemptStop {
        let token = self.cancel.child_token();
        let key = (task.clone(), number);
        if let Ok(mut stops) = self.attempt_stops.lock() {
            stops.insert(key.clone(), token.clone());
        }
        AttemptStop {
            key,
            token,
            stops: std::sync::Arc::clone(&self.attempt_stops),
        }
    }

    /// Stops attempt `number` of `task` if it runs here (a `baton stop` request).
    pub fn request_attempt_stop(&self, task: &TaskId, number: u32) {
        if let Ok(stops) = self.attempt_stops.lock()
            && let Some(token) = stops.get(&(task.clone(), number))
        {
            token.cancel();
        }
    }

    /// Deletes a merged task's branch: the integration branch keeps its commits, and a run of
    /// thousands of tasks must not leave thousands of branches. A failure is only logged (the
    /// reconciler tries again on the next start).
    pub async fn delete_task_branch(&self, task: &TaskId) {
        let refname = format!("refs/heads/{}", self.task_branch(task));
        if let Err(error) = self.git.delete_ref(&refname).await {
            tracing::warn!("could not delete {refname}: {error}");
        }
    }

    /// The integration branch's head as baton left it (from memory, else from the store). Never
    /// read from the ref itself: a task may have moved it (see `guard.rs`).
    pub async fn integration_head(&self) -> Result<baton_git::Oid, crate::EngineError> {
        if let Some(head) = self.cached_head() {
            return Ok(head);
        }
        let head = self.expected_head_from_store().await?;
        self.set_integration_head(Some(head.clone()));
        Ok(head)
    }

    fn cached_head(&self) -> Option<baton_git::Oid> {
        self.integration_head
            .lock()
            .map(|head| head.clone())
            .unwrap_or(None)
    }

    /// Records where baton moved the integration branch (None: recover it from the store).
    pub fn set_integration_head(&self, head: Option<baton_git::Oid>) {
        if let Ok(mut slot) = self.integration_head.lock() {
            *slot = head;
        }
    }

    /// A commit id read back from the store.
    pub fn oid(&self, text: &str) -> Result<baton_git::Oid, crate::EngineError> {
        text.parse().map_err(|_| crate::EngineError::Inconsistent {
            run: self.run.id.clone(),
            what: format!("stored commit {text:?} is not an object id"),
        })
    }

    /// The task's row as the store has it now.
    pub async fn task_row(
        &self,
        task: &TaskId,
    ) -> Result<baton_store::TaskRow, crate::EngineError> {
        self.store
            .tasks(self.id())
            .await?
            .into_iter()
            .find(|t| &t.id == task)
            .ok_or_else(|| crate::EngineError::Inconsistent {
                run: self.run.id.clone(),
                what: format!("task {task} is not in the database"),
            })
    }

    /// Moves a merge item, publishes the event and returns the item as now stored.
    pub async fn move_merge_item(
        &self,
        item: &baton_store::MergeItemRow,
        to: baton_protocol::MergeItemStatus,
        update: baton_store::MergeItemUpdate,
    ) -> Result<baton_store::MergeItemRow, crate::EngineError> {
        let event = self.store.transition_merge_item(item, to, update).await?;
        self.emit([event]);
        Ok(self.store.merge_item(item.id).await?)
    }

    /// Emits events that were just written to the store.
    pub fn emit(&self, events: impl IntoIterator<Item = Event>) {
        self.bus.emit(events);
    }
}

/// When baton tries an agent that reached a limit again: the client's reset time when it gave an
/// instant in the future; otherwise a minute for a rate limit and an hour for a usage limit
/// (a reset said in words, such as `3am (Europe/Berlin)`, is not read).
pub(crate) fn limit_lifts_at(
    kind: &str,
    reset_at: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let said = reset_at
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&chrono::Utc))
        .filter(|at| *at > now);
    let fallback = if kind == "usage" {
        chrono::Duration::hours(1)
    } else {
        chrono::Duration::minutes(1)
    };
    said.unwrap_or(now + fallback)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_lifts_at_the_clients_instant_or_after_a_default_wait() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T22:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            limit_lifts_at("usage", Some("2026-11-30T03:00:00Z"), now),
            "2026-11-30T03:00:00.000Z"
        );
        assert_eq!(
            limit_lifts_at("usage", Some("3am (Europe/Berlin)"), now),
            "2026-11-29T23:00:00.000Z"
        );
        assert_eq!(
            limit_lifts_at("rate", None, now),
            "2026-11-29T22:01:00.000Z"
        );
        assert_eq!(
            limit_lifts_at("rate", Some("2026-11-29T21:00:00Z"), now),
            "2026-11-29T22:01:00.000Z",
            "a reset in the past is not believed"
        );
    }
}
