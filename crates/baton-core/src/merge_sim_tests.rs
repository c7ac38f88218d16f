use super::*;
use crate::merge_batch::{MAX_BATCH, MAX_MERGE_LANES};
use proptest::prelude::*;

/// `n` items, those in `bad` bad.
fn queue(n: usize, bad: &[usize]) -> Vec<bool> {
    (0..n).map(|i| bad.contains(&i)).collect()
}

#[test]
fn a_bad_item_at_the_end_of_a_batch_is_found_with_its_last_gate_answered_by_the_cache() {
    // W = [0..8] fails on H; [0..4] passes; [4..8] would be W's tree on H+[0..4], so it is
    // split before it is gated: [4, 5] passes, [6] passes; [7] alone is W's tree (cached).
    let figures = simulate_queue_of(&queue(8, &[7]), BatchPolicy::Fixed(8), 1).unwrap();
    assert_eq!(
        figures,
        QueueSimFigures {
            items: 8,
            bad: 1,
            gate_runs: 4,
            cache_hits: 1,
            merged: 7,
            rejected: 1,
            rounds: 5,
            makespan: 4,
        }
    );
}

#[test]
fn with_two_lanes_a_failed_batch_is_searched_in_thirds() {
    // W fails; [0, 1, 2] and [3, 4, 5] pass in one round; [6, 7] is split: [6] passes and
    // [7] alone is W's tree (cached).
    let figures = simulate_queue_of(&queue(8, &[7]), BatchPolicy::Fixed(8), 2).unwrap();
    assert_eq!((figures.gate_runs, figures.cache_hits), (4, 1));
    assert_eq!((figures.rounds, figures.makespan), (3, 3));
    assert_eq!((figures.merged, figures.rejected), (7, 1));
}

#[test]
fn a_serial_queue_gates_every_item_once() {
    let figures = simulate_queue_of(&queue(10, &[3, 4]), BatchPolicy::Fixed(1), 1).unwrap();
    assert_eq!((figures.gate_runs, figures.cache_hits), (10, 0));
    assert_eq!((figures.rounds, figures.makespan), (10, 10));
    assert_eq!((figures.merged, figures.rejected), (8, 2));
    assert_eq!(figures.gate_runs_per_merged(), Some(10.0 / 8.0));
}

#[test]
fn stages_behind_a_failure_count_as_runs_and_their_results_are_thrown_away() {
    // Round 1: [0] fails, [1], [2], [3] ran on tips holding item 0 (thrown away).
    // Round 2: [1], [2], [3] again on tips without it: three more runs.
    let figures = simulate_queue_of(&queue(4, &[0]), BatchPolicy::Fixed(1), 4).unwrap();
    assert_eq!((figures.gate_runs, figures.cache_hits), (7, 0));
    assert_eq!((figures.rounds, figures.makespan), (2, 2));
    assert_eq!((figures.merged, figures.rejected), (3, 1));
}

#[test]
fn an_adaptive_queue_without_bad_items_grows_to_the_largest_batch() {
    // Batches of 4, 8, then 16: 200 items in 2 + 12 gates.
    let config = QueueSimConfig {
        items: 200,
        bad_probability: 0.0,
        policy: BatchPolicy::Adaptive,
        lanes: 1,
        seed: 1,
    };
    let figures = simulate_merge_queue(&config).unwrap();
    assert_eq!((figures.gate_runs, figures.makespan), (14, 14));
    assert_eq!((figures.merged, figures.rejected, figures.bad), (200, 0, 0));
}

#[test]
fn an_empty_queue_takes_no_round_and_merges_nothing() {
    let figures = simulate_queue_of(&[], BatchPolicy::Adaptive, 2).unwrap();
    assert_eq!(figures, QueueSimFigures::default());
    assert_eq!(figures.gate_runs_per_merged(), None);
}

#[test]
fn a_bad_item_probability_outside_zero_to_one_is_refused() {
    for p in [-0.1, 1.5, f64::NAN] {
        let config = QueueSimConfig {
            items: 5,
            bad_probability: p,
            policy: BatchPolicy::Adaptive,
            lanes: 1,
            seed: 1,
        };
        let error = simulate_merge_queue(&config).unwrap_err();
        assert!(matches!(error, QueueSimError::BadProbability(_)), "{p}");
        assert!(error.to_string().contains("between 0 and 1"), "{error}");
    }
}

