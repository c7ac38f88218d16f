#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The escalation ladder above retries, with the real agent CLIs (Claude Code, Codex, Gemini
//! CLI) each against its own scripted fake LLM server: a fallback agent takes a task its agent
//! could not finish; a council runs one task on several agents at once, judges them by the
//! task's gates and merges the winner; a council nobody wins goes to a person; a hostile
//! candidate cannot reach another candidate's lane; bad `[escalation]` settings are refused.

mod support;

use baton_testkit::agent_clients::{Client, FileWrite};
use baton_testkit::fake_llm::{FakeLlm, Script};
use serde_json::Value;
use support::agents::{baton_with_clients, greeting_server};
use support::{BAD_INPUT, Baton, OK, task};

const PAUSED: i32 = 4;

/// A plan of one task on Claude Code whose gate wants greeting.txt to be exactly `want`.
fn plan(baton: &Baton, want: &str, retries: u32) -> std::path::PathBuf {
    baton.plan(
        "greet.yaml",
        &format!(
            r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -qx '{want}' greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: claude
    model: {model}
    retries: {retries}
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
            model = Client::Claude.model()
        ),
    )
}

/// `[agents.X] model` for the clients other than Claude (the plan names Claude's).
fn models() -> String {
    format!(
        "[agents.codex]\nmodel = \"{}\"\n[agents.gemini]\nmodel = \"{}\"\n",
        Client::Codex.model(),
        Client::Gemini.model()
    )
}

fn run(baton: &Baton, servers: &[(Client, &FakeLlm)], plan: &std::path::Path) -> support::Finished {
    baton_with_clients(
        baton,
        servers,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    )
}

/// greeting.txt on the run's integration branch.
fn greeting(baton: &Baton, id: &str) -> Option<String> {
    baton.read_at(&baton.integration(id), "greeting.txt")
}

