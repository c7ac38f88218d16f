//! Running one child process under supervision: events, limits, and a clean kill.

use std::os::unix::process::ExitStatusExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::mpsc::error::{SendError, TrySendError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::log::LogFile;
use crate::output::{Collector, Raw, pump_lines};
use crate::{CapturedOutput, CommandSpec, ExecError, group};
use baton_protocol::{EndReason, OutputStream};

/// How long to keep reading pipes after the whole group is gone (something outside
/// the group may still hold them open).
pub(crate) const DRAIN: Duration = Duration::from_millis(500);

/// How many events (lines, warnings) may wait for the consumer of a [`Supervised`]. When they
/// are all waiting, baton stops reading the process's pipes: a process that prints faster than
/// its consumer reads is slowed down (it blocks in `write`) instead of growing baton's memory.
pub const EVENT_BUFFER: usize = 1024;

/// How many lines may wait between the pipe readers and the supervising task.
const READ_BUFFER: usize = 64;

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
    events: mpsc::Receiver<ProcessEvent>,
    outcome: Option<oneshot::Receiver<Outcome>>,
    ended: Arc<AtomicBool>,
    stop: CancellationToken,
}

/// Starts `spec` under supervision. Must be called inside a tokio runtime.
///
/// Cancelling `cancel` kills the process group and ends it with [`EndReason::Cancelled`].
/// Output is read only as fast as the events are taken (see [`EVENT_BUFFER`]); while a slow
/// consumer holds the process back, its silence is not counted.
pub fn spawn(spec: CommandSpec, cancel: CancellationToken) -> Result<Supervised, ExecError> {
    spec.check_cwd()?;
    let log = match &spec.log_file {
        Some(path) => {
            Some(
                LogFile::open(path, spec.log_cap).map_err(|source| ExecError::LogFile {
                    program: spec.program.clone(),
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let mut child = spec.start()?;
    let Some(pid) = child.id() else {
        return Err(spec.spawn_error(std::io::Error::other("process vanished at start")));
    };
    let pgid = pid as i32;
    let (raw_tx, raw_rx) = mpsc::channel(READ_BUFFER);
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump_lines(
            out,
            OutputStream::Stdout,
            raw_tx.clone(),
            spec.max_line_bytes,
        )));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump_lines(
            err,
            OutputStream::Stderr,
            raw_tx,
            spec.max_line_bytes,
        )));
    }
    let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
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
        held: None,
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
    ///
    /// Reading slowly slows the process down (see [`EVENT_BUFFER`]); to ignore the events,
    /// call [`Self::wait`], which drains them.
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
    raw: mpsc::Receiver<Raw>,
    readers: Vec<JoinHandle<()>>,
    open_streams: usize,
    events: mpsc::Sender<ProcessEvent>,
    /// An event the consumer had no room for, and since when. While there is one, the pipes
    /// are not read, and the silence and drain clocks stand still: the process is held back
    /// by its consumer, which says nothing about whether it is silent.
    held: Option<(ProcessEvent, Instant)>,
    collector: Collector,
    log: Option<LogFile>,
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
    /// Handles one message from a pipe reader: a line is logged and kept, and its event
    /// returned for delivery.
    fn on_raw(&mut self, raw: Option<Raw>) -> Option<ProcessEvent> {
        match raw {
            Some(Raw::Line(stream, text)) => {
                if let Some(log) = &mut self.log {
                    log.line(&text);
                }
                self.collector.push(&text);
                Some(ProcessEvent::Line { stream, text })
            }
            Some(Raw::Eof) => {
                self.open_streams = self.open_streams.saturating_sub(1);
                None
            }
            None => {
                self.open_streams = 0;
                None
            }
        }
    }

    /// Passes `event` to the consumer if it has room, or holds it (and stops reading the
    /// pipes) until it has. An event for a consumer that is gone is dropped.
    fn offer(&mut self, event: ProcessEvent) {
        debug_assert!(self.held.is_none(), "events are offered one at a time");
        match self.events.try_send(event) {
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(event)) => {
                self.held = Some((event, Instant::now()));
                // The log may now wait for the consumer: let a reader of the file see it.
                self.flush_log();
            }
        }
    }

    /// Delivers the held event into the consumer's room (`permit`); returns how long it was
    /// held.
    fn deliver(
        &mut self,
        permit: Result<mpsc::Permit<'_, ProcessEvent>, SendError<()>>,
    ) -> Duration {
        let Some((event, since)) = self.held.take() else {
            return Duration::ZERO;
        };
        if let Ok(permit) = permit {
            permit.send(event);
        }
        since.elapsed()
    }

    fn flush_log(&mut self) {
        if let Some(log) = &mut self.log {
            log.flush();
        }
    }

    fn flush_log_if_idle(&mut self) {
        if self.raw.is_empty() || self.held.is_some() {
            self.flush_log();
        }
    }

    async fn run(mut self) -> Outcome {
        let deadline_at = self.deadline.map(|d| self.started + d);
        let mut last_output = Instant::now();
        let mut warned = false;
        let mut kill_reason: Option<EndReason> = None;
        let mut status: Option<std::io::Result<std::process::ExitStatus>> = None;
        // A second handle on the consumer's channel, so that waiting for room in it does not
        // borrow `self`.
        let events = self.events.clone();

        // Phase 1: the leader runs; watch output and limits.
        loop {
            let held = self.held.is_some();
            let silence = self.silence.filter(|_| !held);
            let warn_at = silence.filter(|_| !warned).map(|s| last_output + s / 2);
            let silent_at = silence.map(|s| last_output + s);
            tokio::select! {
                raw = self.raw.recv(), if self.open_streams > 0 && !held => {
                    if let Some(event) = self.on_raw(raw) {
                        last_output = Instant::now();
                        warned = false;
                        self.offer(event);
                    }
                    self.flush_log_if_idle();
                }
                permit = events.reserve(), if held => {
                    last_output += self.deliver(permit);
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
                        self.offer(ProcessEvent::SilenceWarning { silent_for: s / 2 });
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
                // Nothing of the group is left to kill, even if the consumer is slow to take
                // the last lines.
                self.ended.store(true, Ordering::SeqCst);
                if self.open_streams == 0 {
                    break;
                }
                if drain_until.is_none() {
                    drain_until = Some(Instant::now() + DRAIN);
                }
            }
            let held = self.held.is_some();
            tokio::select! {
                _ = &mut kill, if !killed => killed = true,
                exited = self.child.wait(), if status.is_none() => status = Some(exited),
                raw = self.raw.recv(), if self.open_streams > 0 && !held => {
                    if let Some(event) = self.on_raw(raw) {
                        self.offer(event);
                    }
                    self.flush_log_if_idle();
                }
                permit = events.reserve(), if held => {
                    let held_for = self.deliver(permit);
                    if let Some(until) = &mut drain_until {
                        *until += held_for;
                    }
                }
                () = sleep_until_opt(drain_until.filter(|_| !held)) => break,
            }
        }
        for reader in &self.readers {
            reader.abort();
        }
        let mut last = Vec::new();
        while let Ok(raw) = self.raw.try_recv() {
            last.extend(self.on_raw(Some(raw)));
        }
        if let Some(log) = &mut self.log {
            log.finish();
        }
        // At most one held event and a reader buffer's worth of lines: the consumer gets them
        // in order, or they are dropped with it.
        let held = self.held.take().map(|(event, _)| event);
        for event in held.into_iter().chain(last) {
            if events.send(event).await.is_err() {
                break;
            }
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
