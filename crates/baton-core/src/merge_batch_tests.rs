use super::*;

fn ids(range: std::ops::Range<u32>) -> Vec<u32> {
    range.collect()
}

#[test]
fn an_adaptive_size_doubles_on_full_passes_and_halves_on_failures_within_bounds() {
    let mut sizer = BatchSizer::new(BatchPolicy::Adaptive);
    assert_eq!(sizer.size(), ADAPTIVE_START);
    sizer.passed(2); // a short batch proves nothing about a larger one
    assert_eq!(sizer.size(), 4);
    for _ in 0..5 {
        let size = sizer.size();
        sizer.passed(size);
    }
    assert_eq!(sizer.size(), MAX_BATCH);
    for _ in 0..10 {
        sizer.failed();
    }
    assert_eq!(sizer.size(), 1);
    let mut fixed = BatchSizer::new(BatchPolicy::Fixed(3));
    fixed.passed(3);
    fixed.failed();
    assert_eq!(fixed.size(), 3);
}

#[test]
fn a_round_takes_one_fresh_batch_per_lane_in_queue_order() {
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(3), 2);
    let round = planner.next_round(&ids(0..8));
    let items: Vec<Vec<u32>> = round.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![0, 1, 2], vec![3, 4, 5]]);
    assert!(round.iter().all(|s| s.depth == 0));
}

#[test]
fn a_failed_batch_is_bisected_and_the_stages_behind_it_wait() {
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 2);
    let round = planner.next_round(&ids(0..8));
    let verdicts = planner.settle(round, &[Gated::Failed, Gated::Passed]);
    assert_eq!(
        verdicts,
        vec![
            Verdict::Bisected {
                items: vec![0, 1],
                depth: 1
            },
            Verdict::Bisected {
                items: vec![2, 3],
                depth: 1
            },
            Verdict::Wait(vec![4, 5, 6, 7]),
        ]
    );
    // The halves come first, gated as a speculative pair.
    let next = planner.next_round(&ids(0..8));
    assert_eq!(next[0].items, vec![0, 1]);
    assert_eq!(next[1].items, vec![2, 3]);
    // The left half passes, the right half fails again: it splits into singletons.
    let verdicts = planner.settle(next, &[Gated::Passed, Gated::Failed]);
    assert_eq!(verdicts[0], Verdict::Merge(vec![0, 1]));
    let waiting: Vec<u32> = ids(2..8);
    let third = planner.next_round(&waiting);
    assert_eq!(third[0].items, vec![2]);
    assert_eq!(third[1].items, vec![3]);
    assert_eq!(third[0].depth, 2);
    let verdicts = planner.settle(third, &[Gated::Passed, Gated::Failed]);
    assert_eq!(verdicts, vec![Verdict::Merge(vec![2]), Verdict::Reject(3)]);
}

#[test]
fn parts_whose_items_left_the_line_shrink_or_vanish() {
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 1);
    let round = planner.next_round(&ids(0..4));
    planner.settle(round, &[Gated::Failed]);
    // Item 0 merged already (found after a restart), item 1 conflicted: gone from the line.
    let next = planner.next_round(&[2, 3, 9]);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].items, vec![2, 3]);
    assert_eq!(next[0].depth, 1);
}

#[test]
fn nothing_is_gated_behind_a_right_half_that_follows_its_left_half() {
    // The right half's tip is the tree the whole batch failed on: a stage behind it can only
    // fail. Before, the round filled all four lanes and threw two gate runs away.
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 4);
    let round = planner.next_round(&ids(0..16));
    assert_eq!(round.len(), 4);
    planner.settle(
        round,
        &[Gated::Failed, Gated::Failed, Gated::Failed, Gated::Failed],
    );
    let next = planner.next_round(&ids(0..16));
    let items: Vec<Vec<u32>> = next.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![0, 1], vec![2, 3]]);
    // The left half passes, the right half fails (its gate answered by the cache): its halves
    // are again all the round holds.
    planner.settle(next, &[Gated::Passed, Gated::Failed]);
    let third = planner.next_round(&ids(2..16));
    let items: Vec<Vec<u32>> = third.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![2], vec![3]]);
}

#[test]
fn a_right_half_gated_first_after_its_left_half_merged_ends_the_round() {
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 3);
    let round = planner.next_round(&ids(0..12));
    planner.settle(round, &[Gated::Failed, Gated::NotRun, Gated::NotRun]);
    let next = planner.next_round(&ids(0..12));
    // The left half merges; the right half was interrupted.
    planner.settle(next, &[Gated::Passed, Gated::NotRun]);
    let third = planner.next_round(&ids(2..12));
    let items: Vec<Vec<u32>> = third.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![2, 3]]);
    // It fails (the cache answers): its halves make the next round alone; then the lanes fill.
    planner.settle(third, &[Gated::Failed]);
    let fourth = planner.next_round(&ids(2..12));
    assert_eq!(fourth.len(), 2);
    let verdicts = planner.settle(fourth, &[Gated::Passed, Gated::Failed]);
    assert_eq!(verdicts, vec![Verdict::Merge(vec![2]), Verdict::Reject(3)]);
    let fifth = planner.next_round(&ids(4..12));
    let items: Vec<Vec<u32>> = fifth.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![4, 5, 6, 7], vec![8, 9, 10, 11]]);
}

#[test]
fn a_half_that_lost_items_does_not_end_the_round() {
    // Item 3 left the line: [2] with its left half is no longer the failed batch's tree.
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 4);
    let round = planner.next_round(&ids(0..16));
    planner.settle(round, &[Gated::Failed; 4]);
    let waiting: Vec<u32> = ids(0..16).into_iter().filter(|i| *i != 3).collect();
    let next = planner.next_round(&waiting);
    let items: Vec<Vec<u32>> = next.iter().map(|s| s.items.clone()).collect();
    assert_eq!(
        items,
        vec![vec![0, 1], vec![2], vec![4, 5, 6, 7], vec![8, 9, 10, 11]]
    );
}