/// The agents of `greet`'s attempts, in order.
fn attempt_agents(report: &Value) -> Vec<String> {
    task(report, "greet")["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap_or("-").to_string())
        .collect()
}

fn no_lane_held(baton: &Baton) {
    let lanes = baton.baton(&["lanes", "--json"]);
    lanes.expect_code(OK);
    let text = lanes.stdout.clone();
    for lane in lanes.json().as_array().unwrap() {
        assert!(lane["run"].is_null(), "a lane is still held: {text}");
    }
}

#[test]
fn a_council_of_three_where_only_one_candidate_passes_merges_the_winner() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 3\ncouncil_agents = [\"claude\", \"codex\", \"gemini\"]\n{}",
        models()
    ));
    // Claude fails its one attempt, then sits on the council with Codex and Gemini; only
    // Codex's greeting passes the gate.
    let claude = greeting_server(Client::Claude, &["hello from claude", "hello from claude"]);
    let codex = greeting_server(Client::Codex, &["hello from codex"]);
    let gemini = greeting_server(Client::Gemini, &["hello from gemini"]);
    let plan = plan(&baton, "hello from codex", 0);
    let servers = [
        (Client::Claude, &claude),
        (Client::Codex, &codex),
        (Client::Gemini, &gemini),
    ];
    let finished = run(&baton, &servers, &plan);
    finished.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello from codex\n"));
    // The live output says what the ladder did.
    let said = finished.all_output();
    assert!(
        said.contains("greet escalated to council (claude, codex, gemini)"),
        "{said}"
    );
    assert!(
        said.contains("greet: council: codex (member 2) was the only candidate"),
        "{said}"
    );

    let report = baton.report(&id);
    assert_eq!(task(&report, "greet")["status"], "merged");
    assert_eq!(
        attempt_agents(&report),
        ["claude", "claude", "codex", "gemini"]
    );
    let councils = report["councils"].as_array().unwrap();
    assert_eq!(councils.len(), 1, "{report:#}");
    let council = &councils[0];
    assert_eq!(council["winner_agent"], "codex", "{council:#}");
    assert!(
        council["verdict"]
            .as_str()
            .unwrap()
            .contains("codex (member 2) was the only candidate to pass"),
        "{council:#}"
    );
    let candidates = council["candidates"].as_array().unwrap();
    let agents: Vec<&str> = candidates
        .iter()
        .map(|c| c["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["claude", "codex", "gemini"]);
    let mut lanes: Vec<&str> = candidates
        .iter()
        .map(|c| c["lane"].as_str().unwrap())
        .collect();
    lanes.sort_unstable();
    lanes.dedup();
    assert_eq!(
        lanes.len(),
        3,
        "each candidate has its own lane: {council:#}"
    );
    for candidate in candidates {
        assert!(
            candidate["cost_micros"].as_u64().unwrap() > 0,
            "every candidate's cost is in the ledger: {candidate:#}"
        );
        let won = candidate["agent"] == "codex";
        assert_eq!(candidate["winner"], won, "{candidate:#}");
        assert_eq!(candidate["passed"], won, "{candidate:#}");
        if !won {
            assert!(
                candidate["failure"].as_str().unwrap().contains("greeting"),
                "the failed gate is named: {candidate:#}"
            );
        }
    }
    // Each candidate was told of the failures so far.
    for llm in [&codex, &gemini] {
        let requests = llm.requests();
        let text = requests[0].last_user_text.as_deref().unwrap_or_default();
        assert!(
            text.contains(
                "Every attempt so far failed:\n- attempt 1 (claude): gate `greeting` failed"
            ),
            "{text}"
        );
    }
    // The Markdown report shows the record too.
    let markdown = baton.baton(&["report", &id]);
    assert!(
        markdown.stdout.contains("## Council of task greet"),
        "{}",
        markdown.stdout
    );

    // The three agents ran at the same time: every candidate's process started before any of
    // them ended.
    let events = baton.events(&id);
    let council_attempts = [2, 3, 4];
    let at = |kind: &str| -> Vec<usize> {
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e["type"] == kind
                    && council_attempts
                        .iter()
                        .any(|n| e["data"]["attempt"].as_u64() == Some(*n))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let started = at("attempt.process");
    let ended = at("attempt.agent_ended");
    assert_eq!(started.len(), 3, "{events:#?}");
    assert_eq!(ended.len(), 3, "{events:#?}");
    assert!(
        started.iter().max() < ended.iter().min(),
        "the candidates did not run at once: started at {started:?}, ended at {ended:?}"
    );
    assert!(events.iter().any(|e| e["type"] == "council.finished"));
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "task.escalated" && e["data"]["rung"] == "council")
    );
    // The lanes went back to the pool and the candidates' branches are gone.
    no_lane_held(&baton);
    assert!(
        baton.baton_refs().iter().all(|r| !r.contains("--council-")),
        "{:?}",
        baton.baton_refs()
    );
    // `baton status --json` carries the record as well.
    let status = baton.status(&id);
    assert_eq!(status["councils"][0]["winner_agent"], "codex", "{status:#}");

    // The win counts in the agents' stats.
    let stats = baton.baton(&["stats", "agents", "--json"]);
    stats.expect_code(OK);
    let stats = stats.json();
    let record = |agent: &str| {
        stats
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["agent"] == agent)
            .cloned()
            .unwrap_or_else(|| panic!("no record of {agent}: {stats:#}"))
    };
    assert_eq!(record("codex")["council_wins"], 1, "{stats:#}");
    assert_eq!(record("codex")["win_rate"], 1.0, "{stats:#}");
    assert_eq!(record("claude")["council_seats"], 1, "{stats:#}");
    assert_eq!(record("claude")["council_wins"], 0, "{stats:#}");
    assert_eq!(record("gemini")["win_rate"], 0.0, "{stats:#}");
    let table = baton.baton(&["stats", "agents"]);
    assert!(table.stdout.contains("COUNCIL WINS"), "{}", table.stdout);
    assert!(table.stdout.contains("1/1 100%"), "{}", table.stdout);
}

