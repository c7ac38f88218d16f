//! The run report: what ran, how long, what changed, which gates passed, how the merge queue
//! went, and how well the lanes were used. JSON for machines, Markdown for people.

use crate::deliver::short;
use crate::{Engine, EngineError};
use baton_core::{format_duration, parse_plan};
use baton_protocol::{EndReason, RunId, RunStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Everything `baton report` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: RunId,
    pub goal: String,
    pub status: String,
    pub base: String,
    pub base_commit: String,
    pub integration_branch: String,
    pub integration_head: Option<String>,
    pub lanes: u32,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// From the run's creation to its end (or now).
    pub duration_ms: u64,
    pub tasks: Vec<TaskReport>,
    pub merge_queue: Vec<MergeReport>,
    pub efficiency: Efficiency,
    /// Tokens and dollars of the agent attempts, from the ledger.
    pub usage: crate::report_usage::UsageReport,
    /// Gates not run because the same gate had run on the same tree earlier in the run.
    pub gate_cache_hits: u32,
    /// The merge queue's batches: each gated once on the tip of its merge chain.
    pub batches: Vec<BatchReport>,
    /// Reviewers' verdicts on the attempts' changes and the whole run's.
    pub reviews: Vec<crate::report_reviews::ReviewLine>,
    /// Tasks that moved up the escalation ladder (a fallback agent, a council), and why.
    pub escalations: Vec<crate::report_councils::EscalationLine>,
    /// The councils held: members, costs, gate results, diff sizes, the winner and why.
    pub councils: Vec<crate::report_councils::CouncilReport>,
}

/// One batch of the merge queue.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub id: i64,
    /// Its members (tasks), in queue order.
    pub tasks: Vec<String>,
    /// Its members (merge items).
    pub items: Vec<i64>,
    /// Its place in its round: 0 gated on the integration head, k on the tip of stage k-1.
    pub stage: u32,
    /// 0 for a fresh batch, n for a part of a failed batch split n times (bisection steps).
    pub depth: u32,
    /// `passed`, `failed`, `discarded`, or `gating` while (or when the engine died while) its
    /// gates ran.
    pub outcome: String,
    /// The commit its gates ran on (the tip of its chain).
    pub tip: String,
    /// Gate processes run for it, and gate results taken from the cache.
    pub gate_runs: u32,
    pub cache_hits: u32,
}

/// One task's story.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    pub id: String,
    pub title: String,
    pub status: String,
    pub attempts: Vec<AttemptReport>,
    /// Time spent in all its attempts.
    pub duration_ms: u64,
    /// Files its change touched: the attempt whose commit is the task's, else its last
    /// committed attempt.
    pub changed_files: Vec<String>,
    pub gates: Vec<GateReport>,
    pub merge_commit: Option<String>,
}

/// One attempt.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptReport {
    pub number: u32,
    pub status: String,
    pub duration_ms: u64,
    pub agent_end: Option<EndReason>,
    /// The agent that ran it (`None` for an `exec` task's or one that never started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// What went wrong, whole up to 40 lines or 4 KiB, then a line saying how much more there
    /// is and where to read it (see [`Report::readable_reason`]).
    pub failure: Option<String>,
}

/// One gate run.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub gate: String,
    pub attempt: Option<u32>,
    pub merge_item: Option<i64>,
    pub passed: bool,
    /// How its process ended (`cancelled` when a cancel interrupted it: it neither passed nor
    /// failed). `None` for a record baton cannot read.
    pub end: Option<EndReason>,
    pub duration_ms: u64,
    /// Not run: the result of the same gate on the same tree earlier in the run.
    pub cached: bool,
}

impl GateReport {
    /// `ok`, `interrupted` (a cancel stopped it) or `FAILED`.
    pub fn verdict(&self) -> &'static str {
        match (&self.end, self.passed) {
            (_, true) => "ok",
            (Some(EndReason::Cancelled), false) => "interrupted",
            (_, false) => "FAILED",
        }
    }
}

/// One merge queue item.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub item: i64,
    pub task: String,
    pub attempt: u32,
    pub status: String,
    pub merge_commit: Option<String>,
    pub detail: Option<String>,
    pub queued_at: String,
    pub updated_at: String,
}

