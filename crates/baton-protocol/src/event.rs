use crate::{
    AgentEvent, AttemptStatus, EndReason, MergeItemStatus, RunId, RunStatus, TaskId, TaskStatus,
};
use serde::{Deserialize, Serialize};

/// The version of the event schema written by this build. Bumped when a variant changes shape.
pub const EVENT_VERSION: u32 = 1;

/// One entry of a run's append-only event log, as stored and as printed by `baton events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the global log; strictly increasing, never reused.
    pub seq: i64,
    /// When it was written, RFC 3339 in UTC.
    pub time: String,
    /// The run it belongs to.
    pub run: RunId,
    /// The task it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskId>,
    /// The schema version of `body`.
    pub version: u32,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

/// Which output stream of a process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What happened, tagged by `type` (for example `task.status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventBody {
    /// A run was created from a validated plan.
    #[serde(rename = "run.created")]
    RunCreated {
        goal: String,
        base: String,
        base_commit: String,
        lanes: u32,
        tasks: usize,
    },
    /// A run moved from one status to another.
    #[serde(rename = "run.status")]
    RunStatusChanged {
        from: RunStatus,
        to: RunStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An engine process took ownership of the run (start or resume).
    #[serde(rename = "run.owner")]
    RunOwned { pid: u32, host: String },
    /// What the reconciler found and repaired when an engine took the run over.
    #[serde(rename = "run.reconciled")]
    RunReconciled { actions: Vec<String> },
    /// A task moved from one status to another.
    #[serde(rename = "task.status")]
    TaskStatusChanged {
        from: TaskStatus,
        to: TaskStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An attempt started its agent process in a lane.
    #[serde(rename = "attempt.started")]
    AttemptStarted {
        attempt: u32,
        lane: String,
        start_commit: String,
    },
    /// The agent process of an attempt is running under this process group.
    #[serde(rename = "attempt.process")]
    AttemptProcess { attempt: u32, pid: u32, pgid: i32 },
    /// A line of the agent's output.
    #[serde(rename = "attempt.output")]
    AttemptOutput {
        attempt: u32,
        stream: OutputStream,
        line: String,
    },
    /// What an AI agent did, decoded from its client's output (see `AgentEvent`).
    #[serde(rename = "attempt.agent")]
    AttemptAgent { attempt: u32, event: AgentEvent },
    /// The agent has printed nothing for a while; it is killed at the silence limit.
    #[serde(rename = "attempt.silence")]
    AttemptSilence { attempt: u32, silent_ms: u64 },
    /// The agent process ended.
    #[serde(rename = "attempt.agent_ended")]
    AttemptAgentEnded { attempt: u32, end: EndReason },
    /// baton committed what the agent left.
    #[serde(rename = "attempt.committed")]
    AttemptCommitted {
        attempt: u32,
        commit: String,
        changed_paths: Vec<String>,
    },
    /// A gate ran in a lane (task gates) or on a would-be merge (merge gates).
    #[serde(rename = "gate.finished")]
    GateFinished {
        gate: String,
        passed: bool,
        end: EndReason,
        duration_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        merge_item: Option<i64>,
        /// Taken from an earlier run of the same gate on the same tree (not run again).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cached: bool,
    },
    /// An attempt reached its end.
    #[serde(rename = "attempt.status")]
    AttemptStatusChanged {
        attempt: u32,
        from: AttemptStatus,
        to: AttemptStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A merge item moved from one status to another.
    #[serde(rename = "merge.status")]
    MergeItemStatusChanged {
        item: i64,
        from: MergeItemStatus,
        to: MergeItemStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A batch of merge items was gated once on the tip of its merge chain.
    #[serde(rename = "merge.batch")]
    MergeBatchGated {
        batch: i64,
        /// The members, in queue order.
        tasks: Vec<TaskId>,
        /// Its place in its round: 0 gated on the integration head, k on stage k-1's tip.
        stage: u32,
        /// 0 for a fresh batch, n for a part of a failed batch split n times.
        depth: u32,
        /// `passed`, `failed` or `discarded`.
        outcome: String,
    },
    /// The integration branch moved to a gate-passed merge commit.
    #[serde(rename = "integration.advanced")]
    IntegrationAdvanced { item: i64, from: String, to: String },
    /// The integration branch was not where baton left it (a task or a gate moved or deleted
    /// it); baton put it back and never builds on the injected commit.
    #[serde(rename = "integration.tampered")]
    IntegrationTampered {
        /// Where baton had left it.
        expected: String,
        /// Where it was found (`None`: deleted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found: Option<String>,
        /// The task whose attempt did it, when that can be known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        culprit: Option<TaskId>,
    },
    /// Refs a task's attempt created or moved in the repository (branches, tags, stashes) were
    /// removed or put back when it ended, so they do not leak into the user's repository.
    #[serde(rename = "attempt.refs_restored")]
    AttemptRefsRestored {
        attempt: u32,
        /// One line per ref: what was done to it.
        refs: Vec<String>,
    },
    /// Processes that outlived an agent or a gate (they left its process group, e.g. with
    /// `setsid`) were killed when it ended.
    #[serde(rename = "process.reaped")]
    ProcessesReaped {
        /// The attempt, for an agent or a task gate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        /// What had started them: `agent` or `gate <name>`.
        what: String,
        /// Each killed process: pid and command line.
        processes: Vec<String>,
    },
    /// Something a person should know about that is not a status change.
    #[serde(rename = "warning")]
    Warning { message: String },
    /// A task waits for a person: its next attempt is estimated past the approval threshold,
    /// or its risk says so (high: before its agent starts; medium: before delivery).
    #[serde(rename = "approval.requested")]
    ApprovalRequested {
        /// The agent it would run on (or ran on, for a wait before delivery).
        agent: String,
        /// The estimate, in micro-dollars (0 when risk, not cost, is why it waits).
        #[serde(default)]
        estimate: u64,
        /// The threshold, in micro-dollars (0 when risk, not cost, is why it waits).
        #[serde(default)]
        threshold: u64,
        message: String,
        /// The task's risk, when risk is why it waits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        risk: Option<crate::RiskLevel>,
        /// Where it waits (`start` when absent: events of older builds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        point: Option<crate::ApprovalPoint>,
    },
    /// A person approved (optionally on another agent) or rejected a waiting task, or a
    /// timeout rejected it.
    #[serde(rename = "approval.decided")]
    ApprovalDecided {
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
        /// Who decided: the OS user of `baton approve|reject`, or `baton` for a timeout
        /// (absent in events of older builds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        /// Where the task waited (absent in events of older builds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        point: Option<crate::ApprovalPoint>,
        /// Why it waited, as the request said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waited_for: Option<String>,
    },
    /// A reviewer judged an attempt's change (or, with no attempt, the whole run's change
    /// before delivery).
    #[serde(rename = "review.finished")]
    ReviewFinished {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        kind: crate::ReviewKind,
        approved: bool,
        summary: String,
        /// How many issues it found.
        issues: usize,
    },
    /// A person's command on the run or a task (`baton pause`, `skip`, `retry`, ...): the
    /// audit record of who did what, when (the event's time) and why.
    #[serde(rename = "control.applied")]
    ControlApplied {
        /// The command, as `baton` spells it (`pause`, `force-complete`, ...).
        command: String,
        /// Who gave it.
        who: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
        /// What it did, in a sentence.
        effect: String,
    },
    /// A task out of attempts on its agent moved up the escalation ladder: to a fallback agent
    /// (its next attempts run there, in a new conversation) or to a council.
    #[serde(rename = "task.escalated")]
    TaskEscalated {
        /// `fallback` or `council`.
        rung: String,
        /// The fallback agent, or the council's members.
        agents: Vec<String>,
        /// Who decided (`baton`).
        who: String,
        why: String,
    },
    /// A council ended: its candidates, the winner (if any) and why.
    #[serde(rename = "council.finished")]
    CouncilFinished {
        candidates: Vec<CouncilCandidate>,
        /// The winning member, if a candidate passed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        winner: Option<u32>,
        /// The winner's agent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        winner_agent: Option<String>,
        why: String,
    },
    /// A budget that applies to the run is 80% or more committed (spent and reserved).
    #[serde(rename = "budget.warning")]
    BudgetWarning {
        /// `run`, `project` or `global`.
        scope: String,
        /// `run`, `day` or `month`.
        period: String,
        /// How much of the limit is committed, in thousandths (800 is 80%).
        per_mille: u64,
        message: String,
    },
    /// A budget would be exceeded: the run pauses (`budget_exceeded`); attempts charged to it
    /// were stopped if their spending crossed it.
    #[serde(rename = "budget.exceeded")]
    BudgetExceeded {
        scope: String,
        period: String,
        /// `dollars` or `tokens`.
        unit: String,
        /// The limit, in micro-dollars or tokens.
        limit: u64,
        /// Spent and reserved when it was found.
        committed: u64,
        message: String,
    },
}

impl EventBody {
    /// The `type` tag, as stored in the database.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::RunCreated { .. } => "run.created",
            EventBody::RunStatusChanged { .. } => "run.status",
            EventBody::RunOwned { .. } => "run.owner",
            EventBody::RunReconciled { .. } => "run.reconciled",
            EventBody::TaskStatusChanged { .. } => "task.status",
            EventBody::AttemptStarted { .. } => "attempt.started",
            EventBody::AttemptProcess { .. } => "attempt.process",
            EventBody::AttemptOutput { .. } => "attempt.output",
            EventBody::AttemptSilence { .. } => "attempt.silence",
            EventBody::AttemptAgent { .. } => "attempt.agent",
            EventBody::AttemptAgentEnded { .. } => "attempt.agent_ended",
            EventBody::AttemptCommitted { .. } => "attempt.committed",
            EventBody::GateFinished { .. } => "gate.finished",
            EventBody::AttemptStatusChanged { .. } => "attempt.status",
            EventBody::MergeItemStatusChanged { .. } => "merge.status",
            EventBody::MergeBatchGated { .. } => "merge.batch",
            EventBody::IntegrationAdvanced { .. } => "integration.advanced",
            EventBody::ProcessesReaped { .. } => "process.reaped",
            EventBody::IntegrationTampered { .. } => "integration.tampered",
            EventBody::AttemptRefsRestored { .. } => "attempt.refs_restored",
            EventBody::Warning { .. } => "warning",
            EventBody::BudgetWarning { .. } => "budget.warning",
            EventBody::ApprovalRequested { .. } => "approval.requested",
            EventBody::ApprovalDecided { .. } => "approval.decided",
            EventBody::BudgetExceeded { .. } => "budget.exceeded",
            EventBody::ControlApplied { .. } => "control.applied",
            EventBody::TaskEscalated { .. } => "task.escalated",
            EventBody::CouncilFinished { .. } => "council.finished",
            EventBody::ReviewFinished { .. } => "review.finished",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_json_with_its_type_tag() {
        let event = Event {
            seq: 7,
            time: "2026-11-23T19:00:00Z".into(),
            run: RunId::new("r1"),
            task: Some(TaskId::new("lexer")),
            version: EVENT_VERSION,
            body: EventBody::TaskStatusChanged {
                from: TaskStatus::Pending,
                to: TaskStatus::Running,
                reason: None,
            },
        };
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains(r#""type":"task.status""#), "{text}");
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.body.type_name(), "task.status");
    }

    #[test]
    fn an_approval_decision_written_before_the_audit_fields_still_reads() {
        let text = r#"{"seq":3,"time":"2026-11-23T19:00:00Z","run":"r1","task":"a","version":1,
            "type":"approval.decided","data":{"approved":false,"why":"too dear"}}"#;
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!(
            event.body,
            EventBody::ApprovalDecided {
                approved: false,
                agent: None,
                why: Some("too dear".into()),
                by: None,
                point: None,
                waited_for: None,
            }
        );
        let old_request = r#"{"seq":2,"time":"2026-11-23T19:00:00Z","run":"r1","task":"a",
            "version":1,"type":"approval.requested","data":{"agent":"claude","estimate":5,
            "threshold":1,"message":"m"}}"#;
        let event: Event = serde_json::from_str(old_request).unwrap();
        assert!(matches!(
            event.body,
            EventBody::ApprovalRequested {
                estimate: 5,
                risk: None,
                point: None,
                ..
            }
        ));
    }
}

/// One candidate of a council, as its record shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilCandidate {
    /// Its place in the council, from 1.
    pub member: u32,
    pub agent: String,
    /// The attempt it ran as.
    pub attempt: u32,
    /// The lane it ran in.
    pub lane: String,
    /// Whether its change passed the task's gates, claims and territory checks.
    pub passed: bool,
    /// What it cost in micro-dollars (`None`: unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<u64>,
    /// Lines added plus removed by its change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_lines: Option<u64>,
    /// Review kinds that approved its change (`None`: not reviewed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews_approved: Option<u32>,
    /// High-severity issues the reviewers found.
    #[serde(default)]
    pub high_issues: u32,
    /// Why it did not pass (first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Whether it won.
    #[serde(default)]
    pub winner: bool,
}
