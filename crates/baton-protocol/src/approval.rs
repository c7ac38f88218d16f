//! What waits for a person's approval, as `baton approvals` and the API show it.

use crate::{ApprovalPoint, RiskLevel, RunId, TaskId};
use serde::{Deserialize, Serialize};

/// A task that waits for a person's decision (`baton approve|reject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalWait {
    /// The run it belongs to.
    pub run: RunId,
    /// The task that waits.
    pub task: TaskId,
    /// Where it waits: before its agent starts, or before its change is delivered.
    pub point: ApprovalPoint,
    /// Its risk when risk is why it waits (`None`: its cost estimate is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    /// Why it waits, for example `risk high: matches migrations (**/migrations/**)`.
    pub reason: String,
    /// When it started waiting, RFC 3339 in UTC (`None` for a wait recorded by an older build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// When `[risk] approval_timeout` runs out for it, RFC 3339 in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times_out_at: Option<String>,
    /// What approving it does, in words.
    pub on_approve: String,
}

impl ApprovalPoint {
    /// What approving a task waiting here does, in words.
    pub fn on_approve(self) -> &'static str {
        match self {
            ApprovalPoint::Start => "its agent starts",
            ApprovalPoint::Delivery => "its gate-passed change enters the merge queue",
        }
    }
}
