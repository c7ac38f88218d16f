//! Running one child process under supervision: events, limits, and a clean kill.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::output::{Collector, Raw, pump_lines};
use crate::{CapturedOutput, CommandSpec, ExecError, group};
use baton_protocol::{EndReason, OutputStream};

/// How long to keep reading pipes after the whole group is gone (something outside
/// the group may still hold them open).
pub(crate) const DRAIN: Duration = Duration::from_millis(500);

/// Something the supervised process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessEvent {
    /// The process printed a line.
    Line {
        /// Which pipe the line came from.
        stream: OutputStream,
        /// The line, without its newline.
        text: String,
    },
    /// No output for half the silence limit; the process is killed at the full limit.
    SilenceWarning {
        /// How long the process has been silent.
        silent_for: Duration,
    },
}

/// Reads an exit status as baton's one [`EndReason`].
pub(crate) fn end_from_status(status: std::process::ExitStatus) -> EndReason {
    match (status.code(), status.signal()) {
        (Some(code), _) => EndReason::Exited { code },
        (None, Some(signal)) => EndReason::Signaled { signal },
        (None, None) => EndReason::Lost {
            error: format!("unrecognised exit status {status}"),
        },
    }
}

/// How a supervised process ended, how long it ran, and the output kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Why it ended.
    pub end: EndReason,
    /// Time from start until the group was gone.
    pub duration: Duration,
    /// Head and tail of its output (stdout and stderr interleaved).
    pub output: CapturedOutput,
}

/// A running child process in its own process group.
///
/// Dropping it while the process still runs kills the whole group (TERM, then KILL).
#[derive(Debug)]
pub struct Supervised {
    pid: u32,
    pgid: i32,
    grace: Duration,
    events: mpsc::UnboundedReceiver<ProcessEvent>,
    outcome: Option<oneshot::Receiver<Outcome>>,
    ended: Arc<AtomicBool>,
    stop: CancellationToken,
}

/// Starts `spec` under supervision. Must be called inside a tokio runtime.
///
/// Cancelling `cancel` kills the process group and ends it with [`EndReason::Cancelled`].
pub fn spawn(spec: CommandSpec, cancel: CancellationToken) -> Result<Supervised, ExecError> {
    spec.check_cwd()?;
    let log = match &spec.log_file {
        Some(path) => Some(open_log(path).map_err(|source| ExecError::LogFile {
            program: spec.program.clone(),
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let mut child = spec.start()?;
    let Some(pid) = child.id() else {
        return Err(spec.spawn_error(std::io::Error::other("process vanished at start")));
    };
    let pgid = pid as i32;
    let (raw_tx, raw_rx) = mpsc::unbounded_channel();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump_lines(
            out,
            OutputStream::Stdout,
            raw_tx.clone(),
        )));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump_lines(err, OutputStream::Stderr, raw_tx)));
    }
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (outcome_tx, outcome_rx) = oneshot::channel();
    let ended = Arc::new(AtomicBool::new(false));
    let stop = CancellationToken::new();
    let run = Run {
        open_streams: readers.len(),
        child,
        pgid,
        deadline: spec.deadline,
        silence: spec.silence,
        grace: spec.grace,
        cancel,
        stop: stop.clone(),
        raw: raw_rx,
        readers,
        events: events_tx,
        collector: Collector::new(spec.capture),
        log,
        started: Instant::now(),
        ended: ended.clone(),
    };
    tokio::spawn(async move {
        let outcome = run.run().await;
        let _ = outcome_tx.send(outcome);
    });
    Ok(Supervised {
        pid,
        pgid,
        grace: spec.grace,
        events: events_rx,
        outcome: Some(outcome_rx),
        ended,
        stop,
    })
}

fn open_log(path: &std::path::Path) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    Ok(std::io::BufWriter::new(file))
}

impl Supervised {
    /// Process id of the child (the group leader).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Process group id of the child (equal to its pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The next thing the process did; `None` once it has ended and every line was delivered.
    pub async fn next_event(&mut self) -> Option<ProcessEvent> {
        self.events.recv().await
    }

    /// Drains the remaining events and returns how the process ended.
    pub async fn wait(mut self) -> Outcome {
        while self.events.recv().await.is_some() {}
        let received = match self.outcome.take() {
            Some(rx) => rx.await.ok(),
            None => None,
        };
        received.unwrap_or_else(|| Outcome {
            end: EndReason::Lost {
                error: "the supervising task stopped before reporting".to_owned(),
            },
            duration: Duration::ZERO,
            output: CapturedOutput::default(),
        })
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if self.ended.load(Ordering::SeqCst) {
            return;
        }
        // The supervising task kills the group when it can; the thread covers a runtime
        // that is shutting down and will not run that task any more.
        self.stop.cancel();
        let (pgid, grace) = (self.pgid, self.grace);
        let _ = std::thread::Builder::new()
            .name(format!("baton-kill-{pgid}"))
            .spawn(move || group::kill_group_blocking(pgid, grace));
    }
}

