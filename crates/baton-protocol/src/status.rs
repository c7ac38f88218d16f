use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text form used in the database, events and `--json` output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the text form written by [`Self::as_str`].
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Where a run is in its life.
    RunStatus {
        /// Created and validated; nothing started yet.
        Pending => "pending",
        /// An engine owns it and works on it (or did, until it crashed: see the lease).
        Running => "running",
        /// Every task merged into the integration branch.
        Completed => "completed",
        /// Finished with at least one failed or blocked task.
        Failed => "failed",
        /// Stopped by `baton cancel`; resumable.
        Cancelled => "cancelled",
        /// Paused because a budget would be exceeded; `baton resume --budget` continues it.
        BudgetExceeded => "budget_exceeded",
        /// Paused with nothing left to do but tasks that wait for a person's approval
        /// (`baton approve|reject`, then `baton resume`).
        AwaitingApproval => "awaiting_approval",
        /// Paused by `baton pause`: nothing new starts; `baton resume` continues it.
        Paused => "paused",
        /// Created from a goal whose planner has open questions: nothing runs until `baton
        /// answer RUN` answers them.
        AwaitingInput => "awaiting_input",
        /// Nothing left to do but tasks that wait for a person (`needs_human`): `baton retry`,
        /// `reassign`, `skip` or `force-complete` them, then `baton resume`.
        NeedsHuman => "needs_human",
    }
);

text_enum!(
    /// Where a task is in its life.
    TaskStatus {
        /// Waiting for its dependencies, its claims or a free lane.
        Pending => "pending",
        /// An attempt is running in a lane.
        Running => "running",
        /// Its attempt finished and passed its gates; waiting in the merge queue.
        Queued => "queued",
        /// Integrated into the run's integration branch.
        Merged => "merged",
        /// Every attempt failed.
        Failed => "failed",
        /// A dependency failed, so this task cannot run.
        Blocked => "blocked",
        /// Waits for `baton approve`: before its agent starts (its estimate is past the
        /// approval threshold, or its risk is high) or, gates passed, before its change is
        /// delivered (medium risk).
        AwaitingApproval => "awaiting_approval",
        /// Its escalation ladder ran out (retries, fallback agents): a person must decide
        /// (`baton retry`, `reassign`, `skip`, `force-complete`). What does not depend on it goes on.
        NeedsHuman => "needs_human",
        /// A person skipped it (`baton skip`): nothing of it is integrated, and the tasks that
        /// depend on it are skipped too.
        Skipped => "skipped",
        /// A person declared it done without baton integrating anything of it (`baton
        /// force-complete`); the tasks that depend on it go ahead.
        ForceCompleted => "force_completed",
    }
);

text_enum!(
    /// One try at a task.
    AttemptStatus {
        /// The agent or its gates are running.
        Running => "running",
        /// The agent finished, its change stayed inside its claims and its gates passed.
        Succeeded => "succeeded",
        /// The agent or a gate failed, or the change left its claims.
        Failed => "failed",
        /// The engine stopped (cancel or crash) before the attempt ended.
        Interrupted => "interrupted",
        /// A person stopped this attempt (`baton stop RUN TASK`); it counts as a failure.
        Stopped => "stopped",
    }
);

text_enum!(
    /// A task's turn in the merge queue.
    MergeItemStatus {
        /// Waiting for its turn.
        Queued => "queued",
        /// Conflict check and merge gates on the would-be merge.
        Checking => "checking",
        /// Gates passed; the integration branch is being moved.
        Merging => "merging",
        /// The integration branch points at (a descendant of) its merge commit.
        Merged => "merged",
        /// The task branch conflicts with the integration branch; the task runs again.
        Conflicted => "conflicted",
        /// The merge gates failed on the would-be merge.
        Failed => "failed",
    }
);

