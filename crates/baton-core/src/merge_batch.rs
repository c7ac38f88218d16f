//! The merge queue's decisions, on paper: how many waiting items go into one batch, which
//! batches are gated together (speculation), and what a round's gate outcomes mean for each
//! item (merge, bisect, reject as the culprit, wait).
//!
//! The engine drives [`MergePlanner`] with real merges and gates; the queue simulation drives
//! the same planner with seeded gate outcomes, so what the bench measures is what runs.
//!
//! A round is up to `lanes` *stages*. Stage 0 is gated on the integration head, stage k on
//! the tip of stage k-1's merge chain (Zuul's dependent pipeline). The stages resolve in order:
//! each leading stage that passed merges (the head moves to its tip); the first stage that did
//! not pass ends the round, and every stage behind it was built on a tip that will never be the
//! head, so its result is thrown away. A failed stage of one item is that item's culprit
//! verdict; a failed stage of several is split in two halves, which wait at the head of the
//! line and are gated like any batch (the left half on the head, the right half behind it).
//! After a left half passes, its right half is gated on the very tree the whole batch failed
//! on; the engine's gate-result cache answers that gate without running it, so a lone right
//! half is found guilty for free. For the same reason nothing is gated behind such a right
//! half: every stage there would fail, and its gate run would be thrown away.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The largest batch the queue forms.
pub const MAX_BATCH: usize = 16;
/// The most merge lanes (stages gated at once) the queue uses.
pub const MAX_MERGE_LANES: usize = 8;
/// Merge lanes when the configuration says nothing.
pub const DEFAULT_MERGE_LANES: usize = 2;
/// The size an adaptive queue starts at.
pub const ADAPTIVE_START: usize = 4;

/// How many waiting items a batch takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BatchPolicy {
    /// Grow while batches pass (doubling, up to [`MAX_BATCH`]), halve after a failure (down
    /// to 1).
    #[default]
    Adaptive,
    /// Always this many (1: one item at a time, the serial queue).
    Fixed(usize),
}

impl std::fmt::Display for BatchPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchPolicy::Adaptive => f.write_str("adaptive"),
            BatchPolicy::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// The current batch size under a [`BatchPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSizer {
    policy: BatchPolicy,
    size: usize,
}

impl BatchSizer {
    /// A sizer at the policy's starting size.
    pub fn new(policy: BatchPolicy) -> BatchSizer {
        let size = match policy {
            BatchPolicy::Adaptive => ADAPTIVE_START,
            BatchPolicy::Fixed(n) => n.clamp(1, MAX_BATCH),
        };
        BatchSizer { policy, size }
    }

    /// How many items the next fresh batch takes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A batch of `len` items passed.
    pub fn passed(&mut self, len: usize) {
        // Only a batch as large as the size says the size is safe: a batch cut short by an
        // empty line proves nothing about a larger one.
        if self.policy == BatchPolicy::Adaptive && len >= self.size {
            self.size = (self.size * 2).min(MAX_BATCH);
        }
    }

    /// A batch (or a part of one) failed.
    pub fn failed(&mut self) {
        if self.policy == BatchPolicy::Adaptive {
            self.size = (self.size / 2).max(1);
        }
    }
}

/// A group of consecutive items gated as one: their merge chain's tip is what the gates see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage<I> {
    /// The items, in queue order.
    pub items: Vec<I>,
    /// 0 for a fresh batch; n for a part of a failed batch split n times.
    pub depth: u32,
}

/// How a stage's gates ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gated {
    /// Every merge gate passed on the stage's tip (or there were none, or no items).
    Passed,
    /// A merge gate failed on the stage's tip.
    Failed,
    /// Not run to an end: cancelled behind a failure, or interrupted.
    NotRun,
}

/// What happens to the items of a settled round, in the order to carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<I> {
    /// Move the integration branch to this stage's tip: its items merge, in order.
    Merge(Vec<I>),
    /// This item alone failed the gates: it leaves the queue as a failure.
    Reject(I),
    /// A failed batch was split; its items wait (at the head of the line) to be gated again.
    Bisected { items: Vec<I>, depth: u32 },
    /// Gated on a tip that will not become the head (or not gated at all): waits again.
    Wait(Vec<I>),
}

/// Which half of which split a part of a failed batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    /// The left half of split number n.
    Left(u64),
    /// The right half of split number n.
    Right(u64),
}

