//! `baton bench`: measures, on this machine, how well baton schedules (seeded random DAGs run
//! through the real engine), how fast it dispatches a task once its dependency is integrated,
//! how much faster a pooled lane is ready than a fresh worktree, what confining a process
//! costs, what a flooding agent costs in memory and decoding time, how the merge queue's
//! batches and speculation pay off (on paper, `queue-sim`, and end to end, `merge-queue`), and
//! what warm lanes save a cargo-gated crate (`warm-lanes`). It prints figures and the bars
//! they are meant to meet; it never fails on a timing.

mod agent_flood;
mod confine;
mod engine_runs;
mod lanes;
mod merge_queue;
mod queue_sim;
mod warm_lanes;

use engine_runs::{DispatchFigures, ScheduleFigures, seeded};
use lanes::LaneFigures;
use serde::Serialize;
use std::path::Path;

/// The bar for the scheduling ratio (makespan over the ideal bound), on average.
const SCHEDULE_BAR: f64 = 1.10;
/// The bar for the 99th percentile of dispatch latency, in milliseconds.
const DISPATCH_BAR_MS: f64 = 50.0;
/// The bar for how many times faster a pooled lane reset is than a fresh worktree.
const LANES_BAR: f64 = 5.0;

/// `baton bench` flags.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Seed of the random DAGs and durations.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Smaller sizes, for a fast smoke run.
    #[arg(long)]
    pub quick: bool,
    /// Run only one of the benches.
    #[arg(long, value_enum)]
    pub only: Option<BenchKind>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// One of the benches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchKind {
    /// Scheduling quality on random DAGs of sleeping tasks.
    Schedule,
    /// Latency from a dependency's integration to the dependent's process spawn.
    Dispatch,
    /// Pooled lane reset against a fresh worktree.
    Lanes,
    /// Spawn-to-exit time of a confined process against an unconfined one.
    Confine,
    /// Peak memory and decoding throughput of `baton run` while an agent floods its stdout
    /// with stream-json (about 1 GiB, multi-MB records and one 16 MiB record).
    AgentFlood,
    /// Gate runs per merged item and time to empty a queue of 200 items: serial, adaptive
    /// batches, and adaptive batches with speculation (the real merge planner, on paper).
    QueueSim,
    /// Two runs of `cargo test`-gated one-line tasks on a serde/regex/globset crate, with
    /// pristine lanes against warm lanes (which keep `target/`).
    WarmLanes,
    /// Wall time of 24 independent tasks through a merge queue with a 5 s merge gate (two
    /// tasks fail it once): the serial queue against the default one.
    MergeQueue,
}

/// The sizes of one bench run.
#[derive(Debug, Clone, Serialize)]
struct Sizes {
    /// (tasks, lanes) of each scheduling run.
    schedule: Vec<(usize, u32)>,
    dispatch_tasks: usize,
    dispatch_chains: usize,
    lane_files: usize,
    lane_repetitions: usize,
    confine_runs: usize,
    /// Bytes of small records the flooding agent prints (the large records come on top).
    flood_bytes: u64,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                schedule: vec![(12, 3), (24, 4)],
                dispatch_tasks: 40,
                dispatch_chains: 4,
                lane_files: 2_000,
                lane_repetitions: 5,
                confine_runs: 50,
                flood_bytes: 64 << 20,
            }
        } else {
            Sizes {
                schedule: vec![(50, 4), (200, 8)],
                dispatch_tasks: 200,
                dispatch_chains: 2,
                lane_files: 20_000,
                lane_repetitions: 5,
                confine_runs: 200,
                flood_bytes: 1 << 30,
            }
        }
    }
}

