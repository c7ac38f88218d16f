//! The merge queue on paper: gate runs per merged item and the time to empty a saturated
//! queue, serial against adaptive batching with and without speculation, over seeded bad
//! items. Pure computation through the real planner (`baton_core::simulate_merge_queue`).

use anyhow::Context;
use baton_core::{BatchPolicy, QueueSimConfig, simulate_merge_queue};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// Items in each simulated queue, all waiting at time 0.
const ITEMS: usize = 200;
/// The probabilities of an item being bad, one column group each.
const BAD_PROBABILITIES: [f64; 4] = [0.0, 0.02, 0.05, 0.10];
/// The probability the bar is measured at.
pub const BAR_BAD_PROBABILITY: f64 = 0.05;
/// The bar: gate runs per merged item of adaptive batching on one lane, at most.
pub const BAR_RUNS_PER_MERGED: f64 = 0.45;

/// The queues compared, one row each: (row label, batch policy, merge lanes).
const QUEUES: [(&str, BatchPolicy, usize); 4] = [
    ("serial (1 item, 1 lane)", BatchPolicy::Fixed(1), 1),
    ("batch adaptive, 1 lane", BatchPolicy::Adaptive, 1),
    ("adaptive + spec., 2 lanes", BatchPolicy::Adaptive, 2),
    ("adaptive + spec., 4 lanes", BatchPolicy::Adaptive, 4),
];

/// Means over the seeds of one queue at one bad-item probability.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSimCell {
    pub bad_probability: f64,
    /// Mean over the seeds of gate runs (cache hits excluded) per merged item.
    pub gate_runs_per_merged: f64,
    /// Mean time to empty the queue, in gate-times (rounds that ran a gate).
    pub makespan_gate_times: f64,
    pub gate_runs: f64,
    pub cache_hits: f64,
    pub merged: f64,
    pub rejected: f64,
    pub rounds: f64,
}

/// One queue (a row of the table).
#[derive(Debug, Clone, Serialize)]
pub struct QueueSimRow {
    pub queue: String,
    /// "1" .. "16" for a fixed batch size, "adaptive" otherwise.
    pub batch: String,
    pub lanes: usize,
    pub cells: Vec<QueueSimCell>,
}

/// The whole queue simulation.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSimFigures {
    pub items: usize,
    /// Seeds per cell (each seed one draw of bad items, the same for every row).
    pub seeds: usize,
    pub rows: Vec<QueueSimRow>,
    /// Gate runs per merged item of adaptive batching on one lane at [`BAR_BAD_PROBABILITY`].
    pub bar_runs_per_merged: Option<f64>,
}

/// Simulates every queue at every probability over `seeds` seeds drawn from `seed`.
pub fn queue_sim(seed: u64, seeds: usize) -> anyhow::Result<QueueSimFigures> {
    let mut rng = StdRng::seed_from_u64(seed);
    let draws: Vec<u64> = (0..seeds).map(|_| rng.random()).collect();
    let mut rows = Vec::new();
    for (label, policy, lanes) in QUEUES {
        let mut cells = Vec::new();
        for bad_probability in BAD_PROBABILITIES {
            cells.push(cell(policy, lanes, bad_probability, &draws)?);
        }
        rows.push(QueueSimRow {
            queue: label.to_string(),
            batch: policy.to_string(),
            lanes,
            cells,
        });
    }
    let bar_runs_per_merged = rows
        .iter()
        .find(|row| row.batch == BatchPolicy::Adaptive.to_string() && row.lanes == 1)
        .and_then(|row| {
            row.cells
                .iter()
                .find(|c| c.bad_probability == BAR_BAD_PROBABILITY)
        })
        .map(|c| c.gate_runs_per_merged);
    Ok(QueueSimFigures {
        items: ITEMS,
        seeds,
        rows,
        bar_runs_per_merged,
    })
}

fn cell(
    policy: BatchPolicy,
    lanes: usize,
    bad_probability: f64,
    seeds: &[u64],
) -> anyhow::Result<QueueSimCell> {
    let mut sums = [0.0; 7];
    for &seed in seeds {
        let config = QueueSimConfig {
            items: ITEMS,
            bad_probability,
            policy,
            lanes,
            seed,
        };
        let f = simulate_merge_queue(&config).with_context(|| {
            format!("queue simulation: batch {policy}, {lanes} lane(s), p {bad_probability}, seed {seed}")
        })?;
        // No item merged (every one bad): each gate run was spent on a culprit.
        let per_merged = f.gate_runs_per_merged().unwrap_or(f.gate_runs as f64);
        let figures = [
            per_merged,
            f.makespan as f64,
            f.gate_runs as f64,
            f.cache_hits as f64,
            f.merged as f64,
            f.rejected as f64,
            f.rounds as f64,
        ];
        for (sum, value) in sums.iter_mut().zip(figures) {
            *sum += value;
        }
    }
    let n = seeds.len().max(1) as f64;
    let [
        runs_per_merged,
        makespan,
        gate_runs,
        cache_hits,
        merged,
        rejected,
        rounds,
    ] = sums.map(|sum| sum / n);
    Ok(QueueSimCell {
        bad_probability,
        gate_runs_per_merged: runs_per_merged,
        makespan_gate_times: makespan,
        gate_runs,
        cache_hits,
        merged,
        rejected,
        rounds,
    })
}

/// The figures as a plain-text table; `met` says whether the bar was met.
pub fn render(q: &QueueSimFigures, met: &str) -> String {
    let mut out = format!(
        "\nMerge queue simulation: {} items all waiting, each bad with probability p; mean of {} \
         seeds\n  runs/item: gate runs per merged item (a gate answered by the cache is free); \
         time: makespan in gate-times\n",
        q.items, q.seeds
    );
    out.push_str(&format!("{:<27}", ""));
    for p in BAD_PROBABILITIES {
        out.push_str(&format!("{:>17}", format!("p = {}%", p * 100.0)));
    }
    out.push_str(&format!("\n{:<27}", "queue"));
    for _ in BAD_PROBABILITIES {
        out.push_str(&format!(" {:>9} {:>6}", "runs/item", "time"));
    }
    out.push('\n');
    for row in &q.rows {
        out.push_str(&format!("{:<27}", row.queue));
        for c in &row.cells {
            out.push_str(&format!(
                " {:>9.3} {:>6.1}",
                c.gate_runs_per_merged, c.makespan_gate_times
            ));
        }
        out.push('\n');
    }
    if let Some(runs) = q.bar_runs_per_merged {
        out.push_str(&format!(
            "  adaptive batching, 1 lane, p = {}%: {runs:.3} gate runs per merged item (bar <= \
             {BAR_RUNS_PER_MERGED:.2}): {met}\n",
            BAR_BAD_PROBABILITY * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_gets_a_cell_per_probability_and_the_serial_queue_gates_each_item_once() {
        let q = queue_sim(7, 2).unwrap();
        assert_eq!(q.rows.len(), QUEUES.len());
        assert!(
            q.rows
                .iter()
                .all(|r| r.cells.len() == BAD_PROBABILITIES.len())
        );
        let serial = &q.rows[0].cells[0];
        assert_eq!((serial.gate_runs, serial.merged), (200.0, 200.0));
        assert_eq!(serial.makespan_gate_times, 200.0);
        assert!(q.bar_runs_per_merged.is_some_and(|r| r < 1.0));
        let table = render(&q, "met");
        assert!(table.contains("p = 5%") && table.contains("batch adaptive, 1 lane"));
        assert!(table.contains("(bar <= 0.45): met"), "{table}");
    }
}
