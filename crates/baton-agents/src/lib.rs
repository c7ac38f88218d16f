//! How does baton start a task's agent? One adapter per kind of agent turns a task into a
//! supervised command. This version knows the `exec` agent: a shell command run in the lane.

mod exec;
pub mod prices;

pub use exec::{AgentRequest, exec_command};

/// Environment variable naming the run, set for every process baton starts for it.
/// The reconciler finds survivors of a dead engine by it.
pub const ENV_RUN_ID: &str = "BATON_RUN_ID";
/// Environment variable naming the task.
pub const ENV_TASK_ID: &str = "BATON_TASK_ID";
/// Environment variable holding the lane's directory.
pub const ENV_LANE_DIR: &str = "BATON_LANE_DIR";
/// Environment variable holding the attempt number (1 for the first).
pub const ENV_ATTEMPT: &str = "BATON_ATTEMPT";
/// Environment variable pointing at the previous attempt's failure, on a retry.
pub const ENV_FEEDBACK_FILE: &str = "BATON_FEEDBACK_FILE";
/// Environment variable unique to one supervised process (an agent or a gate) and everything it
/// starts. Whatever still carries it once that process has ended escaped its process group
/// (`setsid`, a daemon) and is killed.
pub const ENV_PROCESS_MARKER: &str = "BATON_PROCESS_MARKER";