/// Everything one `baton bench` measured.
#[derive(Debug, Clone, Serialize)]
struct BenchFigures {
    seed: u64,
    quick: bool,
    cpus: usize,
    schedule: Vec<ScheduleFigures>,
    /// Mean of the engine's makespan over the ideal bound across the scheduling runs.
    schedule_mean_ratio: Option<f64>,
    dispatch: Option<DispatchFigures>,
    lanes: Option<LaneFigures>,
    confine: Option<confine::ConfineFigures>,
    agent_flood: Option<agent_flood::FloodFigures>,
    queue_sim: Option<queue_sim::QueueSimFigures>,
    warm_lanes: Option<warm_lanes::WarmLaneFigures>,
    merge_queue: Option<merge_queue::MergeQueueFigures>,
    bars: Bars,
}

/// The bars the figures are meant to meet, and whether they did on this run.
#[derive(Debug, Clone, Serialize)]
struct Bars {
    schedule_mean_ratio_max: f64,
    dispatch_p99_ms_max: f64,
    lanes_speedup_min: f64,
    schedule_met: Option<bool>,
    dispatch_met: Option<bool>,
    lanes_met: Option<bool>,
    queue_sim_runs_per_merged_max: f64,
    queue_sim_met: Option<bool>,
    /// Warm run 2 at least `warm_lanes.speedup_bar` times faster than cold run 2.
    warm_lanes_met: Option<bool>,
    /// The default queue at least `merge_queue.speedup_bar` times faster than the serial one.
    merge_queue_met: Option<bool>,
}

/// Runs the benches `args` selects and prints their figures.
pub async fn run_bench(args: &BenchArgs) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new().prefix("baton-bench-").tempdir()?;
    match measure(args, tmp.path()).await {
        Ok(figures) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            } else {
                print!("{}", render(&figures));
            }
            Ok(())
        }
        Err(error) => {
            // Keep the repositories and the database for a post-mortem.
            let kept = tmp.keep();
            Err(error.context(format!("bench files kept in {}", kept.display())))
        }
    }
}

