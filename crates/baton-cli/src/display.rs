//! Live output of a run: progress bars on a terminal, plain lines otherwise, JSONL with
//! `--json`. It only reads events; it never touches the engine's state.

use crate::style;
use baton_engine::{Engine, Report};
use baton_protocol::{EndReason, Event, EventBody, MergeItemStatus, RunId, TaskStatus};
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
                let head = format!("run {} {}", event.run, style::status(to.as_str()));
                self.say(with_reason(head, reason.as_deref(), &event.run, ""));
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
            EventBody::AttemptAgent { event, .. } => {
                if let (Some(bar), Some(said)) = (self.running.get(&task), agent_line(event)) {
                    bar.set_message(style::dim(&said));
                }
            }
            EventBody::AttemptSilence { silent_ms, .. } => self.say(format!(
                "{} {task} has printed nothing for {}",
                style::warn("warning:"),
                short_duration(*silent_ms)
            )),
            EventBody::GateFinished {
                gate,
                passed,
                merge_item,
                end,
                ..
            } => {
                let place = if merge_item.is_some() {
                    "merge gate"
                } else {
                    "gate"
                };
                if *end == EndReason::Cancelled {
                    self.say(format!(
                        "{} {task}: {place} {gate} interrupted",
                        style::warn("!")
                    ));
                } else if !passed {
                    self.say(format!("{} {task}: {place} {gate} failed", style::bad("✗")));
                } else if self.mode == Mode::Plain {
                    self.say(format!("{task}: {place} {gate} passed"));
                }
            }
            EventBody::TaskStatusChanged { to, reason, .. } => {
                if *to != TaskStatus::Running {
                    self.end_task_bar(&task);
                }
                let why = |head: String| with_reason(head, reason.as_deref(), &event.run, &task);
                match to {
                    TaskStatus::Merged => {
                        self.merged += 1;
                        self.overall.set_position(self.merged);
                        self.say(format!("{} {task} merged", style::good("✓")));
                    }
                    TaskStatus::Failed | TaskStatus::Blocked => {
                        self.say(why(format!("{} {task} {}", style::bad("✗"), to)));
                    }
                    TaskStatus::NeedsHuman | TaskStatus::Skipped | TaskStatus::ForceCompleted => {
                        self.say(why(format!("{} {task} {}", style::warn("!"), to)));
                    }
                    TaskStatus::Pending if reason.is_some() => {
                        self.say(why(format!("{} {task} runs again", style::warn("↻"))));
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
                let head = format!("{} {task} conflicts", style::warn("merge:"));
                self.say(with_reason(head, detail.as_deref(), &event.run, &task));
            }
            EventBody::Warning { message } => {
                self.say(format!("{} {message}", style::warn("warning:")))
            }
            EventBody::TaskEscalated { .. } | EventBody::CouncilFinished { .. } => {
                if let Some(line) = ladder_line(&task, &event.body) {
                    self.say(line);
                }
            }
            EventBody::IntegrationTampered {
                expected, culprit, ..
            } => self.say(format!(
                "{} the integration branch was moved by {}; put back at {}",
                style::warn("tampering:"),
                culprit.as_ref().map_or_else(
                    || "something other than baton".to_owned(),
                    |t| format!("task {t}")
                ),
                expected.get(..10).unwrap_or(expected)
            )),
            EventBody::AttemptRefsRestored { refs, .. } => {
                for line in refs {
                    self.say(format!("{} {task}: {line}", style::warn("refs:")));
                }
            }
            EventBody::ProcessesReaped {
                what, processes, ..
            } => self.say(format!(
                "{} {task}: killed {} process(es) its {what} left behind: {}",
                style::warn("escaped:"),
                processes.len(),
                processes.join(", ")
            )),
            _ => {}
        }
    }
}

/// The line of a move up the escalation ladder or of a council's end (`None` for any other
/// event).
fn ladder_line(task: &str, body: &EventBody) -> Option<String> {
    match body {
        EventBody::TaskEscalated {
            rung, agents, why, ..
        } => Some(format!(
            "{} {task} escalated to {rung} ({}): {why}",
            style::warn("↑"),
            agents.join(", ")
        )),
        EventBody::CouncilFinished {
            winner_agent, why, ..
        } => {
            let mark = match winner_agent {
                Some(_) => style::good("✓"),
                None => style::bad("✗"),
            };
            Some(format!("{mark} {task}: council: {why}"))
        }
        _ => None,
    }
}

/// What an AI agent is doing, in one line for its progress bar.
fn agent_line(event: &baton_protocol::AgentEvent) -> Option<String> {
    use baton_protocol::AgentEvent;
    let line = match event {
        AgentEvent::Message { text } => text.lines().find(|l| !l.trim().is_empty())?.to_owned(),
        AgentEvent::ToolCall { name, .. } => format!("tool {name}"),
        AgentEvent::CommandRun { command, .. } => format!("$ {command}"),
        AgentEvent::FileChange { path, .. } => format!("edits {path}"),
        AgentEvent::TodoList { items } => {
            let done = items.iter().filter(|item| item.done).count();
            format!("todo {done}/{}", items.len())
        }
        _ => return None,
    };
    Some(line)
}

/// `head: reason`, the reason whole (bounded as in the report, with a pointer to `baton logs`
/// when cut): its first line beside the head, the others below, indented.
fn with_reason(head: String, reason: Option<&str>, run: &RunId, task: &str) -> String {
    let Some(reason) = reason.filter(|r| !r.trim().is_empty()) else {
        return head;
    };
    let text = Report::readable_reason(reason, run, task);
    let mut out = head;
    for (index, line) in text.lines().enumerate() {
        if index == 0 {
            out.push_str(": ");
        } else if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str("\n    ");
        }
        out.push_str(line);
    }
    out
}

/// A short duration as a person reads it: `500ms`, `1.5s`, then whole seconds and minutes
/// (whole seconds alone would print a half-second silence warning as "0s").
fn short_duration(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..10_000 if !ms.is_multiple_of(1000) => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        _ => baton_core::format_duration(Duration::from_millis(ms)),
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

#[cfg(test)]
#[path = "display_tests.rs"]
mod tests;
