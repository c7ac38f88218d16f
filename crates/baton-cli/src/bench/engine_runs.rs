//! Benchmarks that drive real runs through the engine in-process: scheduling quality on
//! seeded random DAGs of sleeping tasks, and dispatch latency on chains of no-op tasks.

use anyhow::{Context, bail};
use baton_core::{Plan, parse_plan, simulate_level_barrier, simulate_list_schedule};
use baton_engine::{Engine, Home, RunRequest};
use baton_git::Git;
use baton_protocol::{EventBody, RunId, RunStatus, TaskId, TaskStatus};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Shortest and longest seeded task duration of the scheduling bench, in milliseconds.
///
/// Real agent tasks run for minutes; a few seconds of sleep keeps the bench short while the
/// engine's fixed cost per task (lane reset, commit, merge, dispatch: about 0.1 s on two
/// cores) stays a small share of the work, as it is in real use. With sub-second tasks that
/// fixed cost dominates and the ratio says more about git's process start-up than about the
/// schedule (the `overhead` column shows it).
const WORK_MS: (u64, u64) = (1000, 5000);

/// One scheduling-quality measurement.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleFigures {
    pub tasks: usize,
    pub lanes: u32,
    pub levels: usize,
    /// Sum of the seeded sleep durations.
    pub ideal_work_ms: u64,
    /// Longest chain of seeded sleep durations.
    pub ideal_critical_path_ms: u64,
    /// max(ideal work / lanes, ideal critical path): no schedule can beat it.
    pub ideal_bound_ms: u64,
    /// The engine's makespan (first attempt start to last task merged).
    pub makespan_ms: u64,
    /// The engine's own ratio: makespan / max(measured work / lanes, measured critical path),
    /// where measured work includes each attempt's overhead (lane, commit).
    pub engine_ratio: f64,
    /// makespan / ideal bound: overhead included in the numerator only.
    pub ideal_ratio: f64,
    /// Level-by-level barrier schedule of the same durations, over the ideal bound.
    pub level_barrier_ratio: f64,
    /// baton's list scheduler simulated on the same durations with zero overhead.
    pub list_schedule_ratio: f64,
    /// Measured total work (attempt durations) divided by the seeded work.
    pub overhead_factor: f64,
    /// Tasks that needed more than one attempt (any is an engine problem: sleeps don't fail).
    pub retried_tasks: usize,
    /// Wall time of the whole run including its creation.
    pub wall_ms: u64,
}