#[test]
fn a_fallback_agent_takes_the_task_its_agent_could_not_finish() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[agents.claude]\nfallback = [\"codex\"]\n{}",
        models()
    ));
    // Claude fails its two attempts (one retry); Codex, its fallback, passes on its first.
    let claude = greeting_server(Client::Claude, &["wrong", "still wrong"]);
    let codex = greeting_server(Client::Codex, &["hello"]);
    let plan = plan(&baton, "hello", 1);
    let finished = run(
        &baton,
        &[(Client::Claude, &claude), (Client::Codex, &codex)],
        &plan,
    );
    finished.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello\n"));
    let report = baton.report(&id);
    assert_eq!(attempt_agents(&report), ["claude", "claude", "codex"]);
    let escalations = report["escalations"].as_array().unwrap();
    assert_eq!(escalations.len(), 1, "{report:#}");
    assert_eq!(escalations[0]["rung"], "fallback");
    assert_eq!(escalations[0]["agents"], serde_json::json!(["codex"]));
    assert_eq!(escalations[0]["who"], "baton");
    assert!(
        escalations[0]["why"]
            .as_str()
            .unwrap()
            .contains("claude is out of attempts; its fallback codex gets 2 attempts"),
        "{report:#}"
    );
    let markdown = baton.baton(&["report", &id]);
    assert!(
        markdown
            .stdout
            .contains("- greet: fallback to codex (baton): claude is out of attempts"),
        "{}",
        markdown.stdout
    );
    // Codex started a new conversation (its first request opens the server's script) and was
    // told of the failure so far.
    let requests = codex.requests();
    let first = requests.first().unwrap();
    let text = first.last_user_text.as_deref().unwrap_or_default();
    assert!(
        text.contains("The previous attempt at this task failed (this is attempt 3)")
            && text.contains("gate `greeting` failed"),
        "{text}"
    );
    assert_eq!(first.turn, Some(1), "{requests:#?}");
}

#[test]
fn a_council_nobody_wins_goes_to_a_person_and_retry_lands_the_task() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\nperson = true\ncouncil = 2\ncouncil_agents = [\"codex\", \"claude\"]\n{}",
        models()
    ));
    // Claude fails its attempt and its seat; Codex fails its seat; after the person's retry,
    // Claude gets it right.
    let claude = greeting_server(Client::Claude, &["wrong", "still wrong", "hello"]);
    let codex = greeting_server(Client::Codex, &["nope"]);
    let plan = plan(&baton, "hello", 0);
    let servers = [(Client::Claude, &claude), (Client::Codex, &codex)];
    let finished = run(&baton, &servers, &plan);
    finished.expect_code(PAUSED);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    assert_eq!(task(&report, "greet")["status"], "needs_human");
    let council = &report["councils"][0];
    assert!(council["winner"].is_null(), "{council:#}");
    assert!(
        council["verdict"]
            .as_str()
            .unwrap()
            .contains("none of the 2 candidates passed"),
        "{council:#}"
    );
    no_lane_held(&baton);

    baton
        .baton(&["retry", &id, "greet", "--why", "try once more"])
        .expect_code(OK);
    let resumed = baton_with_clients(&baton, &servers, &[], &["resume", &id]);
    resumed.expect_code(OK);
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello\n"));
    let report = baton.report(&id);
    assert_eq!(task(&report, "greet")["status"], "merged");
    // One council only: the retry was an ordinary attempt on the task's agent.
    assert_eq!(report["councils"].as_array().unwrap().len(), 1);
    assert_eq!(
        attempt_agents(&report),
        ["claude", "codex", "claude", "claude"]
    );
}

#[test]
fn a_hostile_candidate_cannot_touch_another_candidates_lane() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 2\ncouncil_agents = [\"claude\", \"codex\"]\n{}",
        models()
    ));
    let claude = greeting_server(Client::Claude, &["wrong", "hello"]);
    // Codex's seat tries to write into the other lanes of the pool (Claude's among them) and
    // into the repository's own checkout.
    let root = std::fs::canonicalize(baton.path()).unwrap();
    let attack = format!(
        "for l in ../lane-*; do echo pwned > $l/pwned.txt; echo pwned > $l/greeting.txt; done; \
         echo pwned > {}/pwned.txt; echo nope > greeting.txt",
        root.display()
    );
    let script = format!(
        "turns:\n  - text: \"Working.\"\n    tool_call:\n      name: exec_command\n      input: {{cmd: {}}}\n    usage: {{input: 1000, output: 20}}\n  - text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\n",
        serde_json::to_string(&attack).unwrap()
    );
    let codex = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = plan(&baton, "hello", 0);
    let finished = run(
        &baton,
        &[(Client::Claude, &claude), (Client::Codex, &codex)],
        &plan,
    );
    finished.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let council = &report["councils"][0];
    assert_eq!(council["winner_agent"], "claude", "{council:#}");
    // Claude's change is its own: only its greeting, nothing the other candidate wrote.
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello\n"));
    assert_eq!(baton.read_at(&baton.integration(&id), "pwned.txt"), None);
    assert_eq!(
        task(&report, "greet")["changed_files"],
        serde_json::json!(["greeting.txt"])
    );
    assert!(!root.join("pwned.txt").exists(), "the checkout was written");
    // Its writes outside its lane were refused by the sandbox (the client saw the errors).
    let logs = baton.baton(&["logs", &id, "greet", "--attempt", "3"]);
    logs.expect_code(OK);
    let said = logs.stdout;
    assert!(
        said.contains("Permission denied") || said.contains("Read-only file system"),
        "{said}"
    );
    // The hostile candidate ran its commands and lost: what it left in its own lane leaves the
    // task's claims.
    let hostile = &council["candidates"][1];
    assert_eq!(hostile["agent"], "codex");
    assert_eq!(hostile["passed"], false, "{council:#}");
    assert!(
        hostile["failure"].as_str().unwrap().contains("claims"),
        "{council:#}"
    );
}

