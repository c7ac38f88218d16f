//! Merge-queue throughput, end to end: independent `exec` tasks (each writes its own file, so
//! their work is near zero and the merge queue is the bottleneck) on 4 lanes, with one merge
//! gate that sleeps and then fails when the would-be merge holds a file named `bad-*`. Two
//! tasks write such a file on their first attempt only (`$BATON_ATTEMPT` = 1): their first
//! merge fails, they run again (`retries: 1`), and their second attempt merges. The same plan
//! runs twice, each in its own repository: once with the serial queue (`[merge] batch = 1,
//! lanes = 1`), once with the default queue, and the bench compares the wall times with each
//! other and with a bound no queue can beat by much.

use super::engine_runs::{Driven, Expect, drive_run, init_repo, millis, retried};
use baton_engine::{Engine, Home};
use baton_protocol::{EventBody, MergeItemStatus, TaskStatus};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// Whether `baton.toml` has a `[merge]` table. Until it does, the default queue *is* the
/// serial queue, the serial run writes no `[merge]` table (an unknown table is refused) and
/// both runs measure the same queue. Flip to `true` once `[merge]` exists.
const MERGE_TABLE_SUPPORTED: bool = true;

/// The serial run's `baton.toml` once `[merge]` exists: one item per batch, one merge lane.
const SERIAL_MERGE_TABLE: &str = "[merge]\nbatch = 1\nlanes = 1\n";

/// Task lanes of both runs.
const LANES: u32 = 4;

/// The bar: the default queue at least this many times faster than the serial one.
pub const SPEEDUP_BAR: f64 = 3.0;

/// How the two chosen tasks fail, for the figures.
const FAILURE_MODE: &str = "the 2 bad tasks write bad-<id> on attempt 1 only (retries: 1): \
                            their first merge fails the gate, their retry merges";

/// The sizes of one bench run.
#[derive(Debug, Clone, Copy)]
struct QueueSizes {
    tasks: usize,
    gate: Duration,
}

impl QueueSizes {
    fn new(quick: bool) -> QueueSizes {
        if quick {
            QueueSizes {
                tasks: 8,
                gate: Duration::from_secs(2),
            }
        } else {
            QueueSizes {
                tasks: 24,
                gate: Duration::from_secs(5),
            }
        }
    }

    /// The tasks whose first attempt fails the merge gate: a quarter and three quarters in.
    fn bad(&self) -> [usize; 2] {
        [self.tasks / 4, 3 * self.tasks / 4]
    }
}

/// One measured run of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRun {
    /// What the run's `baton.toml` said about the merge queue.
    pub config: String,
    /// From just before the run's creation until it settled.
    pub wall_secs: f64,
    /// Merge gates that ran (`gate.finished` of a merge item, not from the cache).
    pub merge_gate_runs: usize,
    /// Merge gates taken from the gate-result cache.
    pub merge_gate_cache_hits: usize,
    pub merged_tasks: usize,
    pub failed_tasks: usize,
    /// Merge items the gate failed (the bad tasks' first attempts, and any batch casualty).
    pub rejected_merges: usize,
    /// Tasks that needed more than one attempt (the 2 bad tasks are expected here).
    pub retried_tasks: usize,
    /// Sum of the attempts' durations (the report's total work).
    pub work_secs: f64,
    /// Longest chain of attempt durations (the report's critical path).
    pub critical_path_secs: f64,
}

/// Figures of the merge-queue bench.
#[derive(Debug, Clone, Serialize)]
pub struct MergeQueueFigures {
    pub tasks: usize,
    pub lanes: u32,
    /// How long the merge gate sleeps.
    pub gate_secs: f64,
    pub bad_tasks: Vec<String>,
    pub failure_mode: String,
    /// Whether the serial run could say `[merge] batch = 1, lanes = 1` (false: both runs ran
    /// today's queue, which is serial).
    pub merge_table: bool,
    pub serial: QueueRun,
    pub default: QueueRun,
    /// serial wall time over default wall time.
    pub speedup: f64,
    /// max(W / K, CP) + one gate time, with W and CP of the default run (see [`queue_bound`]).
    pub bound_secs: f64,
    /// default wall time over the bound.
    pub default_over_bound: f64,
    /// The bar `speedup` is meant to reach.
    pub speedup_bar: f64,
}

impl MergeQueueFigures {
    /// Whether the default queue was fast enough.
    pub fn met(&self) -> bool {
        self.speedup >= SPEEDUP_BAR
    }
}

