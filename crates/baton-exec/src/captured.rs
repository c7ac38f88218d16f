//! Running a short tool to completion and capturing all of its output (in memory: short
//! tools only).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::timeout;

use crate::supervise::DRAIN;
use crate::supervise::end_from_status;
use crate::{CommandSpec, ExecError, group};
use baton_protocol::EndReason;

/// Deadline used by [`run_captured`] when the spec has none.
pub const DEFAULT_CAPTURED_DEADLINE: Duration = Duration::from_secs(60);

/// Everything a short command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// How the command ended.
    pub status: EndReason,
    /// Its complete standard output.
    pub stdout: Vec<u8>,
    /// Its complete standard error (lossy UTF-8).
    pub stderr: String,
}

impl Captured {
    /// Whether the command exited with code 0.
    pub fn success(&self) -> bool {
        self.status.is_success()
    }

    /// The exit code, if the command exited by itself.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output as lossy UTF-8.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `spec` to completion in its own process group and returns all of its output.
///
/// Meant for short tools like git: no line events, no silence limit and no log file.
/// All output is kept in memory, unbounded by design (git's output is the result); anything
/// that may print without bound (an agent, a gate) runs under [`crate::spawn`] instead, whose
/// memory and log file are capped.
/// The deadline (default [`DEFAULT_CAPTURED_DEADLINE`]) kills the group and yields
/// [`EndReason::TimedOut`]. Stragglers left in the group after the leader exits are killed.
pub async fn run_captured(spec: CommandSpec) -> Result<Captured, ExecError> {
    spec.check_cwd()?;
    let mut child = spec.start()?;
    let pgid = child.id().map(|pid| pid as i32);
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    if let Some(pipe) = child.stdout.take() {
        readers.push(tokio::spawn(read_all(pipe, stdout.clone())));
    }
    if let Some(pipe) = child.stderr.take() {
        readers.push(tokio::spawn(read_all(pipe, stderr.clone())));
    }
    let limit = spec.deadline.unwrap_or(DEFAULT_CAPTURED_DEADLINE);
    let waited = timeout(limit, child.wait()).await;
    let status = match waited {
        Ok(Ok(exit)) => end_from_status(exit),
        Ok(Err(source)) => {
            if let Some(pgid) = pgid {
                group::kill_group(pgid, spec.grace).await;
            }
            return Err(ExecError::Wait {
                program: spec.program.clone(),
                cwd: spec.cwd.clone(),
                source,
            });
        }
        Err(_) => EndReason::TimedOut {
            after_ms: EndReason::millis(limit),
        },
    };
    if let Some(pgid) = pgid {
        let (_, reaped) = tokio::join!(group::kill_group(pgid, spec.grace), child.wait());
        drop(reaped);
    }
    for reader in readers {
        let abort = reader.abort_handle();
        if timeout(DRAIN, reader).await.is_err() {
            abort.abort();
        }
    }
    let stdout = take(&stdout);
    let stderr = String::from_utf8_lossy(&take(&stderr)).into_owned();
    Ok(Captured {
        status,
        stdout,
        stderr,
    })
}

async fn read_all<R: AsyncRead + Unpin>(mut pipe: R, sink: Arc<Mutex<Vec<u8>>>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => match sink.lock() {
                Ok(mut sink) => sink.extend_from_slice(&buf[..n]),
                Err(_) => return,
            },
        }
    }
}

fn take(sink: &Mutex<Vec<u8>>) -> Vec<u8> {
    match sink.lock() {
        Ok(mut bytes) => std::mem::take(&mut *bytes),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}
