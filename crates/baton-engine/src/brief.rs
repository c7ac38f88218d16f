//! `baton brief`: the start- or end-of-day view over every run: what is in progress, what
//! waits for a person, what merged lately, what was spent against the budgets, and what should
//! come next. Read-only.

use crate::{Engine, EngineError};
use baton_core::{LimitUse, Usd, parse_plan};
use baton_protocol::{Priority, RunStatus, TaskStatus};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The briefing.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    /// When it was made (RFC 3339 UTC).
    pub at: String,
    /// Merged tasks are listed from here on.
    pub since: String,
    /// Runs that are not finished: running, or paused for some reason.
    pub in_progress: Vec<BriefRun>,
    /// What waits for a person, with the command that acts on it.
    pub waiting: Vec<Waiting>,
    /// Tasks merged since `since`, newest first.
    pub merged: Vec<BriefTask>,
    pub spend: Spend,
    /// Up to ten tasks to look at next: failed ones first, then ready ones by priority, then
    /// the rest of the pending ones.
    pub next: Vec<BriefTask>,
}

/// One unfinished run.
#[derive(Debug, Clone, Serialize)]
pub struct BriefRun {
    pub run: String,
    pub status: RunStatus,
    pub goal: String,
    pub repo: String,
    pub merged: usize,
    pub tasks: usize,
    /// The tasks whose attempt runs now.
    pub running: Vec<String>,
}

/// Something that waits for a person.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    /// `approval`, `needs_human`, `budget`, `paused` or `input`.
    pub kind: &'static str,
    pub run: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What it waits for.
    pub what: String,
    /// The command that acts on it.
    pub act: String,
}

/// A task, as the brief names it.
#[derive(Debug, Clone, Serialize)]
pub struct BriefTask {
    pub run: String,
    pub task: String,
    pub title: String,
    pub status: TaskStatus,
    pub priority: Priority,
    /// When it ended (merged tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Spending today and this month (UTC), and the limits that apply.
#[derive(Debug, Clone, Serialize)]
pub struct Spend {
    pub today: Usd,
    pub month: Usd,
    pub today_tokens: u64,
    pub month_tokens: u64,
    /// Attempts this month whose cost is unknown (subscriptions without prices).
    pub unpriced_attempts: u64,
    /// The project (the repository, when known) and global limits with what is committed.
    pub limits: Vec<LimitUse>,
}

impl Engine {
    /// The briefing at `now`, listing merges of the last `window`; budgets of the repository at
    /// `repo` when given, else the global ones.
    pub async fn brief(
        &self,
        repo: Option<&Path>,
        now: chrono::DateTime<chrono::Utc>,
        window: std::time::Duration,
    ) -> Result<Brief, EngineError> {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::days(1));
        let stamp = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let since = stamp(now - window);
        let mut brief = Brief {
            at: stamp(now),
            since: since.clone(),
            in_progress: Vec::new(),
            waiting: Vec::new(),
            merged: Vec::new(),
            spend: self.spend(repo, now).await?,
            next: Vec::new(),
        };
        let mut ready = Vec::new();
        let mut later = Vec::new();
        for run in self.store.runs().await? {
            let tasks = self.store.tasks(&run.id).await?;
            let plan = parse_plan(&run.plan_source, &run.plan_origin).ok();
            let priority_of = |id: &baton_protocol::TaskId| {
                plan.as_ref()
                    .and_then(|p| p.task(id))
                    .map_or(Priority::Medium, |t| t.priority)
            };
            let brief_task = |t: &baton_store::TaskRow| BriefTask {
                run: run.id.to_string(),
                task: t.id.to_string(),
                title: t.title.clone(),
                status: t.status,
                priority: priority_of(&t.id),
                at: t.finished_at.clone(),
            };
            for task in tasks.iter().filter(|t| t.status == TaskStatus::Merged) {
                if task
                    .finished_at
                    .as_deref()
                    .is_some_and(|at| at >= since.as_str())
                {
                    brief.merged.push(brief_task(task));
                }
            }
            if matches!(run.status, RunStatus::Completed | RunStatus::Cancelled) {
                continue;
            }
            brief.in_progress.push(BriefRun {
                run: run.id.to_string(),
                status: run.status,
                goal: run.goal.clone(),
                repo: run.repo.clone(),
                merged: tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Merged)
                    .count(),
                tasks: tasks.len(),
                running: tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Running)
                    .map(|t| t.id.to_string())
                    .collect(),
            });
            let id = run.id.to_string();
            match run.status {
                RunStatus::BudgetExceeded => brief.waiting.push(Waiting {
                    kind: "budget",
                    run: id.clone(),
                    task: None,
                    what: "a budget would be exceeded".into(),
                    act: format!("baton resume {id} --budget USD"),
                }),
                RunStatus::AwaitingInput => brief.waiting.push(Waiting {
                    kind: "input",
                    run: id.clone(),
                    task: None,
                    what: "the planner's open questions wait for answers".into(),
                    act: format!("baton answer {id}"),
                }),
                RunStatus::Paused => brief.waiting.push(Waiting {
                    kind: "paused",
                    run: id.clone(),
                    task: None,
                    what: "paused by `baton pause`".into(),
                    act: format!("baton resume {id}"),
                }),
                _ => {}
            }
            for task in &tasks {
                let (kind, what, act) = match task.status {
                    TaskStatus::AwaitingApproval => (
                        "approval",
                        "waits for approval".to_string(),
                        format!("baton approve {id} {} (or baton reject ... --why)", task.id),
                    ),
                    TaskStatus::NeedsHuman => (
                        "needs_human",
                        task.last_failure
                            .as_deref()
                            .and_then(|f| f.lines().next())
                            .map_or_else(|| "out of attempts".into(), |f| f.to_string()),
                        format!("baton retry {id} {} [--agent A] [--prompt-file F]", task.id),
                    ),
                    _ => continue,
                };
                brief.waiting.push(Waiting {
                    kind,
                    run: id.clone(),
                    task: Some(task.id.to_string()),
                    what,
                    act,
                });
            }
            for task in &tasks {
                match task.status {
                    TaskStatus::Failed => ready.push((0, brief_task(task))),
                    TaskStatus::Pending => {
                        let deps_done =
                            plan.as_ref()
                                .and_then(|p| p.task(&task.id))
                                .is_some_and(|spec| {
                                    spec.deps.iter().all(|dep| {
                                        tasks.iter().any(|t| {
                                            &t.id == dep && baton_core::task_is_done(t.status)
                                        })
                                    })
                                });
                        if deps_done {
                            ready.push((1, brief_task(task)));
                        } else {
                            later.push((2, brief_task(task)));
                        }
                    }
                    _ => {}
                }
            }
        }
        brief.merged.sort_by(|a, b| b.at.cmp(&a.at));
        ready.extend(later);
        ready.sort_by_key(|(rank, t)| (*rank, std::cmp::Reverse(t.priority.rank())));
        brief.next = ready.into_iter().take(10).map(|(_, t)| t).collect();
        Ok(brief)
    }

    async fn spend(
        &self,
        repo: Option<&Path>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Spend, EngineError> {
        let today = format!("{}T00:00:00.000Z", now.date_naive());
        let month = format!("{}-01T00:00:00.000Z", now.format("%Y-%m"));
        let mut spend = Spend {
            today: Usd::ZERO,
            month: Usd::ZERO,
            today_tokens: 0,
            month_tokens: 0,
            unpriced_attempts: 0,
            limits: self.budget_status(repo).await?,
        };
        for (at, entry) in self.store.ledger_since(&month).await? {
            let tokens = entry.tokens.total();
            spend.month_tokens += tokens;
            match entry.cost {
                Some(cost) => spend.month = spend.month.saturating_add(cost),
                None => spend.unpriced_attempts += 1,
            }
            if at >= today {
                spend.today_tokens += tokens;
                spend.today = spend.today.saturating_add(entry.cost.unwrap_or(Usd::ZERO));
            }
        }
        Ok(spend)
    }
}