/// Runs the bench in `dir`: 24 tasks and a 5 s gate (8 and 2 s with `quick`).
pub async fn merge_queue(dir: &Path, quick: bool) -> anyhow::Result<MergeQueueFigures> {
    let sizes = QueueSizes::new(quick);
    let yaml = plan(sizes);
    let serial_config = if MERGE_TABLE_SUPPORTED {
        Some(SERIAL_MERGE_TABLE)
    } else {
        None
    };
    let serial = run_queue(
        &dir.join("serial"),
        &yaml,
        "merge-queue serial",
        serial_config,
    )
    .await?;
    let default = run_queue(&dir.join("default"), &yaml, "merge-queue default", None).await?;
    let bound = queue_bound(
        Duration::from_secs_f64(default.work_secs),
        LANES,
        Duration::from_secs_f64(default.critical_path_secs),
        sizes.gate,
    );
    let bound_secs = bound.as_secs_f64();
    Ok(MergeQueueFigures {
        tasks: sizes.tasks,
        lanes: LANES,
        gate_secs: sizes.gate.as_secs_f64(),
        bad_tasks: sizes.bad().iter().map(|i| task_id(*i)).collect(),
        failure_mode: FAILURE_MODE.to_owned(),
        merge_table: MERGE_TABLE_SUPPORTED,
        speedup: serial.wall_secs / default.wall_secs.max(f64::EPSILON),
        default_over_bound: default.wall_secs / bound_secs.max(f64::EPSILON),
        bound_secs,
        speedup_bar: SPEEDUP_BAR,
        serial,
        default,
    })
}

/// The least wall time a queue can reach: the tasks' own work spread over the lanes, or their
/// longest chain when that is longer, plus one gate on the last merge.
pub fn queue_bound(
    work: Duration,
    lanes: u32,
    critical_path: Duration,
    gate: Duration,
) -> Duration {
    let spread = work / lanes.max(1);
    spread.max(critical_path) + gate
}

/// Runs `yaml` in a new repository under `dir` whose `baton.toml` holds `merge_table` (none:
/// no `baton.toml`) and measures it.
async fn run_queue(
    dir: &Path,
    yaml: &str,
    label: &str,
    merge_table: Option<&str>,
) -> anyhow::Result<QueueRun> {
    let repo = dir.join("repo");
    let mut files = vec![("README.md", "baton merge-queue bench repository\n")];
    if let Some(table) = merge_table {
        files.push(("baton.toml", table));
    }
    init_repo(&repo, &files).await?;
    let engine = Engine::open(Home::new(dir.join("home"))).await?;
    let plan_path = dir.join("plan.yaml");
    let driven = drive_run(&engine, &repo, &plan_path, yaml, label, Expect::Settled).await?;
    let run = measure_run(&engine, &driven, merge_table).await?;
    eprintln!(
        "{label}: {:.1} s, {} merge gate runs, {} merged, {} failed",
        run.wall_secs, run.merge_gate_runs, run.merged_tasks, run.failed_tasks
    );
    Ok(run)
}