/// Runs the selected benches in `root`.
async fn measure(args: &BenchArgs, root: &Path) -> anyhow::Result<BenchFigures> {
    let sizes = Sizes::new(args.quick);
    let wants = |kind: BenchKind| args.only.is_none_or(|only| only == kind);
    let mut rng = seeded(args.seed);

    let mut schedule = Vec::new();
    if wants(BenchKind::Schedule) {
        for (i, (n, lanes)) in sizes.schedule.iter().enumerate() {
            let dir = subdir(root, &format!("schedule-{i}"))?;
            let figures = engine_runs::schedule(&dir, *n, *lanes, &mut rng).await?;
            eprintln!(
                "schedule n={n} lanes={lanes}: makespan {} ms, ratio {:.3} (engine {:.3}, \
                 barrier {:.3})",
                figures.makespan_ms,
                figures.ideal_ratio,
                figures.engine_ratio,
                figures.level_barrier_ratio
            );
            schedule.push(figures);
        }
    }
    let dispatch = if wants(BenchKind::Dispatch) {
        let dir = subdir(root, "dispatch")?;
        let figures =
            engine_runs::dispatch(&dir, sizes.dispatch_tasks, sizes.dispatch_chains).await?;
        eprintln!(
            "dispatch n={}: p50 {:.1} ms, p99 {:.1} ms",
            figures.tasks, figures.p50_ms, figures.p99_ms
        );
        Some(figures)
    } else {
        None
    };
    let lanes = if wants(BenchKind::Lanes) {
        let dir = subdir(root, "lanes")?;
        let figures = lanes::lanes(&dir, sizes.lane_files, sizes.lane_repetitions).await?;
        eprintln!(
            "lanes files={}: pooled {:.1} ms, fresh {:.1} ms ({:.1}x)",
            figures.files, figures.pooled_reset_ms, figures.fresh_add_ms, figures.speedup
        );
        Some(figures)
    } else {
        None
    };

    let confine = if wants(BenchKind::Confine) {
        let dir = subdir(root, "confine")?;
        Some(confine::confine(&dir, sizes.confine_runs).await?)
    } else {
        None
    };

    let agent_flood = if wants(BenchKind::AgentFlood) {
        let dir = subdir(root, "agent-flood")?;
        let figures = agent_flood::agent_flood(&dir, sizes.flood_bytes).await?;
        eprintln!(
            "agent-flood {} MB: peak RSS {:.1} MiB, {:.0} MB/s",
            figures.stdout_bytes / 1_000_000,
            figures.peak_rss_mib,
            figures.mb_per_sec
        );
        Some(figures)
    } else {
        None
    };

    let queue_sim = if wants(BenchKind::QueueSim) {
        Some(queue_sim::queue_sim(
            args.seed,
            if args.quick { 5 } else { 20 },
        )?)
    } else {
        None
    };

    let warm_lanes = if wants(BenchKind::WarmLanes) {
        let dir = subdir(root, "warm-lanes")?;
        Some(warm_lanes::warm_lanes(&dir, args.quick).await?)
    } else {
        None
    };

    let merge_queue = if wants(BenchKind::MergeQueue) {
        let dir = subdir(root, "merge-queue")?;
        Some(merge_queue::merge_queue(&dir, args.quick).await?)
    } else {
        None
    };

    let schedule_mean_ratio = (!schedule.is_empty())
        .then(|| schedule.iter().map(|s| s.ideal_ratio).sum::<f64>() / schedule.len() as f64);
    let bars = Bars {
        schedule_mean_ratio_max: SCHEDULE_BAR,
        dispatch_p99_ms_max: DISPATCH_BAR_MS,
        lanes_speedup_min: LANES_BAR,
        schedule_met: schedule_mean_ratio.map(|r| r <= SCHEDULE_BAR),
        dispatch_met: dispatch.as_ref().map(|d| d.p99_ms < DISPATCH_BAR_MS),
        lanes_met: lanes.as_ref().map(|l| l.speedup >= LANES_BAR),
        queue_sim_runs_per_merged_max: queue_sim::BAR_RUNS_PER_MERGED,
        queue_sim_met: queue_sim
            .as_ref()
            .and_then(|q| q.bar_runs_per_merged)
            .map(|r| r <= queue_sim::BAR_RUNS_PER_MERGED),
        warm_lanes_met: warm_lanes.as_ref().map(warm_lanes::WarmLaneFigures::met),
        merge_queue_met: merge_queue
            .as_ref()
            .map(merge_queue::MergeQueueFigures::met),
    };
    Ok(BenchFigures {
        seed: args.seed,
        quick: args.quick,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        schedule,
        schedule_mean_ratio,
        dispatch,
        lanes,
        confine,
        agent_flood,
        queue_sim,
        warm_lanes,
        merge_queue,
        bars,
    })
}

fn subdir(root: &Path, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "-",
    }
}