/// How well the lanes were used: `ratio` = makespan / max(total work / lanes, critical path).
/// 1.0 is as good as any schedule could do; larger means lanes waited.
#[derive(Debug, Clone, Serialize)]
pub struct Efficiency {
    pub makespan_ms: u64,
    pub total_work_ms: u64,
    pub lanes: u32,
    pub critical_path_ms: u64,
    pub ratio: f64,
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn span_ms(from: &str, to: Option<&str>) -> u64 {
    let Some(start) = parse_time(from) else {
        return 0;
    };
    let end = to.and_then(parse_time).unwrap_or_else(chrono::Utc::now);
    u64::try_from((end - start).num_milliseconds()).unwrap_or(0)
}

impl Engine {
    /// True once nothing more will happen to the run unless someone resumes it: it is
    /// completed, failed or cancelled, and no live engine owns it (an owner that died without
    /// releasing its lease counts as gone). Followers (`--follow`) stop there.
    pub async fn is_settled(&self, run_id: &RunId) -> Result<bool, EngineError> {
        let run = self.store.run(run_id).await?;
        let ended = matches!(
            run.status,
            RunStatus::Completed
                | RunStatus::Failed
                | RunStatus::Cancelled
                | RunStatus::BudgetExceeded
                | RunStatus::AwaitingApproval
        );
        Ok(ended && !run.lease.as_ref().is_some_and(crate::lease::is_live))
    }

