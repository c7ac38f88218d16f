//! The merge queue on paper: a saturated queue of items, some of them bad, driven through the
//! real [`MergePlanner`] round by round with seeded gate outcomes, to count what batching and
//! speculation cost in gate runs and in time (`baton bench --only queue-sim`).
//!
//! The model: every item waits at time 0, each is bad with probability p (independently), and
//! a gate on a tree fails iff the tree holds a bad item. A tree is the ordered sequence of the
//! items merged into the head followed by the items of the stage chain up to the gated stage
//! (head + stages 0..=k). As in the engine, a gate never runs twice on one tree: the second
//! time the cache answers, with no run and no time. A round gates its stages in parallel and
//! takes one gate-time if any stage ran a gate, none if the cache answered them all. Stages
//! behind the first failing one ran (they held lanes), so they count as gate runs, but their
//! results are thrown away as the planner's settle does, and not cached: the engine cancels
//! them, so their results never reach its cache.

use crate::merge_batch::{BatchPolicy, Gated, MergePlanner, Stage, Verdict};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// One simulated queue: how many items, how likely each is bad, and how the queue batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueSimConfig {
    /// Items waiting at time 0.
    pub items: usize,
    /// The probability that an item is bad (its gates fail wherever it is), 0.0..=1.0.
    pub bad_probability: f64,
    /// How many waiting items a batch takes.
    pub policy: BatchPolicy,
    /// Merge lanes: stages gated at once (the planner clamps to 1..=`MAX_MERGE_LANES`).
    pub lanes: usize,
    /// Seed of the bad items (the same seed gives the same bad items under every policy).
    pub seed: u64,
}

/// What one simulated queue cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueSimFigures {
    /// Items in the queue.
    pub items: usize,
    /// Bad items among them.
    pub bad: usize,
    /// Gates run (cache hits excluded), thrown-away speculative stages included.
    pub gate_runs: u64,
    /// Gates answered by the gate-result cache.
    pub cache_hits: u64,
    /// Items merged into the head.
    pub merged: usize,
    /// Items rejected as culprits.
    pub rejected: usize,
    /// Rounds the planner took.
    pub rounds: u64,
    /// Rounds that ran at least one gate: the time to empty the queue, in gate-times.
    pub makespan: u64,
}

impl QueueSimFigures {
    /// Gate runs per merged item; `None` when nothing merged.
    pub fn gate_runs_per_merged(&self) -> Option<f64> {
        (self.merged > 0).then(|| self.gate_runs as f64 / self.merged as f64)
    }
}

/// A simulated queue that broke one of the merge queue's promises (a bug in the planner or in
/// the simulation), or a configuration it cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueSimError {
    /// The bad-item probability is not a probability.
    #[error("the bad-item probability {0} is not between 0 and 1")]
    BadProbability(f64),
    /// A stage held an item that does not wait, or an item twice.
    #[error("round {round}: a stage holds item {item}, which does not wait or is in two stages")]
    ItemNotWaiting {
        /// The round (1-based).
        round: u64,
        /// The item.
        item: usize,
    },
    /// An item of a round got no verdict or several.
    #[error("round {round}: item {item} got {verdicts} verdicts (one expected)")]
    VerdictCount {
        /// The round (1-based).
        round: u64,
        /// The item.
        item: usize,
        /// How many verdicts named it.
        verdicts: usize,
    },
    /// The head moved to a tip that did not pass its gates (or out of stage order).
    #[error("round {round}: merge {merge} of the round is not the tip of a passed stage")]
    HeadNotPassed {
        /// The round (1-based).
        round: u64,
        /// The merge verdict's position among the round's merges (0-based).
        merge: usize,
    },
    /// A good item was rejected.
    #[error("round {round}: item {item} is good but was rejected")]
    GoodItemRejected {
        /// The round (1-based).
        round: u64,
        /// The item.
        item: usize,
    },
    /// A bad item merged.
    #[error("round {round}: item {item} is bad but merged")]
    BadItemMerged {
        /// The round (1-based).
        round: u64,
        /// The item.
        item: usize,
    },
    /// An item merged or was rejected a second time.
    #[error("round {round}: item {item} left the queue a second time")]
    LeftTwice {
        /// The round (1-based).
        round: u64,
        /// The item.
        item: usize,
    },
    /// The queue stopped making progress.
    #[error("the queue still held {waiting} items after {rounds} rounds")]
    Stalled {
        /// Rounds run.
        rounds: u64,
        /// Items still waiting.
        waiting: usize,
    },
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Merged,
    Rejected,
}

