//! Process-group helpers: killing a whole group, checking it, finding processes by environment.

use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::time::{Instant, sleep};

/// How often a dying group is polled.
const POLL: Duration = Duration::from_millis(10);
/// How long to wait for a group to vanish after SIGKILL.
const AFTER_KILL: Duration = Duration::from_secs(1);

/// A process found by [`find_processes_with_env`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: i32,
    /// Process group id.
    pub pgid: i32,
}

/// Whether any live (non-zombie) process is left in process group `pgid`.
///
/// Starts with `kill(-pgid, 0)`; when that says the group exists, `/proc` is consulted
/// so that zombies nobody reaps (for example orphans under a PID 1 that never waits)
/// do not count as alive.
pub fn group_alive(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    if kill(Pid::from_raw(-pgid), None).is_err() {
        return false;
    }
    // Fast path: the leader itself is usually the live member.
    if read_stat(pgid).is_some_and(|stat| stat.pgid == pgid && !stat.is_zombie()) {
        return true;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .any(|stat| stat.pgid == pgid && !stat.is_zombie())
}

/// Kills process group `pgid`: SIGTERM to the group, wait up to `grace` for it to
/// disappear, then SIGKILL. Returns whether anything in the group was alive.
pub async fn kill_group(pgid: i32, grace: Duration) -> bool {
    if is_own_group(pgid) || !group_alive(pgid) {
        return false;
    }
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    // Stopped processes only act on TERM once continued.
    let _ = killpg(group, Signal::SIGCONT);
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if !group_alive(pgid) {
            return true;
        }
        sleep(POLL).await;
    }
    let _ = killpg(group, Signal::SIGKILL);
    let until = Instant::now() + AFTER_KILL;
    while group_alive(pgid) && Instant::now() < until {
        sleep(POLL).await;
    }
    true
}

/// Blocking variant of [`kill_group`] for use outside async code (e.g. `Drop`).
pub(crate) fn kill_group_blocking(pgid: i32, grace: Duration) {
    if is_own_group(pgid) || !group_alive(pgid) {
        return;
    }
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    let _ = killpg(group, Signal::SIGCONT);
    let until = std::time::Instant::now() + grace;
    while std::time::Instant::now() < until {
        if !group_alive(pgid) {
            return;
        }
        std::thread::sleep(POLL);
    }
    let _ = killpg(group, Signal::SIGKILL);
}

/// Never signal the group baton itself runs in.
fn is_own_group(pgid: i32) -> bool {
    nix::unistd::getpgrp().as_raw() == pgid
}

/// Processes whose environment contains exactly `key=value`.
///
/// Scans `/proc/*/environ`; unreadable entries and the calling process are skipped.
pub fn find_processes_with_env(key: &str, value: &str) -> Vec<ProcessInfo> {
    let wanted = format!("{key}={value}").into_bytes();
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<ProcessInfo> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|var| var == wanted.as_slice()))
                .unwrap_or(false)
        })
        .filter_map(|pid| {
            let stat = read_stat(pid)?;
            Some(ProcessInfo {
                pid,
                pgid: stat.pgid,
            })
        })
        .collect();
    found.sort_by_key(|info| info.pid);
    found
}

/// The few fields of `/proc/<pid>/stat` we need.
struct Stat {
    state: char,
    pgid: i32,
}

impl Stat {
    fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

fn read_stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `pid (comm) state ppid pgrp ...`; `comm` may contain spaces and parentheses.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgid = fields.next()?.parse().ok()?;
    Some(Stat { state, pgid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_parentheses_in_the_name_is_parsed() {
        let stat = parse_stat("42 (we(ird) name)) S 1 4242 4242 0 -1").unwrap();
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.pgid, 4242);
    }

    #[test]
    fn a_group_that_does_not_exist_is_not_alive() {
        assert!(!group_alive(i32::MAX - 7));
        assert!(!group_alive(0));
        assert!(!group_alive(1));
    }
}
