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
fn a_failed_batch_is_split_in_one_part_more_than_lanes_and_a_culprit_frees_the_rest() {
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
                items: vec![2],
                depth: 1
            },
            Verdict::Bisected {
                items: vec![3],
                depth: 1
            },
            Verdict::Wait(vec![4, 5, 6, 7]),
        ]
    );
    // The first two parts come first, gated as a speculative pair; the third is the culprit
    // if both pass.
    let next = planner.next_round(&ids(0..8));
    assert_eq!(next[0].items, vec![0, 1]);
    assert_eq!(next[1].items, vec![2]);
    assert_eq!(next[0].depth, 1);
    let verdicts = planner.settle(next, &[Gated::Passed, Gated::Failed]);
    assert_eq!(
        verdicts,
        vec![Verdict::Merge(vec![0, 1]), Verdict::Reject(2)]
    );
    // The culprit explains the failure: item 3 is batched afresh with the rest of the line.
    let third = planner.next_round(&ids(3..8));
    assert_eq!(third[0].items, vec![3, 4, 5, 6]);
    assert_eq!(third[0].depth, 0);
    assert_eq!(third[1].items, vec![7]);
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
fn a_right_half_behind_its_left_half_is_split_first_and_ends_the_round() {
    // On the tip of its left half, a right half is the tree its batch failed on: gated whole it
    // could only fail (the cache answers it), and a stage behind it too.
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(8), 3);
    let round = planner.next_round(&ids(0..24));
    assert_eq!(round.len(), 3);
    planner.settle(round, &[Gated::Failed, Gated::NotRun, Gated::NotRun]);
    let next = planner.next_round(&ids(0..24));
    let items: Vec<Vec<u32>> = next.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
    planner.settle(next, &[Gated::Passed; 3]);
    // [6, 7] is known to fail on the new head: its halves are gated instead, and nothing is
    // gated behind the second (it is the culprit when the first passes).
    let third = planner.next_round(&ids(6..24));
    let items: Vec<Vec<u32>> = third.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![6], vec![7]]);
    let verdicts = planner.settle(third, &[Gated::Passed, Gated::Failed]);
    assert_eq!(verdicts, vec![Verdict::Merge(vec![6]), Verdict::Reject(7)]);
    let fourth = planner.next_round(&ids(8..24));
    let items: Vec<Vec<u32>> = fourth.iter().map(|s| s.items.clone()).collect();
    assert_eq!(
        items,
        vec![
            (8..16).collect::<Vec<u32>>(),
            (16..24).collect::<Vec<u32>>()
        ]
    );
}

#[test]
fn a_half_that_lost_items_does_not_end_the_round() {
    // Item 3 left the line: the last part before it is no longer next to the culprit's part,
    // so the round fills its lanes.
    let mut planner = MergePlanner::new(BatchPolicy::Fixed(4), 4);
    let round = planner.next_round(&ids(0..16));
    planner.settle(round, &[Gated::Failed; 4]);
    let waiting: Vec<u32> = ids(0..16).into_iter().filter(|i| *i != 3).collect();
    let next = planner.next_round(&waiting);
    let items: Vec<Vec<u32>> = next.iter().map(|s| s.items.clone()).collect();
    assert_eq!(items, vec![vec![0], vec![1], vec![2], vec![4, 5, 6, 7]]);
}
