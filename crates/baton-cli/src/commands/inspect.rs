//! `baton status`, `logs`, `events` and `report`: reading a run without changing it.

use super::{known_run, open_engine, print_json};
use crate::cli::ReportFormat;
use crate::{Exit, exit, style};
use baton_engine::Report;
use baton_protocol::AttemptStatus;
use serde::Serialize;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

#[derive(Serialize)]
struct RunLine {
    id: String,
    status: String,
    goal: String,
    repo: String,
    merged: usize,
    tasks: usize,
    created_at: String,
    finished_at: Option<String>,
}

#[derive(Serialize)]
struct TaskLine {
    id: String,
    title: String,
    status: String,
    attempts: u32,
    failures: u32,
    lane: Option<String>,
    merge_commit: Option<String>,
    last_failure: Option<String>,
    /// The agent's own checklist (its last todo list), when it reported one.
    #[serde(skip_serializing_if = "Option::is_none")]
    checklist: Option<Checklist>,
}

/// A task's checklist: its steps and how many are done.
#[derive(Serialize)]
struct Checklist {
    done: usize,
    total: usize,
    steps: Vec<baton_protocol::TodoItem>,
    /// `agent`: the agent's own todo list; `plan`: the plan's `steps` (all done once the
    /// task is merged or declared done), until the agent reports one.
    source: &'static str,
}

impl Checklist {
    fn of(steps: Vec<baton_protocol::TodoItem>, source: &'static str) -> Checklist {
        Checklist {
            done: steps.iter().filter(|s| s.done).count(),
            total: steps.len(),
            steps,
            source,
        }
    }

    /// The plan's steps of a task whose agent reported no list: done when the task is.
    fn planned(steps: &[String], status: baton_protocol::TaskStatus) -> Option<Checklist> {
        if steps.is_empty() {
            return None;
        }
        let done = baton_core::task_is_done(status);
        let items = steps
            .iter()
            .map(|text| baton_protocol::TodoItem {
                text: text.clone(),
                done,
            })
            .collect();
        Some(Checklist::of(items, "plan"))
    }
}