/// Dispatch latency: from the integration of a task's last dependency to its process spawn.
#[derive(Debug, Clone, Serialize)]
pub struct DispatchFigures {
    pub tasks: usize,
    pub chains: usize,
    pub lanes: u32,
    /// How many tasks had a dependency and so a latency sample.
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Median of the part before the attempt is recorded (`attempt.started`: scheduling, lane
    /// assignment, database); the rest is lane preparation and the process spawn.
    pub p50_to_started_ms: f64,
    /// Tasks that needed more than one attempt (any is an engine problem: `true` can't fail).
    pub retried_tasks: usize,
    pub wall_ms: u64,
}

/// A seeded random DAG of `n` tasks that each sleep a seeded time and write `t/<id>`.
pub fn schedule_plan(n: usize, lanes: u32, rng: &mut StdRng) -> String {
    let window = (n / 5).max(2);
    let mut yaml = plan_header("bench: scheduling quality", lanes);
    for i in 0..n {
        let mut deps = BTreeSet::new();
        if i > 0 && rng.random_bool(0.75) {
            let count = rng.random_range(1..=3usize);
            for _ in 0..count {
                deps.insert(rng.random_range(i.saturating_sub(window)..i));
            }
        }
        let ms = rng.random_range(WORK_MS.0..=WORK_MS.1);
        let run = format!("sleep {}.{:03}", ms / 1000, ms % 1000);
        push_task(&mut yaml, i, &run, &deps, Some(ms));
    }
    yaml
}

/// `chains` chains of no-op tasks, `n` in all, interleaved in the file.
pub fn dispatch_plan(n: usize, chains: usize, lanes: u32) -> String {
    let mut yaml = plan_header("bench: dispatch latency", lanes);
    for i in 0..n {
        let deps: BTreeSet<usize> = i.checked_sub(chains).into_iter().collect();
        push_task(&mut yaml, i, "true", &deps, Some(10));
    }
    yaml
}

fn plan_header(goal: &str, lanes: u32) -> String {
    format!("version: 1\ngoal: \"{goal}\"\nbase: main\nlanes: {lanes}\ntasks:\n")
}

fn task_id(i: usize) -> String {
    format!("t{i:04}")
}

fn push_task(yaml: &mut String, i: usize, work: &str, deps: &BTreeSet<usize>, ms: Option<u64>) {
    let id = task_id(i);
    let deps: Vec<String> = deps.iter().map(|d| task_id(*d)).collect();
    // Writing a string to a String cannot fail.
    let _ = writeln!(yaml, "  - id: {id}");
    let _ = writeln!(
        yaml,
        "    run: \"mkdir -p t && {work} && echo {id} > t/{id}\""
    );
    let _ = writeln!(yaml, "    claims: [\"t/{id}\"]");
    // One retry keeps a transient engine failure (such as concurrent `git worktree add`
    // calls racing) from ending the measurement; retried tasks are counted in the figures.
    let _ = writeln!(yaml, "    retries: 1");
    if !deps.is_empty() {
        let _ = writeln!(yaml, "    deps: [{}]", deps.join(", "));
    }
    if let Some(ms) = ms {
        let _ = writeln!(yaml, "    estimate: {ms}ms");
    }
}

/// A finished bench run: the engine that drove it and the run.
struct Finished {
    engine: Engine,
    run: RunId,
    plan: Plan,
    wall: Duration,
}

/// Creates a repository and a run of `yaml` under `dir` and drives it to the end, showing
/// progress on stderr. Fails unless every task merged.
async fn drive_plan(dir: &Path, yaml: &str, label: &str) -> anyhow::Result<Finished> {
    let repo = dir.join("repo");
    init_repo(&repo, &[("README.md", "baton bench repository\n")]).await?;
    let engine = Engine::open(Home::new(dir.join("home"))).await?;
    let plan_path = dir.join("plan.yaml");
    let driven = drive_run(&engine, &repo, &plan_path, yaml, label, Expect::AllMerged).await?;
    Ok(Finished {
        engine,
        run: driven.run,
        plan: driven.plan,
        wall: driven.wall,
    })
}

/// A repository at `repo` on branch `main` with `files` (relative path, contents) in its
/// first commit.
pub(super) async fn init_repo(repo: &Path, files: &[(&str, &str)]) -> anyhow::Result<Git> {
    let git = Git::init(repo, "main").await?;
    write_files(repo, files)?;
    git.commit_all(git.root(), "bench: initial commit").await?;
    Ok(git)
}

/// Writes `files` (relative path, contents) under `dir`, creating their directories.
pub(super) fn write_files(dir: &Path, files: &[(&str, &str)]) -> anyhow::Result<()> {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A run a bench drove to its end.
pub(super) struct Driven {
    pub run: RunId,
    pub plan: Plan,
    /// From just before the run's creation to the end of its drive.
    pub wall: Duration,
}

/// How a bench run must end for its figures to mean something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// Every task merged (the run completed).
    AllMerged,
    /// Completed or failed: the bench counts the failed tasks itself.
    Settled,
}

/// Writes `yaml` to `plan_path`, creates a run of it in `repo` with `engine` and drives it to
/// the end, showing progress on stderr. Fails when the run ends otherwise than `expect` says.
pub(super) async fn drive_run(
    engine: &Engine,
    repo: &Path,
    plan_path: &Path,
    yaml: &str,
    label: &str,
    expect: Expect,
) -> anyhow::Result<Driven> {
    let plan = parse_plan(yaml, label).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(plan_path, yaml).context("writing the bench plan")?;
    let started = std::time::Instant::now();
    let run = engine
        .create_run(&RunRequest {
            repo_dir: repo.to_path_buf(),
            plan_path: plan_path.to_path_buf(),
            lanes: None,
            into: None,
        })
        .await?;
    let bar = progress_bar(plan.tasks.len(), label);
    let watcher = watch_merges(engine, bar.clone());
    let result = engine.drive(&run, CancellationToken::new()).await;
    watcher.abort();
    bar.finish_and_clear();
    let result = result?;
    let wall = started.elapsed();
    let settled = match expect {
        Expect::AllMerged => result.status == RunStatus::Completed,
        Expect::Settled => matches!(result.status, RunStatus::Completed | RunStatus::Failed),
    };
    if !settled {
        let tasks = engine.store().tasks(&run).await?;
        let bad: Vec<String> = tasks
            .iter()
            .filter(|t| t.status != TaskStatus::Merged)
            .take(5)
            .map(|t| format!("{} ({})", t.id, t.status))
            .collect();
        bail!(
            "{label}: run {run} ended {}: {}; see BATON_HOME={}",
            result.status,
            bad.join(", "),
            engine.home().root().display()
        );
    }
    Ok(Driven { run, plan, wall })
}

fn progress_bar(total: usize, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:28} [{bar:30}] {pos}/{len} merged {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Advances `bar` for every task that merges.
fn watch_merges(engine: &Engine, bar: ProgressBar) -> tokio::task::JoinHandle<()> {
    let mut events = engine.bus().subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let EventBody::TaskStatusChanged {
                        to: TaskStatus::Merged,
                        ..
                    } = event.body
                    {
                        bar.inc(1);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}

/// Runs the scheduling-quality bench for `n` tasks on `lanes` lanes.
pub async fn schedule(
    dir: &Path,
    n: usize,
    lanes: u32,
    rng: &mut StdRng,
) -> anyhow::Result<ScheduleFigures> {
    let yaml = schedule_plan(n, lanes, rng);
    let label = format!("schedule n={n} lanes={lanes}");
    let done = drive_plan(dir, &yaml, &label).await?;
    let report = done.engine.report(&done.run).await?;
    let dag = done.plan.dag();
    let k = usize::try_from(lanes).unwrap_or(1);
    // The estimates are the seeded durations, so the DAG's figures are the ideal ones.
    let durations: BTreeMap<TaskId, Duration> = dag
        .ids()
        .iter()
        .map(|id| (id.clone(), dag.estimate(id)))
        .collect();
    let bound = dag.lower_bound_makespan(k);
    let makespan = Duration::from_millis(report.efficiency.makespan_ms);
    let over = |d: Duration| ratio(d, bound);
    Ok(ScheduleFigures {
        tasks: n,
        lanes,
        levels: dag.levels().len(),
        ideal_work_ms: millis(dag.total_work()),
        ideal_critical_path_ms: millis(dag.critical_path().1),
        ideal_bound_ms: millis(bound),
        makespan_ms: report.efficiency.makespan_ms,
        engine_ratio: report.efficiency.ratio,
        ideal_ratio: over(makespan),
        level_barrier_ratio: over(simulate_level_barrier(&dag, k, &durations)),
        list_schedule_ratio: over(simulate_list_schedule(&done.plan, &dag, k, &durations)),
        overhead_factor: ratio(
            Duration::from_millis(report.efficiency.total_work_ms),
            dag.total_work(),
        ),
        retried_tasks: retried(&report),
        wall_ms: millis(done.wall),
    })
}

pub(super) fn retried(report: &baton_engine::Report) -> usize {
    report.tasks.iter().filter(|t| t.attempts.len() > 1).count()
}

/// Runs the dispatch-latency bench: `n` no-op tasks in `chains` chains, one lane per chain.
pub async fn dispatch(dir: &Path, n: usize, chains: usize) -> anyhow::Result<DispatchFigures> {
    let lanes = u32::try_from(chains).unwrap_or(u32::MAX);
    let yaml = dispatch_plan(n, chains, lanes);
    let label = format!("dispatch n={n} chains={chains}");
    let done = drive_plan(dir, &yaml, &label).await?;
    let events = done.engine.store().events(&done.run, 0, u32::MAX).await?;
    let mut integrated: BTreeMap<TaskId, chrono::DateTime<chrono::FixedOffset>> = BTreeMap::new();
    let mut spawned: BTreeMap<TaskId, chrono::DateTime<chrono::FixedOffset>> = BTreeMap::new();
    let mut started: BTreeMap<TaskId, chrono::DateTime<chrono::FixedOffset>> = BTreeMap::new();
    for event in &events {
        let Some(task) = event.task.clone() else {
            continue;
        };
        let time = chrono::DateTime::parse_from_rfc3339(&event.time)
            .with_context(|| format!("event {} has time {:?}", event.seq, event.time))?;
        match event.body {
            EventBody::IntegrationAdvanced { .. } => {
                integrated.insert(task, time);
            }
            EventBody::AttemptProcess { .. } => {
                spawned.entry(task).or_insert(time);
            }
            EventBody::AttemptStarted { .. } => {
                started.entry(task).or_insert(time);
            }
            _ => {}
        }
    }
    let dag = done.plan.dag();
    let mut latencies: Vec<f64> = Vec::new();
    let mut to_started: Vec<f64> = Vec::new();
    for id in dag.ids() {
        let last_dep = dag
            .deps(id)
            .iter()
            .filter_map(|d| integrated.get(d))
            .max()
            .copied();
        let Some(ready) = last_dep else {
            continue;
        };
        let since_ready = |t: &chrono::DateTime<chrono::FixedOffset>| {
            (*t - ready).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
        };
        if let Some(spawn) = spawned.get(id) {
            latencies.push(since_ready(spawn));
        }
        if let Some(start) = started.get(id) {
            to_started.push(since_ready(start));
        }
    }
    if latencies.is_empty() {
        bail!("{label}: no task had both a dependency integration and a process event");
    }
    latencies.sort_by(f64::total_cmp);
    to_started.sort_by(f64::total_cmp);
    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    Ok(DispatchFigures {
        tasks: n,
        chains,
        lanes,
        samples: latencies.len(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        mean_ms: mean,
        p50_to_started_ms: percentile(&to_started, 0.50),
        retried_tasks: retried(&done.engine.report(&done.run).await?),
        wall_ms: millis(done.wall),
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        1.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A generator seeded for one bench.
pub fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_plans_parse_and_are_reproducible() {
        let a = schedule_plan(40, 4, &mut seeded(7));
        let b = schedule_plan(40, 4, &mut seeded(7));
        assert_eq!(a, b);
        let plan = parse_plan(&a, "schedule.yaml").unwrap();
        assert_eq!(plan.tasks.len(), 40);
        assert!(plan.dag().levels().len() > 2);
        let dispatch = parse_plan(&dispatch_plan(20, 4, 4), "dispatch.yaml").unwrap();
        let with_deps = dispatch.tasks.iter().filter(|t| !t.deps.is_empty()).count();
        assert_eq!(with_deps, 16);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
