//! Killing processes that escaped supervision: they left their process group (`setsid`,
//! a daemon that double-forks) but still carry a marker in their environment.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::time::{Instant, sleep};

use crate::find_processes_with_env;

/// A process [`reap_marked`] killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaped {
    /// Its process id.
    pub pid: i32,
    /// Its command line (arguments joined by spaces), or `?` when it could not be read.
    pub command: String,
}

impl std::fmt::Display for Reaped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.command)
    }
}

/// How many times the scan is repeated: a process may fork while it is being killed.
const ROUNDS: usize = 5;
/// How long a SIGKILLed process may take to disappear.
const AFTER_KILL: Duration = Duration::from_secs(1);

/// Kills every process whose environment holds `key=value`: SIGTERM, then SIGKILL after
/// `grace`. Processes are signalled one by one, never by group: an escaped process may have
/// joined a group that also holds processes that are not baton's. Returns what was killed.
pub async fn reap_marked(key: &str, value: &str, grace: Duration) -> Vec<Reaped> {
    let mut reaped: Vec<Reaped> = Vec::new();
    for _ in 0..ROUNDS {
        let found = find_processes_with_env(key, value);
        if found.is_empty() {
            break;
        }
        for process in &found {
            if !reaped.iter().any(|r| r.pid == process.pid) {
                reaped.push(Reaped {
                    pid: process.pid,
                    command: command_line(process.pid),
                });
            }
            let pid = Pid::from_raw(process.pid);
            let _ = kill(pid, Signal::SIGTERM);
            let _ = kill(pid, Signal::SIGCONT);
        }
        wait_gone(key, value, grace).await;
        for process in find_processes_with_env(key, value) {
            let _ = kill(Pid::from_raw(process.pid), Signal::SIGKILL);
        }
        wait_gone(key, value, AFTER_KILL).await;
    }
    reaped
}

/// Waits until no process carries the marker, or `limit` passed.
async fn wait_gone(key: &str, value: &str, limit: Duration) {
    let until = Instant::now() + limit;
    while Instant::now() < until && !find_processes_with_env(key, value).is_empty() {
        sleep(Duration::from_millis(10)).await;
    }
}

fn command_line(pid: i32) -> String {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(bytes) if !bytes.is_empty() => bytes
            .split(|&b| b == 0)
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        _ => "?".to_owned(),
    }
}
