//! baton-exec answers "how does a process stay supervised?".
//!
//! Every child process of baton runs through this crate: it lives in its own process
//! group, its output is read line by line (lines, buffers and the log file all capped, so
//! a flood slows the process down instead of filling baton's memory), it is killed (TERM, then KILL, whole group)
//! on deadline, silence, cancellation or drop, and nothing of its group survives.
//! A [`Confinement`] limits where it may write (Landlock, where the kernel has it).
//!
//! ```no_run
//! # async fn demo() -> Result<(), baton_exec::ExecError> {
//! use std::time::Duration;
//! use baton_exec::{CommandSpec, ProcessEvent, spawn};
//! use tokio_util::sync::CancellationToken;
//!
//! let spec = CommandSpec::shell("echo hello", "/tmp").silence(Duration::from_secs(60));
//! let mut child = spawn(spec, CancellationToken::new())?;
//! while let Some(event) = child.next_event().await {
//!     if let ProcessEvent::Line { text, .. } = event {
//!         println!("{text}");
//!     }
//! }
//! let outcome = child.wait().await;
//! println!("{}", outcome.end);
//! # Ok(())
//! # }
//! ```

mod captured;
mod confine;
mod error;
mod group;
mod log;
mod output;
mod reap;
mod scrub;
mod spec;
mod supervise;

/// How a supervised process ended: baton's one type for it, shared with the wire.
pub use baton_protocol::EndReason;
/// Which pipe of the child a line came from: baton's one type for it, shared with the wire.
pub use baton_protocol::OutputStream;
pub use captured::{Captured, DEFAULT_CAPTURED_DEADLINE, run_captured};
pub use confine::{Confinement, DEVICE_PATHS, LandlockSupport, landlock_support};
pub use error::ExecError;
pub use group::{ProcessInfo, find_processes_with_env, group_alive, kill_group};
pub use log::{DEFAULT_LOG_CAP, log_cap_marker};
pub use output::{CapturedOutput, MAX_LINE_BYTES, cut_marker};
pub use reap::{Reaped, reap_marked};
pub use scrub::GIT_ENV_VARS;
pub use spec::{CommandSpec, DEFAULT_GRACE, OutputCap};
pub use supervise::{EVENT_BUFFER, Outcome, ProcessEvent, Supervised, spawn};