/// Simulates `config`'s queue: draws the bad items from the seed, then runs
/// [`simulate_queue_of`].
pub fn simulate_merge_queue(config: &QueueSimConfig) -> Result<QueueSimFigures, QueueSimError> {
    let p = config.bad_probability;
    if !(0.0..=1.0).contains(&p) {
        return Err(QueueSimError::BadProbability(p));
    }
    let mut rng = StdRng::seed_from_u64(config.seed);
    let bad: Vec<bool> = (0..config.items).map(|_| rng.random_bool(p)).collect();
    simulate_queue_of(&bad, config.policy, config.lanes)
}

/// Simulates a saturated queue of `bad.len()` items (item i is bad iff `bad[i]`) under `policy`
/// with `lanes` merge lanes, until every item merged or was rejected. Checks the queue's
/// promises after every round and fails on the first one broken.
pub fn simulate_queue_of(
    bad: &[bool],
    policy: BatchPolicy,
    lanes: usize,
) -> Result<QueueSimFigures, QueueSimError> {
    let mut queue = Queue {
        bad,
        waiting: (0..bad.len()).collect(),
        head: Vec::new(),
        fate: vec![None; bad.len()],
        cache: HashMap::new(),
        figures: QueueSimFigures {
            items: bad.len(),
            bad: bad.iter().filter(|b| **b).count(),
            ..QueueSimFigures::default()
        },
    };
    let mut planner = MergePlanner::new(policy, lanes);
    // Each bad item costs at most a bisection of the largest batch (a few rounds per level);
    // far more rounds than that means nothing moves any more.
    let limit = 64 + 16 * bad.len() as u64;
    while !queue.waiting.is_empty() {
        if queue.figures.rounds >= limit {
            return Err(QueueSimError::Stalled {
                rounds: queue.figures.rounds,
                waiting: queue.waiting.len(),
            });
        }
        queue.figures.rounds += 1;
        let stages = planner.next_round(&queue.waiting);
        queue.check_stages(&stages)?;
        let (outcomes, tips) = queue.gate(&stages);
        let verdicts = planner.settle(stages.clone(), &outcomes);
        check_one_verdict_each(queue.figures.rounds, &stages, &verdicts)?;
        queue.carry_out(&stages, &outcomes, &tips, verdicts)?;
    }
    Ok(queue.figures)
}

/// The simulated queue's state between rounds.
struct Queue<'a> {
    bad: &'a [bool],
    /// Items not merged or rejected yet, in queue order.
    waiting: Vec<usize>,
    /// The items merged into the integration head, in merge order.
    head: Vec<usize>,
    fate: Vec<Option<Fate>>,
    /// The gate-result cache: tree (head sequence + stage chain) to "passed".
    cache: HashMap<Vec<usize>, bool>,
    figures: QueueSimFigures,
}

