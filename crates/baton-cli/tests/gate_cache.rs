#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The gate-result cache: a gate never runs twice on the same tree in a run. A task whose
//! merge changes nothing the task's own gate did not see (its would-be merge has the tree of
//! its commit) takes the merge gate's result from its lane's run of the same gate.

mod support;

use support::{Baton, OK};

#[test]
fn a_merge_with_the_tree_the_task_already_gated_is_not_gated_again() {
    let baton = Baton::new();
    let counts = baton.writable_scratch("counts");
    let count = counts.join("runs");
    let plan = baton.plan(
        "cache.yaml",
        &format!(
            r#"version: 1
goal: g
lanes: 2
gates:
  check: "echo ran >> {count} && test -f a.txt -o -f b.txt"
merge_gates: [check]
# One item per merge-gate run: a batch of both would gate a tree neither task saw.
merge:
  batch: 1
tasks:
  - id: a
    run: "echo a > a.txt"
    claims: ["a.txt"]
    gates: [check]
  - id: b
    run: "echo b > b.txt"
    claims: ["b.txt"]
    gates: [check]
"#,
            count = count.display()
        ),
    );
    baton
        .baton(&["run", "--plan", plan.to_str().unwrap()])
        .expect_code(OK);
    let id = baton.run_ids()[0].clone();
    // Both started at the base: whichever merges first has its own commit's tree (a hit); the
    // second merges on top of it, a tree no gate has seen (a run).
    let runs = std::fs::read_to_string(&count).unwrap().lines().count();
    assert_eq!(runs, 3, "two task gates and one merge gate ran");
    let report = baton.report(&id);
    assert_eq!(report["gate_cache_hits"], 1, "{report:#}");
    let cached: Vec<_> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["gates"].as_array().unwrap().clone())
        .filter(|g| g["cached"] == true)
        .collect();
    assert_eq!(cached.len(), 1, "{report:#}");
    assert!(
        cached[0]["merge_item"].is_number(),
        "the merge gate was the hit"
    );
    assert_eq!(cached[0]["passed"], true);
    let markdown = baton.baton(&["report", &id]);
    assert!(
        markdown.stdout.contains("gate cache: 1"),
        "{}",
        markdown.stdout
    );
    assert!(
        baton
            .events(&id)
            .iter()
            .any(|e| e["type"] == "gate.finished" && e["data"]["cached"] == true)
    );
}
