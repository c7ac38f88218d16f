//! Approvals by risk, as a run is driven: a high-risk task waits before its agent starts, a
//! medium-risk one after its gates pass, before its change enters the merge queue; and the
//! `[risk] approval_timeout` policy for tasks that wait too long (see `docs/approvals.md`).

use crate::EngineError;
use crate::config_risk::OnTimeout;
use crate::context::RunCtx;
use baton_core::{RiskAssessment, TaskSpec, format_duration};
use baton_protocol::{RiskLevel, TaskId};
use baton_store::{Approval, ApprovalRequest, Decision, EVERY_TASK};
use std::time::Duration;

/// Who decides when a timeout rejects a task.
pub(crate) const TIMEOUT_DECIDER: &str = "baton";

/// Whether an approval covers `task` before its start (any approval of it, or of every task).
fn approved_to_start(task: &TaskId, approvals: &[Approval]) -> bool {
    approvals.iter().any(|approval| {
        approval.approved && (&approval.task_id == task || approval.task_id.as_str() == EVERY_TASK)
    })
}

impl RunCtx {
    /// The request that makes `spec` wait before its agent starts, when its risk is high and
    /// no approval covers it. `agent` names what would run (`exec` for a shell task).
    pub(crate) fn risk_request(
        &self,
        spec: &TaskSpec,
        agent: &str,
        approvals: &[Approval],
    ) -> Option<ApprovalRequest> {
        let found = self.risk.assess(spec);
        if found.level < RiskLevel::High || approved_to_start(&spec.id, approvals) {
            return None;
        }
        let reason = found.reason();
        let message = format!(
            "task {task} waits for approval before it starts ({reason}); `baton approve {run} \
             {task}` lets it run, `baton reject {run} {task} --why ...` fails it",
            task = spec.id,
            run = self.id(),
        );
        Some(ApprovalRequest {
            agent: agent.to_owned(),
            estimate: 0,
            threshold: 0,
            risk: Some(found.level),
            reason,
            message,
        })
    }

    /// The risk that makes `spec`'s gate-passed change `commit` (touching `changed`) wait
    /// before delivery: medium or more, unless its high risk already made it wait before it
    /// started or an approval covers this very commit.
    async fn delivery_risk(
        &self,
        spec: &TaskSpec,
        commit: &str,
        changed: &[String],
    ) -> Result<Option<RiskAssessment>, EngineError> {
        let at_start = self.risk.assess(spec);
        let found = self.risk.assess_change(spec, changed);
        if found.level < RiskLevel::Medium || at_start.level == RiskLevel::High {
            return Ok(None);
        }
        let approvals = self.store.approvals(self.id()).await?;
        if approvals.iter().any(|a| a.delivers(&spec.id, commit)) {
            return Ok(None);
        }
        Ok(Some(found))
    }
}

/// Keeps attempt `number`'s gate-passed `commit` of `spec` out of the merge queue when its risk
/// asks for a person's approval first: the attempt succeeds and the task waits. Returns whether
/// it does.
pub(crate) async fn hold_for_delivery(
    ctx: &RunCtx,
    spec: &TaskSpec,
    number: u32,
    commit: &str,
    changed: &[String],
) -> Result<bool, EngineError> {
    let Some(found) = ctx.delivery_risk(spec, commit, changed).await? else {
        return Ok(false);
    };
    let agent = ctx
        .store
        .attempts(ctx.id(), Some(&spec.id))
        .await?
        .into_iter()
        .find(|a| a.number == number)
        .and_then(|a| a.agent)
        .unwrap_or_else(|| spec.agent.as_str().to_owned());
    let reason = found.reason();
    let message = format!(
        "task {task} passed its gates and waits for approval before its change is delivered \
         ({reason}); `baton approve {run} {task}` queues it for merging, `baton reject {run} \
         {task} --why ...` fails it",
        task = spec.id,
        run = ctx.id(),
    );
    let events = ctx
        .store
        .hold_for_delivery(
            ctx.id(),
            &spec.id,
            number,
            commit,
            &agent,
            found.level,
            &reason,
            &message,
        )
        .await?;
    ctx.emit(events);
    Ok(true)
}

/// When the wait that started at `since` (RFC 3339) times out under `timeout`.
pub(crate) fn times_out_at(
    since: &str,
    timeout: Duration,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let since = chrono::DateTime::parse_from_rfc3339(since).ok()?;
    let timeout = chrono::Duration::from_std(timeout).ok()?;
    Some(since.with_timezone(&chrono::Utc) + timeout)
}

/// Applies `[risk] approval_timeout` to the tasks of the run that wait: with `reject`, a task
/// past it is rejected (`approval timed out after 2h`); with `wait`, a warning says it is
/// overdue, once per drive.
pub(crate) async fn expire_waits(ctx: &RunCtx) -> Result<(), EngineError> {
    let Some(timeout) = ctx.approval_timeout else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    for wait in ctx.store.approval_waits(Some(ctx.id())).await? {
        let Some(due) = wait.since.as_deref().and_then(|s| times_out_at(s, timeout)) else {
            continue;
        };
        if due > now {
            continue;
        }
        let after = timeout_words(timeout);
        match ctx.on_timeout {
            OnTimeout::Reject => {
                let why = format!("approval timed out after {after}");
                let decision = Decision {
                    approved: false,
                    agent: None,
                    why: Some(&why),
                    by: TIMEOUT_DECIDER,
                };
                match ctx
                    .store
                    .decide_approval(ctx.id(), &wait.task_id, &decision)
                    .await
                {
                    Ok(events) => ctx.emit(events),
                    // A person decided at the same moment: theirs stands.
                    Err(baton_store::StoreError::Stale { .. }) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            OnTimeout::Wait => {
                let first = ctx
                    .timeout_warned
                    .lock()
                    .map(|mut warned| warned.insert(wait.task_id.clone()))
                    .unwrap_or(false);
                if first {
                    ctx.warn(format!(
                        "task {} has waited for approval for more than {after} ({}); it keeps \
                         waiting ([risk] on_timeout = \"wait\")",
                        wait.task_id, wait.reason
                    ))
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// A timeout as people write it: `2h`, `30m`, `45s` (else `1h30m`-like).
fn timeout_words(timeout: Duration) -> String {
    let secs = timeout.as_secs();
    match secs {
        0 => format_duration(timeout),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s if s < 60 => format!("{s}s"),
        _ => format_duration(timeout),
    }
}

/// Whether the run keeps its engine while tasks wait for approval, so that a timeout can
/// reject them (`on_timeout = "reject"` with an `approval_timeout`), instead of pausing.
pub(crate) fn waits_live(ctx: &RunCtx) -> bool {
    ctx.approval_timeout.is_some() && ctx.on_timeout == OnTimeout::Reject
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_as_they_are_written() {
        assert_eq!(timeout_words(Duration::from_secs(7200)), "2h");
        assert_eq!(timeout_words(Duration::from_secs(1800)), "30m");
        assert_eq!(timeout_words(Duration::from_secs(1)), "1s");
        assert_eq!(timeout_words(Duration::from_secs(5400)), "90m");
        assert_eq!(timeout_words(Duration::from_secs(3661)), "1h01m");
    }

    #[test]
    fn a_wait_times_out_its_timeout_after_it_began() {
        let due = times_out_at("2026-11-30T03:00:00.000Z", Duration::from_secs(7200)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T05:00:00+00:00");
        assert!(times_out_at("not a time", Duration::from_secs(1)).is_none());
    }
}