async fn measure_run(
    engine: &Engine,
    driven: &Driven,
    merge_table: Option<&str>,
) -> anyhow::Result<QueueRun> {
    let store = engine.store();
    let events = store.events(&driven.run, 0, u32::MAX).await?;
    let (mut merge_gate_runs, mut merge_gate_cache_hits) = (0, 0);
    for event in &events {
        if let EventBody::GateFinished {
            merge_item: Some(_),
            cached,
            ..
        } = event.body
        {
            if cached {
                merge_gate_cache_hits += 1;
            } else {
                merge_gate_runs += 1;
            }
        }
    }
    let tasks = store.tasks(&driven.run).await?;
    let count = |status: TaskStatus| tasks.iter().filter(|t| t.status == status).count();
    let rejected_merges = store
        .merge_items(&driven.run)
        .await?
        .iter()
        .filter(|item| item.status == MergeItemStatus::Failed)
        .count();
    let report = engine.report(&driven.run).await?;
    Ok(QueueRun {
        config: match merge_table {
            Some(table) => table.trim().replace('\n', " "),
            None => "no [merge] table".to_owned(),
        },
        wall_secs: driven.wall.as_secs_f64(),
        merge_gate_runs,
        merge_gate_cache_hits,
        merged_tasks: count(TaskStatus::Merged),
        failed_tasks: count(TaskStatus::Failed),
        rejected_merges,
        retried_tasks: retried(&report),
        work_secs: secs(report.efficiency.total_work_ms),
        critical_path_secs: secs(report.efficiency.critical_path_ms),
    })
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn task_id(i: usize) -> String {
    format!("t{i:04}")
}

/// The plan: `tasks` independent tasks that each write `out/<id>`, the bad ones also
/// `bad-<id>` on their first attempt, and the merge gate that sleeps and refuses `bad-*`.
fn plan(sizes: QueueSizes) -> String {
    let mut yaml = format!(
        "version: 1\ngoal: \"bench: merge-queue throughput\"\nbase: main\nlanes: {LANES}\n\
         gates:\n  check: \"{}\"\nmerge_gates: [check]\ntasks:\n",
        gate_command(sizes.gate)
    );
    let bad = sizes.bad();
    for i in 0..sizes.tasks {
        let id = task_id(i);
        // Writing a string to a String cannot fail.
        let _ = writeln!(yaml, "  - id: {id}");
        if bad.contains(&i) {
            let _ = writeln!(
                yaml,
                "    run: \"mkdir -p out && echo {id} > out/{id} && if [ $BATON_ATTEMPT = 1 ]; \
                 then echo bad > bad-{id}; fi\""
            );
            let _ = writeln!(yaml, "    claims: [\"out/{id}\", \"bad-{id}\"]");
        } else {
            let _ = writeln!(yaml, "    run: \"mkdir -p out && echo {id} > out/{id}\"");
            let _ = writeln!(yaml, "    claims: [\"out/{id}\"]");
        }
        // The bad tasks need their retry; for the others it keeps a transient failure from
        // ending the measurement (retried tasks are counted).
        let _ = writeln!(yaml, "    retries: 1");
        let _ = writeln!(yaml, "    estimate: 1s");
    }
    yaml
}

/// The merge gate: sleeps `gate`, then fails when the tree holds a `bad-*` file.
fn gate_command(gate: Duration) -> String {
    let ms = millis(gate);
    format!(
        "sleep {}.{:03}; ! ls bad-* >/dev/null 2>&1",
        ms / 1000,
        ms % 1000
    )
}

/// The figures as text; `verdict` says whether the bar was met.
pub fn render(f: &MergeQueueFigures, verdict: &str) -> String {
    let mut out = format!(
        "\nMerge-queue throughput: {} independent tasks on {} lanes, merge gate `sleep {:.0}` \
         that fails on bad-* files\n  {}\n",
        f.tasks, f.lanes, f.gate_secs, f.failure_mode
    );
    out.push_str(&format!(
        "  {:<8} {:>8} {:>11} {:>7} {:>7} {:>9}  {}\n",
        "queue", "wall", "gate runs", "merged", "failed", "rejected", "baton.toml"
    ));
    for (name, r) in [("serial", &f.serial), ("default", &f.default)] {
        out.push_str(&format!(
            "  {name:<8} {:>7.1}s {:>11} {:>7} {:>7} {:>9}  {}\n",
            r.wall_secs,
            r.merge_gate_runs,
            r.merged_tasks,
            r.failed_tasks,
            r.rejected_merges,
            r.config
        ));
    }
    if !f.merge_table {
        out.push_str(
            "  (no [merge] table yet: today's queue is serial, so both runs measured it)\n",
        );
    }
    out.push_str(&format!(
        "  bound max(W / K, CP) + one gate = max({:.1}s / {}, {:.1}s) + {:.1}s = {:.1}s (W, CP: \
         the default run's attempt durations)\n  default / bound {:.2}; serial / default \
         {:.2}x (bar >= {:.0}x): {verdict}\n",
        f.default.work_secs,
        f.lanes,
        f.default.critical_path_secs,
        f.gate_secs,
        f.bound_secs,
        f.default_over_bound,
        f.speedup,
        f.speedup_bar
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_larger_of_spread_work_and_critical_path_plus_one_gate() {
        let s = Duration::from_secs;
        // Instant tasks: about one gate.
        assert_eq!(
            queue_bound(
                Duration::from_millis(2400),
                4,
                Duration::from_millis(100),
                s(5)
            ),
            Duration::from_millis(5600)
        );
        // Work-bound and path-bound.
        assert_eq!(queue_bound(s(40), 4, s(3), s(5)), s(15));
        assert_eq!(queue_bound(s(40), 4, s(12), s(5)), s(17));
        // No lanes is read as one, never a division by zero.
        assert_eq!(queue_bound(s(4), 0, s(1), s(1)), s(5));
    }

    #[test]
    fn two_tasks_write_a_bad_file_on_their_first_attempt_only() {
        let sizes = QueueSizes::new(false);
        let yaml = plan(sizes);
        let parsed = baton_core::parse_plan(&yaml, "queue.yaml").unwrap();
        assert_eq!(parsed.tasks.len(), 24);
        assert_eq!(parsed.merge_gates, vec!["check".to_owned()]);
        assert_eq!(parsed.dag().levels().len(), 1, "the tasks are independent");
        assert_eq!(yaml.matches("then echo bad > bad-").count(), 2);
        assert!(yaml.contains("if [ $BATON_ATTEMPT = 1 ]; then echo bad > bad-t0006; fi"));
        assert!(yaml.contains("claims: [\"out/t0018\", \"bad-t0018\"]"));
        assert_eq!(QueueSizes::new(true).bad(), [2, 6]);
    }

    #[tokio::test]
    async fn the_gate_fails_exactly_when_a_bad_file_is_in_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let gate = || {
            baton_exec::run_captured(baton_exec::CommandSpec::shell(
                gate_command(Duration::ZERO),
                dir.path(),
            ))
        };
        std::fs::write(dir.path().join("good"), "x").unwrap();
        assert!(gate().await.unwrap().success());
        std::fs::write(dir.path().join("bad-t0002"), "x").unwrap();
        assert!(!gate().await.unwrap().success());
    }
}