#[test]
fn bad_escalation_settings_are_refused_naming_the_field_and_file() {
    for (config, says) in [
        ("council = -1", "escalation.council = -1"),
        ("council = \"three\"", "escalation.council = \"three\""),
        (
            "council = 2\ncouncil_agents = [\"nope\", \"codex\"]",
            "escalation.council_agents names \"nope\"",
        ),
        (
            "council = 3\ncouncil_agents = [\"claude\", \"codex\"]",
            "escalation.council = 3 but escalation.council_agents lists only 2",
        ),
    ] {
        let baton = Baton::new();
        baton.write_config(&format!("[escalation]\n{config}\n"));
        let plan = baton.plan(
            "p.yaml",
            "version: 1\ngoal: g\ntasks:\n  - id: a\n    run: \"true\"\n",
        );
        let run = baton.baton(&["run", "--plan", plan.to_str().unwrap()]);
        run.expect_code(BAD_INPUT);
        assert!(run.stderr.contains("baton.toml"), "{}", run.stderr);
        assert!(run.stderr.contains(says), "{config}: {}", run.stderr);
        assert!(!baton.home.exists(), "{config}: something was written");
    }
}

#[test]
fn a_cancel_stops_every_candidate_and_resume_holds_the_council_again() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 2\ncouncil_agents = [\"claude\", \"codex\"]\n{}",
        models()
    ));
    // Claude fails its attempt; then both seats hang on their model until the cancel.
    let write = FileWrite {
        path: "greeting.txt",
        line: "wrong",
    };
    let claude = format!(
        "turns:\n{}  - hang: true\n",
        Client::Claude.write_turns(&write)
    );
    let claude = FakeLlm::start(Script::parse(&claude).unwrap()).unwrap();
    let codex = FakeLlm::start(Script::parse("turns:\n  - hang: true\n").unwrap()).unwrap();
    let plan = plan(&baton, "hello", 0);
    let servers = [(Client::Claude, &claude), (Client::Codex, &codex)];
    let cancelled = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Both candidates' agents run: cancel the run from another process.
            let deadline = std::time::Instant::now() + support::COMMAND_LIMIT;
            while std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let Some(id) = baton.run_ids().first().cloned() else {
                    continue;
                };
                let started = baton
                    .events(&id)
                    .iter()
                    .filter(|e| e["type"] == "attempt.process" && e["data"]["attempt"] != 1)
                    .count();
                if started == 2 {
                    baton.baton(&["cancel", &id]).expect_code(OK);
                    return;
                }
            }
            panic!("the council's candidates never both started");
        });
        run(&baton, &servers, &plan)
    });
    cancelled.expect_code(3);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    let greet = task(&report, "greet");
    assert_eq!(greet["status"], "pending", "{report:#}");
    let statuses: Vec<&str> = greet["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "interrupted", "interrupted"]);
    assert!(
        report["councils"][0]["verdict"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{report:#}"
    );
    no_lane_held(&baton);

    // On resume the council is held again, from the start, and Claude's seat wins.
    let claude = greeting_server(Client::Claude, &["hello"]);
    let codex = greeting_server(Client::Codex, &["nope"]);
    let servers = [(Client::Claude, &claude), (Client::Codex, &codex)];
    baton_with_clients(&baton, &servers, &[], &["resume", &id]).expect_code(OK);
    let report = baton.report(&id);
    assert_eq!(task(&report, "greet")["status"], "merged");
    let councils = report["councils"].as_array().unwrap();
    assert_eq!(councils.len(), 2, "{report:#}");
    assert_eq!(councils[1]["winner_agent"], "claude", "{report:#}");
    // Only the council that reached a verdict counts in the stats.
    let stats = baton.baton(&["stats", "agents", "--json"]).json();
    let claude_record = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "claude")
        .cloned()
        .unwrap();
    assert_eq!(claude_record["council_seats"], 1, "{stats:#}");
}

#[test]
fn with_reviews_the_council_prefers_the_candidate_the_reviewer_approves() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 2\ncouncil_agents = [\"codex\", \"gemini\"]\n\
         [review]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n{}",
        models()
    ));
    // Codex fails its attempt's gate; on the council both pass it, with diffs of one line
    // each. The reviewer rejects Codex's change with a high-severity issue and approves
    // Gemini's, whatever order the two reviews come in.
    let codex = greeting_server(Client::Codex, &["nope", "hello from codex"]);
    let gemini = greeting_server(Client::Gemini, &["hello from gemini"]);
    let verdict = |approved: bool, severity: &str| {
        let issues = if approved {
            String::new()
        } else {
            format!(
                "{{\\\"severity\\\": \\\"{severity}\\\", \\\"file\\\": \\\"greeting.txt\\\", \\\"line\\\": 1, \\\"message\\\": \\\"too chatty\\\"}}"
            )
        };
        format!(
            "\"{{\\\"approved\\\": {approved}, \\\"summary\\\": \\\"ok\\\", \\\"issues\\\": [{issues}]}}\""
        )
    };
    let script = format!(
        "aside:\n  - when: {{last_user_contains: \"hello from codex\"}}\n    text: {}\n    usage: {{input: 500, output: 20}}\n  - when: {{last_user_contains: \"hello from gemini\"}}\n    text: {}\n    usage: {{input: 500, output: 20}}\n",
        verdict(false, "high"),
        verdict(true, "low"),
    );
    let reviewer = FakeLlm::start(Script::parse(&script).unwrap()).unwrap();
    let plan = baton.plan(
        "greet.yaml",
        &format!(
            r#"version: 1
goal: "Greet"
gates:
  greeting: "grep -q '^hello from' greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: codex
    model: {}
    retries: 0
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
"#,
            Client::Codex.model()
        ),
    );
    let url = reviewer.url();
    let finished = baton_with_clients(
        &baton,
        &[(Client::Codex, &codex), (Client::Gemini, &gemini)],
        &[
            ("BATON_ANTHROPIC_BASE_URL", url.as_str()),
            ("ANTHROPIC_API_KEY", "sk-ant-fake-council-review"),
        ],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    finished.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        greeting(&baton, &id).as_deref(),
        Some("hello from gemini\n")
    );
    let report = baton.report(&id);
    let council = &report["councils"][0];
    assert_eq!(council["winner_agent"], "gemini", "{council:#}");
    assert!(
        council["verdict"]
            .as_str()
            .unwrap()
            .contains("2 of 2 candidates passed the task's gates; gemini (member 2) won on more review kinds approved (1 against 0)"),
        "{council:#}"
    );
    let candidates = council["candidates"].as_array().unwrap();
    assert_eq!(candidates[0]["reviews_approved"], 0, "{council:#}");
    assert_eq!(candidates[0]["high_issues"], 1, "{council:#}");
    assert_eq!(candidates[1]["reviews_approved"], 1, "{council:#}");
    assert_eq!(candidates[0]["diff_lines"], candidates[1]["diff_lines"]);
}