/// The figures as plain-text tables.
fn render(f: &BenchFigures) -> String {
    let mut out = format!(
        "baton bench (seed {}, {}, {} CPUs)\n",
        f.seed,
        if f.quick { "quick" } else { "full" },
        f.cpus
    );
    if !f.schedule.is_empty() {
        out.push_str(
            "\nScheduling quality: ratio = makespan / max(work / lanes, critical path); \
             1.00 is ideal\n",
        );
        out.push_str(&format!(
            "{:>6} {:>5} {:>6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            "tasks",
            "lanes",
            "levels",
            "work",
            "crit.path",
            "makespan",
            "ratio",
            "engine",
            "barrier",
            "list-sim",
            "overhead"
        ));
        for s in &f.schedule {
            out.push_str(&format!(
                "{:>6} {:>5} {:>6} {:>8.1}s {:>8.1}s {:>8.1}s {:>8.3} {:>8.3} {:>8.3} {:>8.3} \
                 {:>7.2}x\n",
                s.tasks,
                s.lanes,
                s.levels,
                secs(s.ideal_work_ms),
                secs(s.ideal_critical_path_ms),
                secs(s.makespan_ms),
                s.ideal_ratio,
                s.engine_ratio,
                s.level_barrier_ratio,
                s.list_schedule_ratio,
                s.overhead_factor
            ));
        }
        out.push_str(
            "  ratio: engine makespan over the bound of the seeded sleeps; engine: the run \
             report's ratio (measured work);\n  barrier / list-sim: level-barrier and list \
             schedules of the same sleeps with zero overhead;\n  overhead: measured attempt \
             time over seeded sleep time.\n",
        );
        let retried: usize = f.schedule.iter().map(|s| s.retried_tasks).sum();
        if retried > 0 {
            out.push_str(&format!(
                "  {retried} task(s) needed a retry (an engine problem; see the log above)\n"
            ));
        }
        if let Some(mean) = f.schedule_mean_ratio {
            out.push_str(&format!(
                "  mean ratio {mean:.3} (bar <= {SCHEDULE_BAR:.2}): {}\n",
                verdict(f.bars.schedule_met)
            ));
        }
    }
    if let Some(d) = &f.dispatch {
        out.push_str(&format!(
            "\nDispatch latency (last dependency integrated -> process spawned), {} tasks in {} \
             chains, {} samples\n  p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, mean {:.1} ms \
             (bar p99 < {DISPATCH_BAR_MS:.0} ms): {}\n  of which until the attempt is \
             recorded: p50 {:.1} ms (the rest is lane preparation and spawn)\n",
            d.tasks,
            d.chains,
            d.samples,
            d.p50_ms,
            d.p99_ms,
            d.max_ms,
            d.mean_ms,
            verdict(f.bars.dispatch_met),
            d.p50_to_started_ms
        ));
        if d.retried_tasks > 0 {
            out.push_str(&format!(
                "  {} task(s) needed a retry (an engine problem)\n",
                d.retried_tasks
            ));
        }
    }
    if let Some(l) = &f.lanes {
        out.push_str(&format!(
            "\nLane readiness on {} files ({} commits), median of {}\n  pooled reset {:.1} ms, \
             fresh worktree add {:.1} ms (remove {:.1} ms): {:.1}x faster (bar >= \
             {LANES_BAR:.0}x): {}\n",
            l.files,
            l.commits,
            l.repetitions,
            l.pooled_reset_ms,
            l.fresh_add_ms,
            l.fresh_remove_ms,
            l.speedup,
            verdict(f.bars.lanes_met)
        ));
    }
    if let Some(c) = &f.confine {
        out.push_str(&format!(
            "\nConfinement cost ({}), spawn-to-exit of `true`, mean of {}\n  unconfined {:.2} ms, \
             confined {:.2} ms: {:.2}x\n",
            c.landlock, c.runs, c.unconfined_mean_ms, c.confined_mean_ms, c.ratio
        ));
    }
    if let Some(a) = &f.agent_flood {
        out.push_str(&format!(
            "\nAgent flood: a fake Claude Code printing {:.0} MB of stream-json in {} lines \
             under `baton run`\n  peak RSS {:.1} MiB (an agent printing 3 lines: {:.1} MiB), \
             decoded {:.0} MB/s ({:.1} s)\n  largest record {} bytes, stored whole: {}\n",
            a.stdout_bytes as f64 / 1e6,
            a.lines,
            a.peak_rss_mib,
            a.baseline_rss_mib,
            a.mb_per_sec,
            a.decode_secs,
            a.largest_record_bytes,
            if a.largest_record_whole { "yes" } else { "NO" }
        ));
    }
    if let Some(q) = &f.queue_sim {
        out.push_str(&queue_sim::render(q, verdict(f.bars.queue_sim_met)));
    }
    if let Some(w) = &f.warm_lanes {
        out.push_str(&warm_lanes::render(w, verdict(f.bars.warm_lanes_met)));
    }
    if let Some(q) = &f.merge_queue {
        out.push_str(&merge_queue::render(q, verdict(f.bars.merge_queue_met)));
    }
    out
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