/// A part of a failed batch, waiting at the head of the line.
#[derive(Debug, Clone)]
struct Part<I> {
    stage: Stage<I>,
    /// Its half, while it is whole (a part that lost items is no half of its batch's tree).
    half: Option<Half>,
}

/// The merge queue's memory between rounds: the batch size and the parts of failed batches
/// that wait at the head of the line.
#[derive(Debug, Clone)]
pub struct MergePlanner<I> {
    sizer: BatchSizer,
    lanes: usize,
    split: VecDeque<Part<I>>,
    /// Splits made so far (numbers the halves).
    splits: u64,
    /// The split whose left half merged last: until its right half is gated, the head is the
    /// tree that half's batch failed on minus the right half.
    merged_left: Option<u64>,
    /// The parts handed out by the last [`MergePlanner::next_round`], to know them again
    /// when the round is settled.
    issued: Vec<Part<I>>,
}

impl<I: Clone + PartialEq> MergePlanner<I> {
    /// A planner with a batch policy and `lanes` merge lanes (clamped to 1..=[`MAX_MERGE_LANES`]).
    pub fn new(policy: BatchPolicy, lanes: usize) -> MergePlanner<I> {
        MergePlanner {
            sizer: BatchSizer::new(policy),
            lanes: lanes.clamp(1, MAX_MERGE_LANES),
            split: VecDeque::new(),
            splits: 0,
            merged_left: None,
            issued: Vec::new(),
        }
    }

    /// The current size of a fresh batch.
    pub fn batch_size(&self) -> usize {
        self.sizer.size()
    }

    /// How many waiting items the next round could take: a round with fewer leaves lanes or
    /// batch room unused. Parts of a failed batch are gated as they are, so while any wait
    /// the round is as full as it will get.
    pub fn round_room(&self) -> usize {
        if self.split.is_empty() {
            self.sizer.size() * self.lanes
        } else {
            0
        }
    }

    /// The next round's stages, from the items waiting in queue order: first the parts of
    /// failed batches (still waiting), then fresh batches, up to one stage per merge lane.
    /// Empty when nothing waits.
    ///
    /// A round ends early after a right half gated straight behind its left half, or first
    /// after its left half merged: that tip is the very tree their batch failed on (the gate
    /// cache answers it), so a stage behind it could only fail and be thrown away.
    pub fn next_round(&mut self, waiting: &[I]) -> Vec<Stage<I>> {
        // Parts whose items left the line (merged already after a restart, conflicted) shrink.
        for part in &mut self.split {
            let before = part.stage.items.len();
            part.stage.items.retain(|item| waiting.contains(item));
            if part.stage.items.len() < before {
                part.half = None;
            }
        }
        self.split.retain(|part| !part.stage.items.is_empty());
        self.issued.clear();
        let mut doomed = false;
        while self.issued.len() < self.lanes && !doomed {
            let Some(part) = self.split.pop_front() else {
                break;
            };
            let left = match self.issued.last() {
                Some(before) => before.half,
                None => self.merged_left.map(Half::Left),
            };
            doomed = matches!(
                (left, part.half),
                (Some(Half::Left(left)), Some(Half::Right(right))) if left == right
            );
            if doomed && part.stage.items.len() > 1 {
                // On the tip of its left half this right half is known to fail: split it now
                // and gate its own left half there instead, which tells something.
                let mut items = part.stage.items;
                let right = items.split_off(items.len() / 2);
                let depth = part.stage.depth + 1;
                let split = self.splits;
                self.splits += 1;
                self.split.push_front(Part {
                    stage: Stage {
                        items: right,
                        depth,
                    },
                    half: Some(Half::Right(split)),
                });
                self.issued.push(Part {
                    stage: Stage { items, depth },
                    half: Some(Half::Left(split)),
                });
                doomed = false;
                continue;
            }
            self.issued.push(part);
        }
        let taken = |item: &I, issued: &[Part<I>], split: &VecDeque<Part<I>>| {
            issued.iter().any(|p| p.stage.items.contains(item))
                || split.iter().any(|p| p.stage.items.contains(item))
        };
        let mut fresh: Vec<I> = waiting
            .iter()
            .filter(|item| !taken(item, &self.issued, &self.split))
            .cloned()
            .collect();
        let size = self.sizer.size();
        while !doomed && self.issued.len() < self.lanes && !fresh.is_empty() {
            let rest = fresh.split_off(size.min(fresh.len()));
            self.issued.push(Part {
                stage: Stage {
                    items: fresh,
                    depth: 0,
                },
                half: None,
            });
            fresh = rest;
        }
        self.issued.iter().map(|part| part.stage.clone()).collect()
    }