#[test]
fn an_engine_killed_during_a_council_holds_it_again_on_resume() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 2\ncouncil_agents = [\"claude\", \"codex\"]\n{}",
        models()
    ));
    // Claude fails its attempt and its first seat; Codex's first seat hangs. The engine dies
    // (SIGKILL) when Claude's seat is about to be committed: the second commit of the run.
    let claude = greeting_server(Client::Claude, &["wrong", "wrong", "hello"]);
    let write = FileWrite {
        path: "greeting.txt",
        line: "nope",
    };
    let codex = format!(
        "turns:\n  - hang: true\n{}",
        Client::Codex.write_turns(&write)
    );
    let codex = FakeLlm::start(Script::parse(&codex).unwrap()).unwrap();
    let plan = plan(&baton, "hello", 0);
    let servers = [(Client::Claude, &claude), (Client::Codex, &codex)];
    let killed = baton_with_clients(
        &baton,
        &servers,
        &[("BATON_FAILPOINT", "agent.commit.before@2")],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    assert_eq!(killed.code(), None, "{}", killed.all_output());
    let id = baton.run_ids()[0].clone();
    assert!(
        baton.baton_refs().iter().any(|r| r.contains("--council-")),
        "{:?}",
        baton.baton_refs()
    );

    baton_with_clients(&baton, &servers, &[], &["resume", &id]).expect_code(OK);
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello\n"));
    let report = baton.report(&id);
    let councils = report["councils"].as_array().unwrap();
    assert_eq!(councils.len(), 2, "{report:#}");
    assert!(
        councils[0]["verdict"]
            .as_str()
            .unwrap()
            .contains("the engine stopped during the council"),
        "{report:#}"
    );
    assert_eq!(councils[1]["winner_agent"], "claude", "{report:#}");
    let statuses: Vec<&str> = task(&report, "greet")["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "failed",
            "interrupted",
            "interrupted",
            "succeeded",
            "failed"
        ]
    );
    no_lane_held(&baton);
    assert!(
        baton.baton_refs().iter().all(|r| !r.contains("--council-")),
        "{:?}",
        baton.baton_refs()
    );
}

