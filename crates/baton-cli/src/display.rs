//! Live output of a run: progress bars on a terminal, plain lines otherwise, JSONL with
//! `--json`. It only reads events; it never touches the engine's state.

use crate::style;
use baton_engine::Engine;
use baton_protocol::{Event, EventBody, MergeItemStatus, RunId, TaskStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// How a run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every event as one JSON line on stdout, none lost.
    Json,
    /// Bars and spinners on stderr.
    Terminal,
    /// One line per notable event on stderr.
    Plain,
}

impl Mode {
    /// The mode for this invocation.
    pub fn pick(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Plain
        }
    }
}

/// Shows the run's events until `stop` is cancelled, then flushes what is left.
pub async fn show(engine: Engine, run: RunId, mode: Mode, stop: CancellationToken) {
    match mode {
        Mode::Json => stream_json(&engine, &run, stop).await,
        Mode::Terminal | Mode::Plain => show_human(&engine, &run, mode, stop).await,
    }
}

/// JSONL from the event log itself, so nothing is lost even if the live bus lags.
async fn stream_json(engine: &Engine, run: &RunId, stop: CancellationToken) {
    let mut after = 0;
    loop {
        let stopping = stop.is_cancelled();
        match engine.store().events(run, after, 1000).await {
            Ok(events) => {
                let full = events.len() == 1000;
                for event in events {
                    after = event.seq;
                    if let Ok(line) = serde_json::to_string(&event) {
                        println!("{line}");
                    }
                }
                if full {
                    continue;
                }
            }
            Err(error) => eprintln!("baton: cannot read events: {error}"),
        }
        if stopping {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

struct Human {
    mode: Mode,
    multi: MultiProgress,
    overall: ProgressBar,
    running: HashMap<String, ProgressBar>,
    merged: u64,
}

impl Human {
    fn say(&self, text: String) {
        match self.mode {
            Mode::Terminal => {
                let _ = self.multi.println(text);
            }
            _ => eprintln!("{text}"),
        }
    }

    fn task_bar(&mut self, task: &str, lane: &str, attempt: u32) {
        if self.mode != Mode::Terminal {
            return;
        }
        let bar = self
            .multi
            .insert_before(&self.overall, ProgressBar::new_spinner());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {prefix:<28} {elapsed:>4} {wide_msg}")
        {
            bar.set_style(style);
        }
        let suffix = if attempt > 1 {
            format!(" #{attempt}")
        } else {
            String::new()
        };
        bar.set_prefix(format!("{task}{suffix} [{lane}]"));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Some(old) = self.running.insert(task.to_string(), bar) {
            old.finish_and_clear();
        }
    }

    fn end_task_bar(&mut self, task: &str) {
        if let Some(bar) = self.running.remove(task) {
            bar.finish_and_clear();
        }
    }

    fn handle(&mut self, event: &Event) {
        let task = event
            .task
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        match &event.body {
            EventBody::RunCreated {
                goal,
                tasks,
                lanes,
                base,
                ..
            } => self.say(format!(
                "{} run {} — {goal} ({tasks} tasks, {lanes} lanes, base {base})",
                style::bold("baton"),
                event.run
            )),
            EventBody::RunStatusChanged { to, reason, .. } => {
                let why = reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                self.say(format!(
                    "run {} {}{why}",
                    event.run,
                    style::status(to.as_str())
                ));
            }
            EventBody::RunReconciled { actions } => {
                for action in actions {
                    self.say(format!("{} {action}", style::warn("recovered:")));
                }
            }
            EventBody::AttemptStarted { attempt, lane, .. } => {
                self.task_bar(&task, lane, *attempt);
                if self.mode == Mode::Plain {
                    self.say(format!("{task}: attempt {attempt} started in {lane}"));
                }
            }
            EventBody::AttemptOutput { line, .. } => {
                if let Some(bar) = self.running.get(&task) {
                    bar.set_message(style::dim(line));
                }
            }
            EventBody::AttemptSilence { silent_ms, .. } => self.say(format!(
                "{} {task} has printed nothing for {}s",
                style::warn("warning:"),
                silent_ms / 1000
            )),
            EventBody::GateFinished {
                gate,
                passed,
                merge_item,
                ..
            } => {
                let place = if merge_item.is_some() {
                    "merge gate"
                } else {
                    "gate"
                };
                if !passed {
                    self.say(format!("{} {task}: {place} {gate} failed", style::bad("✗")));
                } else if self.mode == Mode::Plain {
                    self.say(format!("{task}: {place} {gate} passed"));
                }
            }
            EventBody::TaskStatusChanged { to, reason, .. } => {
                if *to != TaskStatus::Running {
                    self.end_task_bar(&task);
                }
                let why = reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                match to {
                    TaskStatus::Merged => {
                        self.merged += 1;
                        self.overall.set_position(self.merged);
                        self.say(format!("{} {task} merged", style::good("✓")));
                    }
                    TaskStatus::Failed | TaskStatus::Blocked => {
                        self.say(format!("{} {task} {}{why}", style::bad("✗"), to));
                    }
                    TaskStatus::Pending if reason.is_some() => {
                        self.say(format!("{} {task} runs again{why}", style::warn("↻")));
                    }
                    TaskStatus::Queued if self.mode == Mode::Plain => {
                        self.say(format!("{task}: queued for merge"));
                    }
                    _ => {}
                }
            }
            EventBody::MergeItemStatusChanged { to, detail, .. }
                if *to == MergeItemStatus::Conflicted =>
            {
                self.say(format!(
                    "{} {task} conflicts: {}",
                    style::warn("merge:"),
                    detail.as_deref().unwrap_or("")
                ));
            }
            EventBody::Warning { message } => {
                self.say(format!("{} {message}", style::warn("warning:")))
            }
            _ => {}
        }
    }
}

async fn show_human(engine: &Engine, run: &RunId, mode: Mode, stop: CancellationToken) {
    let mut receiver = engine.bus().subscribe();
    let tasks = engine.store().tasks(run).await.unwrap_or_default();
    let merged = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Merged)
        .count() as u64;
    let multi = MultiProgress::with_draw_target(if mode == Mode::Terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let overall = multi.add(ProgressBar::new(tasks.len() as u64));
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} merged  {elapsed}") {
        overall.set_style(style);
    }
    overall.set_position(merged);
    let mut human = Human {
        mode,
        multi,
        overall,
        running: HashMap::new(),
        merged,
    };
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(event) if &event.run == run => human.handle(&event),
                Ok(_) => {}
                Err(RecvError::Lagged(skipped)) => {
                    human.say(format!("({skipped} events not shown; see `baton events {run}`)"));
                }
                Err(RecvError::Closed) => break,
            },
            _ = stop.cancelled() => {
                while let Ok(event) = receiver.try_recv() {
                    if &event.run == run {
                        human.handle(&event);
                    }
                }
                break;
            }
        }
    }
    for (_, bar) in human.running.drain() {
        bar.finish_and_clear();
    }
    human.overall.finish_and_clear();
}