/// State of the task supervising one process.
struct Run {
    child: Child,
    pgid: i32,
    deadline: Option<Duration>,
    silence: Option<Duration>,
    grace: Duration,
    cancel: CancellationToken,
    stop: CancellationToken,
    raw: mpsc::UnboundedReceiver<Raw>,
    readers: Vec<JoinHandle<()>>,
    open_streams: usize,
    events: mpsc::UnboundedSender<ProcessEvent>,
    collector: Collector,
    log: Option<std::io::BufWriter<std::fs::File>>,
    started: Instant,
    ended: Arc<AtomicBool>,
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Run {
    /// Handles one message from a pipe reader; returns whether it was a line.
    fn on_raw(&mut self, raw: Option<Raw>) -> bool {
        match raw {
            Some(Raw::Line(stream, text)) => {
                if let Some(log) = &mut self.log {
                    let written = log
                        .write_all(text.as_bytes())
                        .and_then(|()| log.write_all(b"\n"));
                    if written.is_err() {
                        // A broken log must not break supervision; stop logging.
                        self.log = None;
                    }
                }
                self.collector.push(&text);
                let _ = self.events.send(ProcessEvent::Line { stream, text });
                true
            }
            Some(Raw::Eof) => {
                self.open_streams = self.open_streams.saturating_sub(1);
                false
            }
            None => {
                self.open_streams = 0;
                false
            }
        }
    }

    fn flush_log_if_idle(&mut self) {
        if !self.raw.is_empty() {
            return;
        }
        if let Some(log) = &mut self.log
            && log.flush().is_err()
        {
            self.log = None;
        }
    }

    async fn run(mut self) -> Outcome {
        let deadline_at = self.deadline.map(|d| self.started + d);
        let mut last_output = Instant::now();
        let mut warned = false;
        let mut kill_reason: Option<EndReason> = None;
        let mut status: Option<std::io::Result<std::process::ExitStatus>> = None;

        // Phase 1: the leader runs; watch output and limits.
        loop {
            let warn_at = self
                .silence
                .filter(|_| !warned)
                .map(|s| last_output + s / 2);
            let silent_at = self.silence.map(|s| last_output + s);
            tokio::select! {
                raw = self.raw.recv(), if self.open_streams > 0 => {
                    if self.on_raw(raw) {
                        last_output = Instant::now();
                        warned = false;
                    }
                    self.flush_log_if_idle();
                }
                exited = self.child.wait() => {
                    status = Some(exited);
                    break;
                }
                () = self.cancel.cancelled() => {
                    kill_reason = Some(EndReason::Cancelled);
                    break;
                }
                () = self.stop.cancelled() => {
                    kill_reason = Some(EndReason::Cancelled);
                    break;
                }
                () = sleep_until_opt(deadline_at) => {
                    kill_reason = self.deadline.map(|after| EndReason::TimedOut { after_ms: EndReason::millis(after) });
                    break;
                }
                () = sleep_until_opt(silent_at) => {
                    kill_reason = self.silence.map(|after| EndReason::Silent { after_ms: EndReason::millis(after) });
                    break;
                }
                () = sleep_until_opt(warn_at) => {
                    warned = true;
                    if let Some(s) = self.silence {
                        let _ = self.events.send(ProcessEvent::SilenceWarning { silent_for: s / 2 });
                    }
                }
            }
        }

        // Phase 2: kill whatever is left of the group, reap the leader, drain the pipes.
        let kill = group::kill_group(self.pgid, self.grace);
        tokio::pin!(kill);
        let mut killed = false;
        let mut drain_until: Option<Instant> = None;
        loop {
            if killed && status.is_some() {
                if self.open_streams == 0 {
                    break;
                }
                if drain_until.is_none() {
                    drain_until = Some(Instant::now() + DRAIN);
                }
            }
            tokio::select! {
                _ = &mut kill, if !killed => killed = true,
                exited = self.child.wait(), if status.is_none() => status = Some(exited),
                raw = self.raw.recv(), if self.open_streams > 0 => {
                    self.on_raw(raw);
                }
                () = sleep_until_opt(drain_until) => break,
            }
        }
        for reader in &self.readers {
            reader.abort();
        }
        while let Ok(raw) = self.raw.try_recv() {
            self.on_raw(Some(raw));
        }
        if let Some(log) = &mut self.log {
            let _ = log.flush();
        }
        let end = match (kill_reason, status) {
            (Some(reason), _) => reason,
            (None, Some(Ok(exit))) => end_from_status(exit),
            (None, Some(Err(error))) => EndReason::Lost {
                error: error.to_string(),
            },
            (None, None) => EndReason::Lost {
                error: "the process was never reaped".to_owned(),
            },
        };
        self.ended.store(true, Ordering::SeqCst);
        Outcome {
            end,
            duration: self.started.elapsed(),
            output: std::mem::replace(&mut self.collector, Collector::new(Default::default()))
                .finish(),
        }
    }
}