#[test]
fn a_council_waits_for_a_member_at_its_max_concurrency() {
    let baton = Baton::new();
    baton.write_config(&format!(
        "[escalation]\ncouncil = 2\ncouncil_agents = [\"claude\", \"codex\"]\n\
         [agents.codex]\nmodel = \"{}\"\nmax_concurrency = 1\n",
        Client::Codex.model()
    ));
    // Codex first runs task `other` (its first turn takes 3 s), while Claude fails `greet`;
    // Codex's council seat waits for that to end.
    let claude = greeting_server(Client::Claude, &["wrong", "hello"]);
    let other = Client::Codex
        .write_turns(&FileWrite {
            path: "other.txt",
            line: "other",
        })
        .replacen(
            "  - text: \"Writing it.\"\n",
            "  - text: \"Writing it.\"\n    delay_ms: 3000\n",
            1,
        );
    let seat = Client::Codex.write_turns(&FileWrite {
        path: "greeting.txt",
        line: "nope",
    });
    let codex = FakeLlm::start(Script::parse(&format!("turns:\n{other}{seat}")).unwrap()).unwrap();
    let plan = baton.plan(
        "two.yaml",
        &format!(
            r#"version: 1
goal: "Greet"
lanes: 2
gates:
  greeting: "grep -qx 'hello' greeting.txt"
merge_gates: []
tasks:
  - id: greet
    agent: claude
    model: {}
    retries: 0
    prompt: "Write greeting.txt saying hello."
    claims: ["greeting.txt"]
    gates: [greeting]
  - id: other
    agent: codex
    prompt: "Write other.txt."
    claims: ["other.txt"]
"#,
            Client::Claude.model()
        ),
    );
    let finished = run(
        &baton,
        &[(Client::Claude, &claude), (Client::Codex, &codex)],
        &plan,
    );
    finished.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(greeting(&baton, &id).as_deref(), Some("hello\n"));
    let events = baton.events(&id);
    let position = |kind: &str, task: &str, attempt: u64| {
        events
            .iter()
            .position(|e| e["type"] == kind && e["task"] == task && e["data"]["attempt"] == attempt)
            .unwrap_or_else(|| panic!("no {kind} of {task} #{attempt}: {events:#?}"))
    };
    // The council's Codex seat (attempt 3 of greet) started its agent only after `other`'s
    // Codex agent ended.
    assert!(
        position("attempt.agent_ended", "other", 1) < position("attempt.process", "greet", 3),
        "{:#?}",
        events
            .iter()
            .map(|e| format!(
                "{} {} {} {}",
                e["type"], e["task"], e["data"]["attempt"], e["data"]["to"]
            ))
            .collect::<Vec<_>>()
    );
}