impl Brief {
    /// The briefing as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# baton brief — {}\n",
            self.at.get(..16).unwrap_or(&self.at)
        );
        let _ = writeln!(out, "## In progress\n");
        if self.in_progress.is_empty() {
            let _ = writeln!(out, "Nothing runs.\n");
        }
        for run in &self.in_progress {
            let running = if run.running.is_empty() {
                String::new()
            } else {
                format!("; running: {}", run.running.join(", "))
            };
            let _ = writeln!(
                out,
                "- `{}` {} — {} ({}/{} merged{running})",
                run.run, run.status, run.goal, run.merged, run.tasks
            );
        }
        let _ = writeln!(out, "\n## Waiting for you\n");
        if self.waiting.is_empty() {
            let _ = writeln!(out, "Nothing waits.\n");
        }
        for wait in &self.waiting {
            let what = match &wait.task {
                Some(task) => format!("`{}` task `{task}`", wait.run),
                None => format!("`{}`", wait.run),
            };
            let _ = writeln!(
                out,
                "- {}: {what}: {} — `{}`",
                wait.kind, wait.what, wait.act
            );
        }
        let _ = writeln!(
            out,
            "\n## Merged since {}\n",
            self.since.get(..16).unwrap_or(&self.since)
        );
        if self.merged.is_empty() {
            let _ = writeln!(out, "Nothing merged.\n");
        }
        for task in &self.merged {
            let _ = writeln!(out, "- `{}` {} ({})", task.task, task.title, task.run);
        }
        let _ = writeln!(out, "\n## Spend\n");
        let _ = writeln!(
            out,
            "- today: {} ({} tokens)\n- this month: {} ({} tokens)",
            self.spend.today, self.spend.today_tokens, self.spend.month, self.spend.month_tokens
        );
        if self.spend.unpriced_attempts > 0 {
            let _ = writeln!(
                out,
                "- {} attempts this month have no price (subscriptions)",
                self.spend.unpriced_attempts
            );
        }
        for used in &self.spend.limits {
            let (scope, period) = (used.limit.scope.as_str(), used.limit.period.as_str());
            if let Some(limit) = used.limit.usd {
                let _ = writeln!(
                    out,
                    "- {scope} {period} limit {limit}: {} spent, {} reserved ({}%)",
                    used.spent.usd,
                    used.reserved.usd,
                    used.used_per_mille() / 10
                );
            }
            if let Some(limit) = used.limit.tokens {
                let _ = writeln!(
                    out,
                    "- {scope} {period} limit {limit} tokens: {} spent, {} reserved",
                    used.spent.tokens, used.reserved.tokens
                );
            }
        }
        let _ = writeln!(out, "\n## Next\n");
        if self.next.is_empty() {
            let _ = writeln!(out, "Nothing is left to do.");
        }
        for task in &self.next {
            let _ = writeln!(
                out,
                "- `{}` {} — {} ({}, {} priority)",
                task.task, task.title, task.status, task.run, task.priority
            );
        }
        out
    }
}