impl Queue<'_> {
    /// Every item of a round's stages waits and is in one stage only.
    fn check_stages(&self, stages: &[Stage<usize>]) -> Result<(), QueueSimError> {
        let mut seen = vec![false; self.bad.len()];
        for &item in stages.iter().flat_map(|s| &s.items) {
            let waits = self.fate.get(item).is_some_and(Option::is_none);
            if !waits || seen[item] {
                return Err(QueueSimError::ItemNotWaiting {
                    round: self.figures.rounds,
                    item,
                });
            }
            seen[item] = true;
        }
        Ok(())
    }

    /// Gates a round's stages in parallel: one outcome and one tip (tree) per stage.
    fn gate(&mut self, stages: &[Stage<usize>]) -> (Vec<Gated>, Vec<Vec<usize>>) {
        let mut tip = self.head.clone();
        let mut outcomes = Vec::with_capacity(stages.len());
        let mut tips = Vec::with_capacity(stages.len());
        let mut ran = false;
        let mut failed_ahead = false;
        for stage in stages {
            tip.extend(&stage.items);
            let passed = match self.cache.get(&tip) {
                Some(&passed) => {
                    self.figures.cache_hits += 1;
                    passed
                }
                None => {
                    self.figures.gate_runs += 1;
                    ran = true;
                    let passed = !tip.iter().any(|&item| self.bad[item]);
                    if !failed_ahead {
                        self.cache.insert(tip.clone(), passed);
                    }
                    passed
                }
            };
            failed_ahead |= !passed;
            outcomes.push(if passed { Gated::Passed } else { Gated::Failed });
            tips.push(tip.clone());
        }
        if ran {
            self.figures.makespan += 1;
        }
        (outcomes, tips)
    }

    /// Carries out a round's verdicts, checking that only passed tips become the head, that
    /// only bad items are rejected and that nothing leaves twice.
    fn carry_out(
        &mut self,
        stages: &[Stage<usize>],
        outcomes: &[Gated],
        tips: &[Vec<usize>],
        verdicts: Vec<Verdict<usize>>,
    ) -> Result<(), QueueSimError> {
        let round = self.figures.rounds;
        let mut merges = 0;
        for verdict in verdicts {
            match verdict {
                Verdict::Merge(items) => {
                    // The n-th merge of a round is stage n, which passed (so did all before it).
                    let merge = merges;
                    merges += 1;
                    let passed = stages.get(merge).is_some_and(|s| s.items == items)
                        && outcomes.get(merge) == Some(&Gated::Passed);
                    if !passed {
                        return Err(QueueSimError::HeadNotPassed { round, merge });
                    }
                    for item in items {
                        if self.bad[item] {
                            return Err(QueueSimError::BadItemMerged { round, item });
                        }
                        self.leave(item, Fate::Merged)?;
                        self.head.push(item);
                        self.figures.merged += 1;
                    }
                    if tips.get(merge) != Some(&self.head) {
                        return Err(QueueSimError::HeadNotPassed { round, merge });
                    }
                }
                Verdict::Reject(item) => {
                    if !self.bad[item] {
                        return Err(QueueSimError::GoodItemRejected { round, item });
                    }
                    self.leave(item, Fate::Rejected)?;
                    self.figures.rejected += 1;
                }
                Verdict::Bisected { .. } | Verdict::Wait(_) => {}
            }
        }
        let fate = &self.fate;
        self.waiting.retain(|&item| fate[item].is_none());
        Ok(())
    }

    fn leave(&mut self, item: usize, fate: Fate) -> Result<(), QueueSimError> {
        let round = self.figures.rounds;
        match self.fate.get_mut(item) {
            Some(slot @ None) => {
                *slot = Some(fate);
                Ok(())
            }
            _ => Err(QueueSimError::LeftTwice { round, item }),
        }
    }
}

/// Every item of the round's stages is named by exactly one verdict, and no other item is.
fn check_one_verdict_each(
    round: u64,
    stages: &[Stage<usize>],
    verdicts: &[Verdict<usize>],
) -> Result<(), QueueSimError> {
    let mut count: HashMap<usize, usize> = stages
        .iter()
        .flat_map(|s| &s.items)
        .map(|&item| (item, 0))
        .collect();
    for verdict in verdicts {
        let named: &[usize] = match verdict {
            Verdict::Merge(items) | Verdict::Wait(items) | Verdict::Bisected { items, .. } => items,
            Verdict::Reject(item) => std::slice::from_ref(item),
        };
        for &item in named {
            *count.entry(item).or_insert(0) += 1;
        }
    }
    match count.into_iter().filter(|(_, n)| *n != 1).min() {
        Some((item, verdicts)) => Err(QueueSimError::VerdictCount {
            round,
            item,
            verdicts,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "merge_sim_tests.rs"]
mod tests;
