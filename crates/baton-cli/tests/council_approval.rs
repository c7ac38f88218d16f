#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A council costs several attempts at once: with `[budget] approval_threshold_usd`, a council
//! whose candidates' estimates together pass it waits for a person's approval before any
//! candidate starts, even when each attempt alone stays under it (real Claude Code and Codex,
//! each against its own scripted fake LLM server).

mod support;

use baton_testkit::agent_clients::Client;
use support::agents::{baton_with_clients, greeting_server};
use support::{Baton, OK, task};

const PAUSED: i32 = 4;

#[test]
fn a_council_past_the_approval_threshold_waits_for_a_person_before_it_starts() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[budget]\napproval_threshold_usd = 1.5\n[escalation]\ncouncil = 2\ncouncil_agents = [\"claude\", \"codex\"]\n[agents.codex]\nmodel = \"{}\"\n",
        Client::Codex.model()
    ));
    let plan = baton.plan(
        "greet.yaml",
        &format!(
            r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -qx 'hello from codex' greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: claude
    model: {}
    max_cost: 1.0
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
            Client::Claude.model()
        ),
    );
    let claude = greeting_server(Client::Claude, &["hello from claude", "hello from claude"]);
    let codex = greeting_server(Client::Codex, &["hello from codex"]);
    let servers = [(Client::Claude, &claude), (Client::Codex, &codex)];
    let run = |args: &[&str]| baton_with_clients(&baton, &servers, &[], args);

    // One attempt ($1.00 estimated) runs under the $1.50 threshold and fails; the council of
    // two ($2.00 together) waits.
    run(&["run", "--plan", plan.to_str().unwrap()]).expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    assert_eq!(
        task(&report, "greet")["status"],
        "awaiting_approval",
        "{report:#}"
    );
    assert_eq!(
        task(&report, "greet")["attempts"].as_array().unwrap().len(),
        1
    );
    let waits = baton.baton(&["approvals", &id, "--json"]).json();
    let reason = waits[0]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("a council of 2 agents (claude, codex) is estimated at $2.00"),
        "{waits:#}"
    );
    assert_eq!(
        codex.requests().len(),
        0,
        "no candidate started before the approval"
    );

    baton.baton(&["approve", &id, "greet"]).expect_code(OK);
    run(&["resume", &id]).expect_code(OK);
    let report = baton.report(&id);
    assert_eq!(task(&report, "greet")["status"], "merged", "{report:#}");
    assert_eq!(report["councils"][0]["winner_agent"], "codex", "{report:#}");
}
