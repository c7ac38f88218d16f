//! How does baton start a task's agent, and what did the agent do? One adapter per agent CLI
//! (an [`AgentAdapter`]) turns an attempt into a supervised command, reads the client's output
//! into normalized [`baton_protocol::AgentEvent`]s, and says what its exit means. Adapters build
//! commands; only `baton-exec` starts them.

mod adapter;
mod aider;
mod claude;
mod codex;
mod cursor;
pub mod detect;
mod exec;
mod gemini;
mod goose;
pub mod keys;
mod limits;
mod opencode;
pub mod prices;
pub mod providers;
mod qwen;
mod wire;

pub use adapter::{
    AgentAdapter, AgentInvocation, Detect, ExitClass, MAX_PROMPT_ARG_BYTES, StreamDecoder,
    UsageReporting, class_of, classify_by_events, decode_all, first_version_word, last_session,
};
pub use aider::{Aider, AiderDecoder, parse_count};
pub use claude::{Claude, ClaudeDecoder};
pub use codex::{Codex, CodexDecoder, sandbox_mode as codex_sandbox_mode};
pub use cursor::{Cursor, CursorDecoder};
pub use exec::{AgentRequest, Exec, exec_command};
pub use gemini::{EXIT_AUTH, EXIT_INPUT, EXIT_TURN_LIMIT, Gemini, GeminiDecoder};
pub use goose::{Goose, GooseDecoder};
pub use limits::{classify_error, epoch_to_rfc3339, reset_time};
pub use opencode::{OpenCode, OpenCodeDecoder};
pub use qwen::Qwen;
pub use wire::{MAX_EVENT_OUTPUT_BYTES, bounded, dollars_to_micros};

/// Every adapter baton knows, by name.
pub const ADAPTERS: [&dyn AgentAdapter; 9] = [
    &Claude, &Codex, &Gemini, &Qwen, &OpenCode, &Aider, &Goose, &Cursor, &Exec,
];

/// The adapter called `name` in configuration (`claude`, `codex`, ...).
pub fn adapter(name: &str) -> Option<&'static dyn AgentAdapter> {
    ADAPTERS
        .iter()
        .copied()
        .find(|adapter| adapter.name() == name)
}

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

/// baton's directory for the user's own files (`config.toml`, `prices.toml`):
/// `$XDG_CONFIG_HOME/baton`, else `~/.config/baton`; `None` without either variable.
pub fn user_config_dir() -> Option<std::path::PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| std::path::PathBuf::from(home).join(".config"))
        })?;
    Some(config.join("baton"))
}