#[test]
fn a_seed_draws_the_same_bad_items_under_every_policy() {
    let config = |policy, lanes| QueueSimConfig {
        items: 200,
        bad_probability: 0.1,
        policy,
        lanes,
        seed: 42,
    };
    let serial = simulate_merge_queue(&config(BatchPolicy::Fixed(1), 1)).unwrap();
    let adaptive = simulate_merge_queue(&config(BatchPolicy::Adaptive, 4)).unwrap();
    assert!(serial.bad > 0);
    assert_eq!(serial.bad, adaptive.bad);
    assert_eq!(serial.rejected, adaptive.rejected);
    assert_eq!(
        adaptive,
        simulate_merge_queue(&config(BatchPolicy::Adaptive, 4)).unwrap()
    );
    let other_seed = QueueSimConfig {
        seed: 43,
        ..config(BatchPolicy::Fixed(1), 1)
    };
    assert_ne!(serial, simulate_merge_queue(&other_seed).unwrap());
}

#[test]
fn the_checks_catch_a_missing_verdict_a_failed_tip_as_head_and_a_good_item_rejected() {
    let stages = vec![Stage {
        items: vec![0, 1],
        depth: 0,
    }];
    let missing = check_one_verdict_each(3, &stages, &[Verdict::Wait(vec![0])]);
    assert_eq!(
        missing,
        Err(QueueSimError::VerdictCount {
            round: 3,
            item: 1,
            verdicts: 0
        })
    );
    let twice = check_one_verdict_each(3, &stages, &[Verdict::Wait(vec![0, 1, 1])]);
    assert!(matches!(
        twice,
        Err(QueueSimError::VerdictCount { verdicts: 2, .. })
    ));

    let bad = queue(2, &[1]);
    let fresh = |bad| Queue {
        bad,
        waiting: vec![0, 1],
        head: Vec::new(),
        fate: vec![None; 2],
        cache: HashMap::new(),
        figures: QueueSimFigures::default(),
    };
    let mut state = fresh(&bad);
    let (outcomes, tips) = state.gate(&stages);
    assert_eq!(outcomes, vec![Gated::Failed]);
    let merged = state.carry_out(&stages, &outcomes, &tips, vec![Verdict::Merge(vec![0, 1])]);
    assert!(matches!(merged, Err(QueueSimError::HeadNotPassed { .. })));
    let mut state = fresh(&bad);
    let rejected = state.carry_out(&stages, &outcomes, &tips, vec![Verdict::Reject(0)]);
    assert!(matches!(
        rejected,
        Err(QueueSimError::GoodItemRejected { item: 0, .. })
    ));
    let mut state = fresh(&bad);
    let twice = state.carry_out(
        &stages,
        &outcomes,
        &tips,
        vec![Verdict::Reject(1), Verdict::Reject(1)],
    );
    assert!(matches!(
        twice,
        Err(QueueSimError::LeftTwice { item: 1, .. })
    ));
}

fn policy() -> impl Strategy<Value = BatchPolicy> {
    prop_oneof![
        Just(BatchPolicy::Adaptive),
        (1..=MAX_BATCH).prop_map(BatchPolicy::Fixed)
    ]
}