text_enum!(
    /// How urgent a task is; higher runs first among ready tasks.
    Priority {
        /// Hotfixes and security work.
        High => "high",
        /// Features; the default.
        Medium => "medium",
        /// Docs and chores.
        Low => "low",
    }
);

impl Priority {
    /// Larger is more urgent.
    pub fn rank(self) -> u8 {
        match self {
            Priority::High => 2,
            Priority::Medium => 1,
            Priority::Low => 0,
        }
    }
}

#[allow(clippy::derivable_impls)] // the variants come from `text_enum!`, which cannot take `#[default]`
impl Default for Priority {
    fn default() -> Self {
        Priority::Medium
    }
}

/// Why a supervised process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndReason {
    /// It exited by itself with this code.
    Exited { code: i32 },
    /// A signal it did not expect ended it.
    Signaled { signal: i32 },
    /// It ran past its absolute time limit and was killed.
    TimedOut { after_ms: u64 },
    /// It printed nothing for too long and was killed.
    Silent { after_ms: u64 },
    /// The run was cancelled and it was killed.
    Cancelled,
    /// Its end could not be observed (waiting on it failed).
    Lost { error: String },
}

impl EndReason {
    /// A limit as stored in [`EndReason::TimedOut`] and [`EndReason::Silent`].
    pub fn millis(limit: std::time::Duration) -> u64 {
        u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)
    }

    /// The exit code, if the process exited by itself.
    pub fn code(&self) -> Option<i32> {
        match self {
            EndReason::Exited { code } => Some(*code),
            _ => None,
        }
    }

    /// True only for exit code 0.
    pub fn is_success(&self) -> bool {
        matches!(self, EndReason::Exited { code: 0 })
    }
}

/// A time limit for people: `500ms`, `1.5s`, `30s`, `10m` (a sub-second limit is not "0s").
fn limit_text(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::Exited { code } => write!(f, "exited with code {code}"),
            EndReason::Signaled { signal } => write!(f, "killed by signal {signal}"),
            EndReason::TimedOut { after_ms } => {
                write!(f, "timed out after {}", limit_text(*after_ms))
            }
            EndReason::Silent { after_ms } => {
                write!(f, "killed after {} without output", limit_text(*after_ms))
            }
            EndReason::Cancelled => f.write_str("cancelled"),
            EndReason::Lost { error } => write!(f, "was lost ({error})"),
        }
    }
}

text_enum!(
    /// How much a person should look at a task's change before it lands (`[risk]` rules and a
    /// task's `risk:`). Ordered: `Low < Medium < High`.
    RiskLevel {
        /// Runs and merges when its gates pass.
        Low => "low",
        /// Runs; waits for approval after its gates pass, before its change is delivered.
        Medium => "medium",
        /// Waits for approval before its agent starts.
        High => "high",
    }
);

text_enum!(
    /// Where a task waits for a person's approval.
    ApprovalPoint {
        /// Before its agent starts (a cost estimate past the threshold, or high risk).
        Start => "start",
        /// After its gates passed, before its change enters the merge queue (medium risk).
        Delivery => "delivery",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_under_a_second_is_not_said_as_zero_seconds() {
        assert_eq!(
            EndReason::Silent { after_ms: 500 }.to_string(),
            "killed after 500ms without output"
        );
        assert_eq!(
            EndReason::TimedOut { after_ms: 1500 }.to_string(),
            "timed out after 1.5s"
        );
        assert_eq!(
            EndReason::TimedOut { after_ms: 30_000 }.to_string(),
            "timed out after 30s"
        );
        assert_eq!(
            EndReason::TimedOut { after_ms: 600_000 }.to_string(),
            "timed out after 10m"
        );
    }

    #[test]
    fn a_stopped_attempt_round_trips_through_its_text_form() {
        assert_eq!(
            AttemptStatus::parse("stopped"),
            Some(AttemptStatus::Stopped)
        );
        assert_eq!(AttemptStatus::Stopped.as_str(), "stopped");
    }
}
