//! The words every baton frontend speaks: ids, statuses, the versioned event log and the plan
//! file schema. Wire types live here and nowhere else; `baton-core` gives them behaviour.

mod agent_event;
mod approval;
mod control;
mod event;
mod ids;
pub mod plan;
pub mod planner;
mod review;
pub mod scan;
mod status;

pub use agent_event::{
    AGENT_EVENT_VERSION, AgentErrorKind, AgentEvent, FileChangeKind, TodoItem, Usage, UsageTotals,
};
pub use approval::ApprovalWait;
pub use control::{Control, ControlRequest};
pub use event::{CouncilCandidate, EVENT_VERSION, Event, EventBody, OutputStream};
pub use ids::{RunId, TaskId};
pub use plan::{BatchFile, GateDecl, MergeFile, PLAN_VERSION, PlanFile, TaskFile};
pub use planner::{ArtifactKind, ArtifactView, PlannedTask, PlannerAnswer};
pub use review::{ReviewIssue, ReviewKind, ReviewReport, Severity};
pub use status::{
    ApprovalPoint, AttemptStatus, EndReason, MergeItemStatus, Priority, RiskLevel, RunStatus,
    TaskStatus,
};