/// The items a verdict names.
fn named(verdict: &Verdict<usize>) -> Vec<usize> {
    match verdict {
        Verdict::Merge(items) | Verdict::Wait(items) | Verdict::Bisected { items, .. } => {
            items.clone()
        }
        Verdict::Reject(item) => vec![*item],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Drives the planner directly (no simulation code) with true gate outcomes, some of them
    /// interrupted (NotRun), and checks every round's verdicts.
    #[test]
    fn the_planner_merges_every_good_item_once_and_rejects_every_bad_one_alone(
        bad in prop::collection::vec(prop::bool::weighted(0.15), 1..60),
        policy in policy(),
        lanes in 1..=MAX_MERGE_LANES,
        interruptions in prop::collection::vec(prop::bool::weighted(0.25), 0..80),
    ) {
        let n = bad.len();
        let limit = 64 + 16 * n + interruptions.len();
        let mut interrupted = interruptions.into_iter();
        let mut planner = MergePlanner::new(policy, lanes);
        let mut waiting: Vec<usize> = (0..n).collect();
        let mut head: Vec<usize> = Vec::new();
        let mut merged = vec![false; n];
        let mut rejected = vec![false; n];
        let mut failed_tips: Vec<Vec<usize>> = Vec::new();
        let mut rounds = 0;
        while !waiting.is_empty() {
            rounds += 1;
            prop_assert!(rounds <= limit, "no end after {limit} rounds; waiting {waiting:?}");
            let round = planner.next_round(&waiting);
            prop_assert!(!round.is_empty() && round.len() <= lanes, "{round:?}");
            let mut in_round: Vec<usize> = round.iter().flat_map(|s| s.items.clone()).collect();
            for stage in &round {
                prop_assert!(!stage.items.is_empty() && stage.items.len() <= MAX_BATCH);
            }
            for item in &in_round {
                prop_assert!(waiting.contains(item), "item {item} does not wait");
            }
            in_round.sort_unstable();
            let before = in_round.len();
            in_round.dedup();
            prop_assert_eq!(before, in_round.len(), "an item in two stages");

            // Gate each stage's tip: head + stages 0..=k; a tip fails iff it holds a bad item.
            let mut tip = head.clone();
            let mut tips = Vec::new();
            let mut outcomes = Vec::new();
            for stage in &round {
                // Nothing is gated behind a tip whose failure settled an earlier round: all
                // that could do is fail.
                prop_assert!(!failed_tips.contains(&tip), "stage gated behind the failed tip {tip:?}");
                tip.extend(&stage.items);
                outcomes.push(if interrupted.next().unwrap_or(false) {
                    Gated::NotRun
                } else if tip.iter().any(|&i| bad[i]) {
                    Gated::Failed
                } else {
                    Gated::Passed
                });
                tips.push(tip.clone());
            }
            // The failure the planner learns from (results behind it are thrown away).
            let leading = outcomes.iter().take_while(|o| **o == Gated::Passed).count();
            if outcomes.get(leading) == Some(&Gated::Failed) {
                failed_tips.push(tips[leading].clone());
            }
            let verdicts = planner.settle(round.clone(), &outcomes);

            // A verdict for every item of the round, and for no other.
            let mut judged: Vec<usize> = verdicts.iter().flat_map(named).collect();
            judged.sort_unstable();
            prop_assert_eq!(&judged, &in_round);

            // The head moves only to the tips of the leading passed stages, in order.
            let merges: Vec<&Vec<usize>> = verdicts
                .iter()
                .filter_map(|v| match v { Verdict::Merge(items) => Some(items), _ => None })
                .collect();
            prop_assert_eq!(merges.len(), leading);
            for (k, items) in merges.into_iter().enumerate() {
                prop_assert_eq!(items, &round[k].items);
                for &item in items {
                    prop_assert!(!bad[item], "bad item {item} merged");
                    prop_assert!(!merged[item] && !rejected[item], "item {item} left twice");
                    merged[item] = true;
                }
                head.extend(items);
                prop_assert_eq!(&head, &tips[k]);
            }
            // A culprit is the lone item of the first stage that failed.
            for verdict in &verdicts {
                if let Verdict::Reject(item) = verdict {
                    prop_assert!(bad[*item], "good item {item} rejected");
                    prop_assert_eq!(outcomes.get(leading), Some(&Gated::Failed));
                    prop_assert_eq!(&round[leading].items, &vec![*item]);
                    prop_assert!(!merged[*item] && !rejected[*item], "item {item} left twice");
                    rejected[*item] = true;
                }
            }
            waiting.retain(|&i| !merged[i] && !rejected[i]);
        }
        for item in 0..n {
            prop_assert_eq!(merged[item], !bad[item], "item {} merged: {}", item, merged[item]);
            prop_assert_eq!(rejected[item], bad[item], "item {} rejected: {}", item, rejected[item]);
        }
        // Good items merge in queue order.
        let good: Vec<usize> = (0..n).filter(|&i| !bad[i]).collect();
        prop_assert_eq!(head, good);
    }

    #[test]
    fn the_simulation_keeps_its_promises_on_random_queues(
        items in 0..60usize,
        bad_probability in 0.0..0.5f64,
        policy in policy(),
        lanes in 1..=MAX_MERGE_LANES,
        seed in any::<u64>(),
    ) {
        let config = QueueSimConfig { items, bad_probability, policy, lanes, seed };
        let figures = simulate_merge_queue(&config);
        prop_assert!(figures.is_ok(), "{figures:?}");
        let Ok(f) = figures else { return Ok(()) };
        prop_assert_eq!(f.merged + f.rejected, items);
        prop_assert_eq!(f.rejected, f.bad);
        prop_assert!(f.makespan <= f.rounds && f.makespan <= f.gate_runs);
        prop_assert!(f.gate_runs + f.cache_hits >= f.rounds);
        if policy == BatchPolicy::Fixed(1) && lanes == 1 {
            // The serial queue gates each item once, on a tree never seen before.
            prop_assert_eq!((f.gate_runs, f.cache_hits), (items as u64, 0));
        }
    }
}
