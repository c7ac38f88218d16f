#![allow(clippy::unwrap_used, clippy::expect_used)]
//! From plan text to scheduling decisions through the public API only.
use baton_core::{
    Dag, format_duration, next_to_start, parallel_efficiency, parse_plan, simulate_level_barrier,
    simulate_list_schedule, task_transition, tasks_to_block,
};
use baton_protocol::{TaskId, TaskStatus};
use std::collections::BTreeMap;
use std::time::Duration;

const PLAN: &str = r#"version: 1
goal: "Split the parser into modules"
lanes: 2
gates:
  build: "cargo build"
tasks:
  - id: lexer
    run: "python3 tools/move_lexer.py"
    claims: ["src/lexer/**", "shared:Cargo.lock"]
    estimate: 30s
  - id: parser
    run: "python3 tools/move_parser.py"
    claims: ["src/parser/**", "shared:Cargo.lock"]
    estimate: 40s
  - id: lib
    run: "python3 tools/wire_lib.py"
    claims: ["src/lib.rs"]
    deps: [lexer, parser]
    estimate: 10s
    gates: [build]
  - id: docs
    run: "python3 tools/docs.py"
    claims: ["docs/**"]
    priority: low
    estimate: 20s
"#;

fn id(name: &str) -> TaskId {
    TaskId::new(name)
}

#[test]
fn a_parsed_plan_drives_the_scheduler_from_start_to_finish() {
    let plan = parse_plan(PLAN, "plan.yaml").unwrap();
    let dag: Dag = plan.dag();
    let mut status: BTreeMap<TaskId, TaskStatus> = BTreeMap::new();

    let first = next_to_start(&plan, &dag, &status, plan.lanes as usize);
    assert_eq!(first, vec![id("parser"), id("lexer")]);
    for task in &first {
        let next = task_transition(TaskStatus::Pending, TaskStatus::Running).unwrap();
        status.insert(task.clone(), next);
    }
    assert!(next_to_start(&plan, &dag, &status, 0).is_empty());

    status.insert(id("lexer"), TaskStatus::Failed);
    assert_eq!(tasks_to_block(&plan, &dag, &status), vec![id("lib")]);
    status.insert(id("lexer"), TaskStatus::Merged);
    status.insert(id("parser"), TaskStatus::Merged);
    assert!(tasks_to_block(&plan, &dag, &status).is_empty());
    assert_eq!(
        next_to_start(&plan, &dag, &status, 2),
        vec![id("lib"), id("docs")]
    );
}

#[test]
fn the_list_schedule_beats_the_level_barrier_and_respects_the_lower_bound() {
    let plan = parse_plan(PLAN, "plan.yaml").unwrap();
    let dag = plan.dag();
    let estimates = BTreeMap::new();
    let list = simulate_list_schedule(&plan, &dag, 2, &estimates);
    let barrier = simulate_level_barrier(&dag, 2, &estimates);
    let bound = dag.lower_bound_makespan(2);
    assert!(list >= bound, "{list:?} < {bound:?}");
    assert!(list <= barrier, "{list:?} > {barrier:?}");
    // parser 0-40 | lexer 0-30, docs 30-50; lib 40-50.
    assert_eq!(format_duration(list), "50s");
    let (_, critical) = dag.critical_path();
    let efficiency = parallel_efficiency(list, dag.total_work(), 2, critical);
    assert!((efficiency - 1.0).abs() < 1e-9, "{efficiency}");
    assert_eq!(critical, Duration::from_secs(50));
}