/// `baton status [RUN]`.
pub async fn status(run: Option<&str>, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let store = engine.store();
    let Some(run) = run else {
        let mut lines = Vec::new();
        for row in store.runs().await? {
            let tasks = store.tasks(&row.id).await?;
            lines.push(RunLine {
                id: row.id.to_string(),
                status: row.status.to_string(),
                goal: row.goal.clone(),
                repo: row.repo.clone(),
                merged: tasks
                    .iter()
                    .filter(|t| t.status.as_str() == "merged")
                    .count(),
                tasks: tasks.len(),
                created_at: row.created_at.clone(),
                finished_at: row.finished_at.clone(),
            });
        }
        if json {
            print_json(&lines)?;
        } else if lines.is_empty() {
            println!(
                "no runs yet; start one with `baton run --plan plan.yaml` or try `baton demo`"
            );
        } else {
            println!("{:<26} {:<10} {:>7}  GOAL", "RUN", "STATUS", "MERGED");
            for line in lines {
                println!(
                    "{:<26} {:<10} {:>7}  {}",
                    line.id,
                    style::status(&line.status),
                    format!("{}/{}", line.merged, line.tasks),
                    line.goal
                );
            }
        }
        return Ok(exit::OK);
    };
    let run = known_run(&engine, run).await?;
    let row = store.run(&run).await?;
    let attempts = store.attempts(&run, None).await?;
    let mut checklists = store.checklists(&run).await?;
    // The plan's steps stand in for a task whose agent has reported no list of its own.
    let plan = baton_core::parse_plan(&row.plan_source, &row.plan_origin).ok();
    let steps_of = |id: &baton_protocol::TaskId| {
        plan.as_ref()
            .and_then(|plan| plan.task(id))
            .map(|spec| spec.steps.clone())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    for task in store.tasks(&run).await? {
        let lane = attempts
            .iter()
            .rev()
            .find(|a| a.task_id == task.id && a.status == AttemptStatus::Running)
            .map(|a| a.lane.clone());
        lines.push(TaskLine {
            id: task.id.to_string(),
            title: task.title.clone(),
            status: task.status.to_string(),
            attempts: task.attempts,
            failures: task.failures,
            lane,
            merge_commit: task.merge_commit.clone(),
            last_failure: task
                .last_failure
                .as_deref()
                .map(|f| Report::readable_reason(f, &run, task.id.as_str())),
            checklist: match checklists.remove(&task.id) {
                Some(items) => Some(Checklist::of(items, "agent")),
                None => Checklist::planned(&steps_of(&task.id), task.status),
            },
        });
    }
    if json {
        let (escalations, councils) = engine.escalations(&run).await?;
        print_json(&serde_json::json!({
            "run": row.id,
            "status": row.status,
            "goal": row.goal,
            "repo": row.repo,
            "base": row.base_ref,
            "integration_branch": row.integration_ref.strip_prefix("refs/heads/"),
            "lanes": row.lanes,
            "owner": row.lease.as_ref().map(|l| serde_json::json!({"pid": l.pid, "host": l.host})),
            "tasks": lines,
            "escalations": escalations,
            "councils": councils,
        }))?;
        return Ok(exit::OK);
    }
    println!(
        "run {} {} — {}\nrepo {}  base {}  lanes {}",
        row.id,
        style::status(row.status.as_str()),
        row.goal,
        row.repo,
        row.base_ref,
        row.lanes
    );
    println!(
        "\n{:<20} {:<9} {:>8}  {:<8} {:<6} NOTE",
        "TASK", "STATUS", "ATTEMPTS", "LANE", "STEPS"
    );
    for line in lines {
        let note = match (&line.merge_commit, &line.last_failure) {
            (Some(commit), _) => format!("merged as {}", commit.get(..10).unwrap_or(commit)),
            (None, Some(failure)) => failure.clone(),
            _ => String::new(),
        };
        // The first line of a note in its column, the rest of it below the row, indented.
        let mut note_lines = note.lines();
        let steps = line
            .checklist
            .as_ref()
            .map_or_else(|| "-".to_string(), |c| format!("{}/{}", c.done, c.total));
        println!(
            "{:<20} {:<9} {:>8}  {:<8} {:<6} {}",
            line.id,
            style::status(&line.status),
            line.attempts,
            line.lane.unwrap_or_else(|| "-".into()),
            steps,
            note_lines.next().unwrap_or("")
        );
        for rest in note_lines {
            if rest.is_empty() {
                println!();
            } else {
                println!("    {rest}");
            }
        }
    }
    Ok(exit::OK)
}

/// `baton logs RUN TASK [--attempt N] [--follow]`.
pub async fn logs(
    run: &str,
    task: &str,
    attempt: Option<u32>,
    follow: bool,
    json: bool,
) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let task_id = baton_protocol::TaskId::new(task);
    let attempts = engine.store().attempts(&run, Some(&task_id)).await?;
    let chosen = match attempt {
        Some(n) => attempts.iter().find(|a| a.number == n),
        None => attempts.iter().max_by_key(|a| a.number),
    };
    let Some(chosen) = chosen else {
        let tasks = engine.store().tasks(&run).await?;
        let error = if tasks.iter().any(|t| t.id == task_id) {
            match attempt {
                Some(n) => anyhow::anyhow!("task {task} of run {run} has no attempt {n}"),
                None => anyhow::anyhow!("task {task} of run {run} has not started yet"),
            }
        } else {
            let names: Vec<String> = tasks.iter().map(|t| t.id.to_string()).collect();
            anyhow::anyhow!(
                "run {run} has no task {task:?} (its tasks: {})",
                names.join(", ")
            )
        };
        return Err(Exit {
            code: exit::BAD_INPUT,
            error,
        });
    };
    let path = std::path::PathBuf::from(&chosen.log_path);
    let number = chosen.number;
    let mut offset = 0u64;
    let mut out = LogWriter {
        json,
        pending: Vec::new(),
        run: run.to_string(),
        task: task.to_string(),
        attempt: number,
    };
    loop {
        if let Ok(mut file) = std::fs::File::open(&path) {
            file.seek(SeekFrom::Start(offset))?;
            let mut buffer = Vec::new();
            file.read_to_end(&mut buffer)?;
            offset += buffer.len() as u64;
            out.write(&buffer)?;
        }
        if !follow {
            break;
        }
        // The attempt may stay `running` in the store when its engine died; the run being
        // settled (ended, no live owner) ends the follow as well.
        let now = engine.store().attempts(&run, Some(&task_id)).await?;
        let running = now
            .iter()
            .any(|a| a.number == number && a.status == AttemptStatus::Running);
        if !running || engine.is_settled(&run).await? {
            // One last read picks up what was written before it ended.
            if let Ok(mut file) = std::fs::File::open(&path) {
                file.seek(SeekFrom::Start(offset))?;
                let mut buffer = Vec::new();
                file.read_to_end(&mut buffer)?;
                out.write(&buffer)?;
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    out.finish()?;
    Ok(exit::OK)
}

/// Copies log bytes to stdout, or with `--json` one JSON object per complete line.
struct LogWriter {
    json: bool,
    pending: Vec<u8>,
    run: String,
    task: String,
    attempt: u32,
}

impl LogWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Exit> {
        let mut stdout = std::io::stdout().lock();
        if !self.json {
            stdout.write_all(bytes)?;
            stdout.flush()?;
            return Ok(());
        }
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            self.emit(&mut stdout, text)?;
        }
        stdout.flush()?;
        Ok(())
    }

    fn emit(&self, out: &mut impl Write, line: String) -> Result<(), Exit> {
        let value = serde_json::json!({
            "run": self.run,
            "task": self.task,
            "attempt": self.attempt,
            "line": line,
        });
        writeln!(out, "{value}")?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Exit> {
        if self.json && !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.emit(&mut std::io::stdout().lock(), text)?;
        }
        Ok(())
    }
}

/// `baton events RUN [--since SEQ] [--follow]`: JSONL.
pub async fn events(run: &str, since: i64, follow: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let mut after = since;
    loop {
        let batch = engine.store().events(&run, after, 1000).await?;
        let full = batch.len() == 1000;
        let mut out = std::io::stdout().lock();
        for event in batch {
            after = event.seq;
            writeln!(out, "{}", serde_json::to_string(&event)?)?;
        }
        out.flush()?;
        drop(out);
        if full {
            continue;
        }
        if !follow {
            break;
        }
        // A dead owner never clears its lease, so "no live owner" is what counts.
        if engine.is_settled(&run).await? {
            // Drain what was written before it stopped.
            let rest = engine.store().events(&run, after, u32::MAX).await?;
            let mut out = std::io::stdout().lock();
            for event in rest {
                writeln!(out, "{}", serde_json::to_string(&event)?)?;
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(exit::OK)
}

/// `baton report RUN [--format md|json]`.
pub async fn report(run: &str, format: ReportFormat) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let report = engine.report(&run).await?;
    match format {
        ReportFormat::Json => print_json(&report)?,
        ReportFormat::Md => print!("{}", report.to_markdown()),
    }
    Ok(exit::OK)
}