    /// Settles a round: `round` as gated (items the engine took out while building a chain
    /// already removed) and one outcome per stage. Returns the verdicts in the order to carry
    /// them out; every item of the round gets exactly one.
    pub fn settle(&mut self, round: Vec<Stage<I>>, outcomes: &[Gated]) -> Vec<Verdict<I>> {
        let issued = std::mem::take(&mut self.issued);
        // A stage is the issued part holding its first item; whole if no item was taken out.
        let half_of = |stage: &Stage<I>| {
            let part = issued.iter().find(|part| {
                stage
                    .items
                    .first()
                    .is_some_and(|i| part.stage.items.contains(i))
            })?;
            (part.stage.items == stage.items).then_some(part.half)?
        };
        let mut verdicts = Vec::new();
        let mut resolved = true;
        let mut found_culprit = false;
        let mut back: Vec<Part<I>> = Vec::new();
        for (index, stage) in round.into_iter().enumerate() {
            let outcome = outcomes.get(index).copied().unwrap_or(Gated::NotRun);
            let half = half_of(&stage);
            if !resolved {
                // Built on a tip that will not be the head: its result means nothing. A part
                // of a failed batch keeps its place; a fresh batch goes back to the line.
                if stage.depth > 0 {
                    back.push(Part {
                        stage: stage.clone(),
                        half,
                    });
                }
                verdicts.push(Verdict::Wait(stage.items));
                continue;
            }
            if stage.items.is_empty() {
                continue;
            }
            match outcome {
                Gated::Passed => {
                    self.merged_left = match half {
                        Some(Half::Left(split)) => Some(split),
                        _ => None,
                    };
                    self.sizer.passed(stage.items.len());
                    verdicts.push(Verdict::Merge(stage.items));
                }
                Gated::Failed => {
                    resolved = false;
                    // Only a fresh batch says the size is too large: a part of a failed batch
                    // fails because the culprit is in it, whatever the size.
                    if stage.depth == 0 {
                        self.sizer.failed();
                    }
                    let mut items = stage.items;
                    if items.len() == 1 {
                        if let Some(culprit) = items.pop() {
                            verdicts.push(Verdict::Reject(culprit));
                            found_culprit = true;
                        }
                    } else {
                        // One more part than merge lanes: the next round gates all but the
                        // last as a chain, and the first that fails holds a culprit (when all
                        // pass, the last does). With one lane, that is halving.
                        let parts = split_evenly(items, self.lanes + 1);
                        let depth = stage.depth + 1;
                        let split = self.splits;
                        self.splits += 1;
                        let last = parts.len().saturating_sub(1);
                        for (index, items) in parts.into_iter().enumerate() {
                            let half = if index == last {
                                Some(Half::Right(split))
                            } else if index + 1 == last {
                                Some(Half::Left(split))
                            } else {
                                None
                            };
                            back.push(Part {
                                stage: Stage {
                                    items: items.clone(),
                                    depth,
                                },
                                half,
                            });
                            verdicts.push(Verdict::Bisected { items, depth });
                        }
                    }
                }
                Gated::NotRun => {
                    resolved = false;
                    if stage.depth > 0 {
                        back.push(Part {
                            stage: stage.clone(),
                            half,
                        });
                    }
                    verdicts.push(Verdict::Wait(stage.items));
                }
            }
        }
        if found_culprit {
            // The culprit explains its batch's failure: what is left of that batch's parts is
            // no longer suspect, and waits in the line to be batched afresh (at the current
            // size) instead of being gated part by part.
            self.split.clear();
            self.merged_left = None;
        } else {
            for part in back.into_iter().rev() {
                self.split.push_front(part);
            }
        }
        verdicts
    }
}

/// `items` cut into `parts` consecutive runs of nearly equal length (the earlier ones longer),
/// none empty.
fn split_evenly<I>(mut items: Vec<I>, parts: usize) -> Vec<Vec<I>> {
    let parts = parts.clamp(1, items.len().max(1));
    let mut out = Vec::with_capacity(parts);
    for left in (1..=parts).rev() {
        let take = items.len().div_ceil(left);
        let rest = items.split_off(take);
        out.push(items);
        items = rest;
    }
    out
}

#[cfg(test)]
#[path = "merge_batch_tests.rs"]
mod tests;