    /// Builds the report of a run from the store.
    pub async fn report(&self, run_id: &RunId) -> Result<Report, EngineError> {
        let run = self.store.run(run_id).await?;
        let plan = parse_plan(&run.plan_source, &run.plan_origin)
            .map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
        let dag = plan.dag();
        let tasks = self.store.tasks(run_id).await?;
        let attempts = self.store.attempts(run_id, None).await?;
        let gates = self.store.gate_results(run_id).await?;
        let items = self.store.merge_items(run_id).await?;
        let integration_head = match baton_git::Git::discover(std::path::Path::new(&run.repo)).await
        {
            Ok(git) => git
                .resolve_commit(&run.integration_ref)
                .await
                .ok()
                .flatten()
                .map(|o| o.to_string()),
            Err(_) => None,
        };

        let mut task_reports = Vec::new();
        let mut work: BTreeMap<String, u64> = BTreeMap::new();
        for task in &tasks {
            let mine: Vec<_> = attempts.iter().filter(|a| a.task_id == task.id).collect();
            let attempt_reports: Vec<AttemptReport> = mine
                .iter()
                .map(|a| AttemptReport {
                    number: a.number,
                    status: a.status.to_string(),
                    duration_ms: span_ms(&a.started_at, a.finished_at.as_deref()),
                    agent_end: a.agent_end(),
                    agent: a.agent.clone().filter(|agent| agent != "exec"),
                    failure: a
                        .failure
                        .as_deref()
                        .map(|f| Report::readable_reason(f, run_id, task.id.as_str())),
                })
                .collect();
            let duration_ms = attempt_reports.iter().map(|a| a.duration_ms).sum();
            work.insert(task.id.to_string(), duration_ms);
            // The attempt whose change is the task's (a council's winner need not be the last
            // to commit), else the last that committed.
            let changed_files = mine
                .iter()
                .rev()
                .find(|a| a.task_commit.is_some() && a.task_commit == task.task_commit)
                .or_else(|| mine.iter().rev().find(|a| a.task_commit.is_some()))
                .map(|a| a.changed_paths.clone())
                .unwrap_or_default();
            task_reports.push(TaskReport {
                id: task.id.to_string(),
                title: task.title.clone(),
                status: task.status.to_string(),
                attempts: attempt_reports,
                duration_ms,
                changed_files,
                gates: gates
                    .iter()
                    .filter(|g| g.task_id == task.id)
                    .map(|g| GateReport {
                        gate: g.gate.clone(),
                        attempt: g.attempt,
                        merge_item: g.merge_item,
                        passed: g.passed,
                        end: serde_json::from_str(&g.end_reason).ok(),
                        duration_ms: g.duration_ms,
                        cached: g.cached,
                    })
                    .collect(),
                merge_commit: task.merge_commit.clone(),
            });
        }

        // Critical path by measured work along the plan's dependencies.
        let mut longest: BTreeMap<String, u64> = BTreeMap::new();
        for id in dag.topo_order() {
            let before = dag
                .deps(&id)
                .iter()
                .map(|d| longest.get(d.as_str()).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            let own = work.get(id.as_str()).copied().unwrap_or(0);
            longest.insert(id.to_string(), before + own);
        }
        let critical_path_ms = longest.values().copied().max().unwrap_or(0);
        let total_work_ms: u64 = work.values().sum();
        let first_start = attempts.iter().map(|a| a.started_at.as_str()).min();
        let last_end = tasks
            .iter()
            .filter_map(|t| t.finished_at.as_deref())
            .max()
            .or(run.finished_at.as_deref());
        let makespan_ms = first_start.map(|s| span_ms(s, last_end)).unwrap_or(0);
        let ratio = baton_core::parallel_efficiency(
            Duration::from_millis(makespan_ms),
            Duration::from_millis(total_work_ms),
            usize::try_from(run.lanes).unwrap_or(1),
            Duration::from_millis(critical_path_ms),
        );

        let (escalations, councils) = self.escalations(run_id).await?;
        Ok(Report {
            run: run.id.clone(),
            goal: run.goal.clone(),
            status: run.status.to_string(),
            base: run.base_ref.clone(),
            base_commit: run.base_commit.clone(),
            integration_branch: run
                .integration_ref
                .strip_prefix("refs/heads/")
                .unwrap_or(&run.integration_ref)
                .to_string(),
            integration_head,
            lanes: run.lanes,
            created_at: run.created_at.clone(),
            finished_at: run.finished_at.clone(),
            duration_ms: span_ms(&run.created_at, run.finished_at.as_deref()),
            tasks: task_reports,
            merge_queue: items
                .into_iter()
                .map(|i| MergeReport {
                    item: i.id,
                    task: i.task_id.to_string(),
                    attempt: i.attempt,
                    status: i.status.to_string(),
                    merge_commit: i.merge_commit,
                    detail: i
                        .detail
                        .as_deref()
                        .map(|d| Report::readable_reason(d, run_id, i.task_id.as_str())),
                    queued_at: i.created_at,
                    updated_at: i.updated_at,
                })
                .collect(),
            efficiency: Efficiency {
                makespan_ms,
                total_work_ms,
                lanes: run.lanes,
                critical_path_ms,
                ratio,
            },
            usage: crate::report_usage::UsageReport::from_ledger(
                &self.store.ledger_with_times(run_id).await?,
            ),
            gate_cache_hits: u32::try_from(gates.iter().filter(|g| g.cached).count())
                .unwrap_or(u32::MAX),
            batches: self
                .store
                .merge_batches(run_id)
                .await?
                .into_iter()
                .map(|b| BatchReport {
                    id: b.id,
                    tasks: b.tasks.iter().map(|t| t.to_string()).collect(),
                    items: b.items,
                    stage: b.stage,
                    depth: b.depth,
                    outcome: b.outcome.unwrap_or_else(|| "gating".into()),
                    tip: b.tip,
                    gate_runs: b.gate_runs,
                    cache_hits: b.cache_hits,
                })
                .collect(),
            reviews: self
                .store
                .reviews(run_id)
                .await?
                .into_iter()
                .map(crate::report_reviews::ReviewLine::from)
                .collect(),
            escalations,
            councils,
        })
    }
}

impl Report {
    /// `reason` (a failure, a merge note) as a person should read it: whole, without trailing
    /// blank lines, up to [`baton_store::REASON_MAX_LINES`] lines and
    /// [`baton_store::REASON_MAX_BYTES`] bytes; when cut, a last line says how many lines are
    /// left out and that `baton logs RUN TASK` has them (`baton events RUN` when `task` is
    /// empty: a reason of the run itself). Events carry their reasons in this form already.
    pub fn readable_reason(reason: &str, run: &RunId, task: &str) -> String {
        baton_store::readable_reason(reason, run, task)
    }
}

fn ms(value: u64) -> String {
    format_duration(Duration::from_millis(value))
}

impl Report {
    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line(format!("# baton run {}", self.run));
        line(String::new());
        line(format!("- goal: {}", self.goal));
        line(format!("- status: **{}**", self.status));
        line(format!(
            "- base: {} ({})",
            self.base,
            short(&self.base_commit)
        ));
        line(format!(
            "- integration branch: {} at {}",
            self.integration_branch,
            self.integration_head
                .as_deref()
                .map(short)
                .unwrap_or("(missing)")
        ));
        line(format!("- duration: {}", ms(self.duration_ms)));
        line(format!(
            "- parallel efficiency: {:.2} (makespan {} / max(work {} / {} lanes, critical path {}); 1.00 is ideal)",
            self.efficiency.ratio,
            ms(self.efficiency.makespan_ms),
            ms(self.efficiency.total_work_ms),
            self.efficiency.lanes,
            ms(self.efficiency.critical_path_ms)
        ));
        if self.gate_cache_hits > 0 {
            line(format!(
                "- gate cache: {} gate run(s) saved (same gate, same tree)",
                self.gate_cache_hits
            ));
        }
        line(String::new());
        line("## Tasks".into());
        line(String::new());
        line("| task | status | attempts | time | files | gates | merge commit |".into());
        line("| --- | --- | --- | --- | --- | --- | --- |".into());
        for task in &self.tasks {
            let gates: Vec<String> = task
                .gates
                .iter()
                .map(|g| {
                    let site = match (g.attempt, g.merge_item) {
                        (Some(a), _) => format!("#{a}"),
                        (None, Some(i)) => format!("merge {i}"),
                        _ => String::new(),
                    };
                    let cached = if g.cached { " (cached)" } else { "" };
                    format!("{} {} {}{cached}", g.gate, site, g.verdict())
                })
                .collect();
            line(format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                task.id,
                task.status,
                task.attempts.len(),
                ms(task.duration_ms),
                task.changed_files.len(),
                if gates.is_empty() {
                    "-".into()
                } else {
                    gates.join(", ")
                },
                task.merge_commit.as_deref().map(short).unwrap_or("-")
            ));
        }
        let failures: Vec<String> = self
            .tasks
            .iter()
            .flat_map(|t| {
                t.attempts.iter().filter_map(move |a| {
                    a.failure
                        .as_ref()
                        .map(|f| list_item(&format!("{} attempt {}", t.id, a.number), f))
                })
            })
            .collect();
        if !failures.is_empty() {
            line(String::new());
            line("## Failed attempts".into());
            line(String::new());
            for failure in failures {
                line(failure);
            }
        }
        line(String::new());
        line("## Merge queue".into());
        line(String::new());
        line("| item | task | attempt | status | merge commit | note |".into());
        line("| --- | --- | --- | --- | --- | --- |".into());
        for item in &self.merge_queue {
            line(format!(
                "| {} | {} | {} | {} | {} | {} |",
                item.item,
                item.task,
                item.attempt,
                item.status,
                item.merge_commit.as_deref().map(short).unwrap_or("-"),
                item.detail
                    .as_deref()
                    .and_then(|d| d.lines().next())
                    .unwrap_or("")
            ));
        }
        // A table cell holds one line: longer notes follow the table, whole.
        let notes: Vec<String> = self
            .merge_queue
            .iter()
            .filter_map(|item| {
                let detail = item.detail.as_deref()?;
                detail
                    .contains('\n')
                    .then(|| list_item(&format!("item {} ({})", item.item, item.task), detail))
            })
            .collect();
        if !notes.is_empty() {
            line(String::new());
            for note in notes {
                line(note);
            }
        }
        if !self.batches.is_empty() {
            line(String::new());
            line("## Merge batches".into());
            line(String::new());
            line(format!(
                "{} batch(es), {} merge gate run(s), {} bisection step(s)",
                self.batches.len(),
                self.batches.iter().map(|b| b.gate_runs).sum::<u32>(),
                self.batches.iter().filter(|b| b.depth > 0).count()
            ));
            line(String::new());
            line("| batch | members | stage | bisection | gate runs | outcome | tip |".into());
            line("| --- | --- | --- | --- | --- | --- | --- |".into());
            for batch in &self.batches {
                let runs = if batch.cache_hits > 0 {
                    format!("{} (+{} cached)", batch.gate_runs, batch.cache_hits)
                } else {
                    batch.gate_runs.to_string()
                };
                line(format!(
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    batch.id,
                    batch.tasks.join(", "),
                    batch.stage,
                    batch.depth,
                    runs,
                    batch.outcome,
                    short(&batch.tip)
                ));
            }
        }
        let ladder = crate::report_councils::escalation_markdown(&self.escalations, &self.councils);
        if !ladder.is_empty() {
            out.push('\n');
            out.push_str(&ladder);
        }
        let reviews = crate::report_reviews::reviews_markdown(&self.reviews);
        if !reviews.is_empty() {
            out.push('\n');
            out.push_str(&reviews);
        }
        let usage = self.usage.to_markdown();
        if !usage.is_empty() {
            out.push('\n');
            out.push_str(&usage);
        }
        out
    }
}

/// A Markdown list item: `- label: first line`, and the other lines of `text` (if any) in a
/// fenced block under it, so that output with Markdown syntax in it stays as it was printed.
fn list_item(label: &str, text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let rest: Vec<&str> = lines.collect();
    let mut out = format!("- {label}: {first}");
    if !rest.is_empty() {
        out.push_str("\n\n  ```text");
        for line in rest {
            out.push_str("\n  ");
            out.push_str(line);
        }
        out.push_str("\n  ```");
    }
    out
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
