#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A gate that a cancel stops neither passed nor failed: the report says `interrupted`, and a
//! `baton logs --follow` of its task exits (the attempt stays `running` in the store, so that a
//! resume continues it from its commit, which once kept the follower waiting forever).

mod common;

use common::{Fixture, poll};
use std::time::Duration;

#[test]
fn a_gate_stopped_by_a_cancel_is_reported_interrupted_and_its_follower_exits() {
    let fixture = Fixture::new();
    // The fixture lets tasks and gates write in its `counts` directory (they are confined).
    let marker = fixture.counts.join("gate-started");
    let yaml = format!(
        r#"version: 1
goal: "a gate that is still running when the run is cancelled"
gates:
  slow: "touch '{}' && sleep 30"
tasks:
  - id: g
    run: "echo g > g.txt"
    gates: [slow]
"#,
        marker.display()
    );
    let plan = fixture.repo.write_plan("gate.yaml", &yaml).unwrap();
    let repo = fixture.repo.path().to_string_lossy().into_owned();
    let plan = plan.to_string_lossy().into_owned();
    let mut engine = fixture.spawn(&["--repo", &repo, "run", "--plan", &plan], None);
    poll("the gate to start", Duration::from_secs(20), || {
        engine.assert_running("baton run");
        marker.exists().then_some(())
    });
    let run = fixture.the_run();
    let mut follower = fixture.spawn(&["logs", &run, "g", "--follow"], None);
    follower.assert_running("baton logs --follow of a task in its gate");

    fixture
        .baton_done(&["cancel", &run])
        .expect_code(0, "baton cancel");
    engine
        .wait(Duration::from_secs(20))
        .expect_code(3, "the cancelled baton run");
    follower
        .wait(Duration::from_secs(15))
        .expect_code(0, "baton logs --follow after the cancel");

    let report = fixture.report(&run);
    let gate = &report["tasks"][0]["gates"][0];
    assert_eq!(gate["gate"], "slow", "{report:#}");
    assert_eq!(gate["end"]["kind"], "cancelled", "{report:#}");
    let md = fixture.baton_done(&["report", &run]);
    md.expect_code(0, "baton report");
    assert!(
        md.stdout.contains("slow #1 interrupted") && !md.stdout.contains("FAILED"),
        "the report should say the gate was interrupted:\n{}",
        md.stdout
    );
}
