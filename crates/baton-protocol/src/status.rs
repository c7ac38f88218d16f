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
    /// True only for exit code 0.
    pub fn is_success(&self) -> bool {
        matches!(self, EndReason::Exited { code: 0 })
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::Exited { code } => write!(f, "exited with code {code}"),
            EndReason::Signaled { signal } => write!(f, "killed by signal {signal}"),
            EndReason::TimedOut { after_ms } => {
                write!(f, "timed out after {}s", after_ms / 1000)
            }
            EndReason::Silent { after_ms } => {
                write!(f, "killed after {}s without output", after_ms / 1000)
            }
            EndReason::Cancelled => f.write_str("cancelled"),
            EndReason::Lost { error } => write!(f, "was lost ({error})"),
        }
    }
}
