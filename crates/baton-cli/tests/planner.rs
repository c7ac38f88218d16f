#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Planning from one sentence: `baton plan new "GOAL"` and `baton run "GOAL"` ask the
//! `[planner]` provider (the fake LLM server, speaking Anthropic Messages over real HTTP on
//! 127.0.0.1) for a plan, check it against the repository's tracked tree, repair it once, keep
//! the raw output of an answer that stays unusable, and run what they planned with a stand-in
//! agent CLI.

mod support;

use baton_testkit::fake_llm::{FakeLlm, Script, Turn};
use std::path::{Path, PathBuf};
use support::agents::baton_with_agent;
use support::{BAD_INPUT, Baton, Finished, OK};

const KEY: &str = "sk-ant-planner-test-0123456789";

/// Two tasks writing new files at the repository root, `b` after `a`.
fn valid_answer() -> String {
    serde_json::json!({
        "summary": "Write a.txt, then b.txt.",
        "tasks": [
            {"id": "a", "title": "Write a", "prompt": "Write a.txt.", "claims": ["a.txt"],
             "deps": [], "priority": "high", "complexity": 2, "risk": "low",
             "capabilities": [], "checks": ["test -f a.txt"],
             "steps": ["Write a.txt", "Check it exists"]},
            {"id": "b", "title": "Write b", "prompt": "Write b.txt.", "claims": ["b.txt"],
             "deps": ["a"], "priority": "medium", "complexity": 3, "risk": "medium",
             "capabilities": [], "checks": []}
        ],
        "risks": ["the files may already exist"],
        "open_questions": []
    })
    .to_string()
}

/// `a` and `b` wait for each other.
fn cyclic_answer() -> String {
    valid_answer().replace("\"deps\":[]", "\"deps\":[\"b\"]")
}

/// A planner answering `turns` in order, and a repository whose `baton.toml` (untracked)
/// names it, with `extra` lines under `[planner]`.
fn planner(baton: &Baton, turns: Vec<String>, extra: &str) -> FakeLlm {
    let fake = FakeLlm::start(Script::new(turns.into_iter().map(Turn::text))).unwrap();
    configure(
        baton,
        &format!("[planner]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n{extra}"),
    );
    fake
}

fn configure(baton: &Baton, toml: &str) {
    baton.write_config(toml);
}

/// `baton ARGS` with the planner's base URL and key.
fn plan_with(baton: &Baton, fake: &FakeLlm, args: &[&str]) -> Finished {
    let url = fake.url();
    baton.baton_with_env(
        baton.path(),
        args,
        &[
            ("BATON_ANTHROPIC_BASE_URL", Path::new(&url)),
            ("ANTHROPIC_API_KEY", Path::new(KEY)),
        ],
    )
}

/// `baton plan new "Write two files" -o OUT EXTRA...` with the planner's base URL and key.
fn plan_new(baton: &Baton, fake: &FakeLlm, out: &Path, extra: &[&str]) -> Finished {
    let mut args = vec![
        "plan",
        "new",
        "Write two files",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    plan_with(baton, fake, &args)
}

/// The `art-...` id in `text` after `artifact `.
fn artifact_id(text: &str) -> String {
    let start = text
        .find("artifact art-")
        .unwrap_or_else(|| panic!("no id in {text}"))
        + 9;
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// The kinds of the artifacts `baton ARGS` (an `artifacts --json` listing) lists, in order.
fn artifact_kinds(baton: &Baton, args: &[&str]) -> Vec<String> {
    let listed = baton.baton(args);
    listed.expect_code(OK);
    listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_valid_plan_is_written_checked_and_shown_as_a_table() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer(), valid_answer()], "");
    let out = baton.scratch("plans").join("plan.yaml");
    let done = plan_new(&baton, &fake, &out, &[]);
    done.expect_code(OK);
    for expected in [
        "plan: Write two files",
        "TASK",
        "RISK",
        "a.txt",
        "risks:\n  - the files may already exist",
        "planned by anthropic",
    ] {
        assert!(
            done.stdout.contains(expected),
            "{expected}: {}",
            done.stdout
        );
    }
    // The written plan is one baton accepts, and it is what the artifact holds.
    baton
        .baton(&["plan", "validate", out.to_str().unwrap()])
        .expect_code(OK);
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("agent: \"auto\""), "{written}");
    assert!(written.contains("- `test -f a.txt`"), "{written}");
    // The planner's steps are the task's checklist.
    assert!(
        written.contains("steps:\n      - \"Write a.txt\"\n      - \"Check it exists\""),
        "{written}"
    );
    let id = artifact_id(&done.stdout);
    let shown = baton.baton(&["artifact", "show", &id]);
    shown.expect_code(OK);
    assert_eq!(shown.stdout, written);
    // The request carried the goal, the tree and the key where Anthropic expects it.
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(
        requests[0].auth.get("x-api-key").map(String::as_str),
        Some(KEY)
    );
    let asked = requests[0].last_user_text.clone().unwrap();
    assert!(asked.starts_with("Goal: Write two files"), "{asked}");
    assert!(asked.contains("README.md"), "{asked}");

    let json_out = baton.scratch("plans").join("plan2.yaml");
    let done = plan_new(&baton, &fake, &json_out, &["--json"]);
    done.expect_code(OK);
    let doc = done.json();
    assert_eq!(doc["goal"], "Write two files");
    assert_eq!(doc["tasks"][0]["id"], "a");
    assert_eq!(doc["tasks"][1]["deps"], serde_json::json!(["a"]));
    assert_eq!(doc["tasks"][1]["risk"], "medium");
    assert_eq!(doc["tasks"][0]["complexity"], 2);
    assert_eq!(
        doc["risks"],
        serde_json::json!(["the files may already exist"])
    );
    assert_eq!(doc["planner"]["calls"], 1);
    assert_eq!(doc["planner"]["provider"], "anthropic");
    assert!(doc["planner"]["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(doc["plan_file"], json_out.to_str().unwrap());
    assert_eq!(
        artifact_kinds(&baton, &["artifacts", "--json"]),
        ["plan", "task_list", "plan", "task_list"]
    );
}

#[test]
fn an_invalid_answer_gets_one_repair_request_naming_every_error() {
    let baton = Baton::new();
    let broken = valid_answer()
        .replace("\"deps\":[\"a\"]", "\"deps\":[\"aa\"]")
        .replace("\"complexity\":2", "\"complexity\":12");
    let fake = planner(&baton, vec![broken, valid_answer()], "");
    let out = baton.scratch("plans").join("plan.yaml");
    let done = plan_new(&baton, &fake, &out, &["--json"]);
    done.expect_code(OK);
    let doc = done.json();
    assert_eq!(doc["planner"]["calls"], 2);
    assert_eq!(doc["repaired"].as_array().unwrap().len(), 2, "{doc}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    // The conversation goes on: the first answer, then the problems.
    assert_eq!(requests[1].roles, ["user", "assistant", "user"]);
    let repair = requests[1].last_user_text.clone().unwrap();
    assert!(
        repair.contains("task \"b\", field deps: names \"aa\", which no task defines"),
        "{repair}"
    );
    assert!(
        repair.contains("task \"a\", field complexity: is 12"),
        "{repair}"
    );
    assert!(out.exists());
}

#[test]
fn a_cyclic_plan_twice_fails_with_its_raw_output_kept_and_no_plan_written() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![cyclic_answer(), cyclic_answer()], "");
    let out = baton.scratch("plans").join("plan.yaml");
    let done = plan_new(&baton, &fake, &out, &[]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("cycle"), "{}", done.stderr);
    assert!(!out.exists(), "a plan file was written");
    assert_eq!(fake.requests().len(), 2);
    let id = artifact_id(&done.stderr);
    let shown = baton.baton(&["artifact", "show", &id, "--json"]);
    shown.expect_code(OK);
    let doc = shown.json();
    assert_eq!(doc["kind"], "planner_output");
    assert_eq!(doc["content"], cyclic_answer());
    // Exported, it is the same bytes.
    let exported = baton.scratch("export").join("raw.txt");
    baton
        .baton(&["artifact", "export", &id, "-o", exported.to_str().unwrap()])
        .expect_code(OK);
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), cyclic_answer());
}

#[test]
fn run_with_a_goal_plans_and_runs_the_plan_with_yes() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "agent = \"claude\"\n");
    let bin = baton.scratch("bin");
    support::agents::stand_in_claude(&bin, "done by the stand-in");
    let url = fake.url();
    let env = [
        ("BATON_ANTHROPIC_BASE_URL", url.clone()),
        ("ANTHROPIC_API_KEY", KEY.to_owned()),
    ];
    // The planner rated b medium risk: its change waits for a person before delivery.
    let done = baton_with_agent(&baton, &bin, &env, &["run", "Write two files", "--yes"]);
    done.expect_code(4);
    assert!(
        done.stdout.contains("plan: Write two files"),
        "{}",
        done.stdout
    );
    let run = baton.run_ids()[0].clone();
    baton.baton(&["approve", &run, "b"]).expect_code(OK);
    baton_with_agent(&baton, &bin, &env, &["resume", &run]).expect_code(OK);
    let head = baton.integration(&run);
    assert_eq!(
        baton.read_at(&head, "b.txt").as_deref(),
        Some("done by the stand-in\n")
    );
    assert_eq!(
        artifact_kinds(&baton, &["artifacts", &run, "--json"]),
        // The planner's plan and task list, each task's passing diff, the final report.
        ["plan", "task_list", "diff", "diff", "report"]
    );
    // What planning cost is in the run's ledger, beside the tasks' attempts.
    let report = baton.report(&run);
    let planning = &report["usage"]["by_task"]["(planner)"];
    assert_eq!(planning["attempts"], 1, "{report:#}");
    assert!(
        planning["tokens"]["output"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert_eq!(report["usage"]["by_agent"]["planner"]["attempts"], 1);
}

#[test]
fn run_with_a_goal_and_dry_run_shows_the_plan_and_runs_nothing() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let done = plan_with(&baton, &fake, &["run", "Write two files", "--dry-run"]);
    done.expect_code(OK);
    assert!(
        done.stdout.contains("dry run: nothing ran"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("baton artifact export art-"),
        "{}",
        done.stdout
    );
    assert!(baton.run_ids().is_empty());
}

#[test]
fn run_with_a_goal_off_a_terminal_needs_yes_and_asks_no_planner() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let done = plan_with(&baton, &fake, &["run", "Write two files"]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("pass --yes"), "{}", done.stderr);
    assert!(done.stderr.contains("baton plan new"), "{}", done.stderr);
    assert!(fake.requests().is_empty());
}

#[test]
fn bad_planner_setups_and_requests_exit_2_before_any_call() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let out: PathBuf = baton.scratch("plans").join("plan.yaml");
    let path = out.to_str().unwrap();

    // An existing file without --force: untouched.
    std::fs::write(&out, "mine\n").unwrap();
    let done = plan_with(
        &baton,
        &fake,
        &["plan", "new", "Write two files", "-o", path],
    );
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("already exists"), "{}", done.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine\n");
    std::fs::remove_file(&out).unwrap();

    // An empty goal.
    let done = plan_with(&baton, &fake, &["plan", "new", "  ", "-o", path]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("the goal is empty"), "{}", done.stderr);

    // Both a goal and --plan.
    let done = plan_with(&baton, &fake, &["run", "Write two files", "--plan", path]);
    done.expect_code(BAD_INPUT);
    assert!(
        done.stderr.contains("cannot be used with"),
        "{}",
        done.stderr
    );

    // Neither.
    let done = plan_with(&baton, &fake, &["run"]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("say what to run"), "{}", done.stderr);

    // An unknown provider (file, line, column and field), a bad model, no [planner] at all.
    for (toml, expected) in [
        (
            "[planner]\nprovider = \"antropic\"\n",
            "baton.toml:2:12: planner.provider = \"antropic\"",
        ),
        (
            "[planner]\nprovider = \"anthropic\"\nmodel = \"\"\n",
            "baton.toml:3:9: planner.model is empty",
        ),
        ("", "no planner is configured"),
    ] {
        configure(&baton, toml);
        let done = plan_new(&baton, &fake, &out, &[]);
        done.expect_code(BAD_INPUT);
        assert!(done.stderr.contains(expected), "{}", done.stderr);
    }

    // A provider whose key is missing.
    configure(
        &baton,
        "[planner]\nprovider = \"groq\"\nmodel = \"llama\"\n",
    );
    let done = baton.baton_with_env(
        baton.path(),
        &["plan", "new", "Write two files", "-o", path],
        &[("GROQ_API_KEY", Path::new(""))],
    );
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("GROQ_API_KEY"), "{}", done.stderr);

    assert!(!out.exists());
    assert!(fake.requests().is_empty());
}

#[test]
fn unknown_artifacts_and_runs_and_exports_over_a_file_exit_2() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let out = baton.scratch("plans").join("plan.yaml");
    let done = plan_new(&baton, &fake, &out, &[]);
    done.expect_code(OK);
    let id = artifact_id(&done.stdout);

    let done = baton.baton(&["artifact", "show", "art-nope"]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("artifact art-nope"), "{}", done.stderr);
    let done = baton.baton(&["artifacts", "no-such-run"]);
    done.expect_code(BAD_INPUT);
    assert!(
        done.stderr.contains("no run with id no-such-run"),
        "{}",
        done.stderr
    );

    // Exporting over an existing file needs --force; the file is untouched until then.
    let target = baton.scratch("export").join("mine.yaml");
    std::fs::write(&target, "mine\n").unwrap();
    let path = target.to_str().unwrap();
    let done = baton.baton(&["artifact", "export", &id, "-o", path]);
    done.expect_code(BAD_INPUT);
    assert!(done.stderr.contains("already exists"), "{}", done.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
    baton
        .baton(&["artifact", "export", &id, "-o", path, "--force", "--json"])
        .expect_code(OK);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        std::fs::read_to_string(&out).unwrap()
    );
}

/// `baton ARGS` on a terminal (a pseudo-terminal from `script`), with `input` typed into it;
/// returns the exit code and what the terminal showed.
fn on_a_terminal(
    baton: &Baton,
    fake: &FakeLlm,
    args: &[&str],
    input: &str,
    env: &[(&str, String)],
) -> (i32, String) {
    use std::io::Write;
    let quote = |text: &str| format!("'{}'", text.replace('\'', "'\\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_baton"));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("XDG_CONFIG_HOME", baton.repo.tmp().join("user-config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("BATON_ANTHROPIC_BASE_URL", fake.url())
        .env("ANTHROPIC_API_KEY", KEY)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

#[test]
fn open_questions_hold_the_run_until_baton_answer_starts_it_with_the_answers() {
    let baton = Baton::new();
    let asking = valid_answer().replace(
        "\"open_questions\":[]",
        "\"open_questions\":[\"Should b.txt be empty?\"]",
    );
    let fake = planner(&baton, vec![asking], "agent = \"claude\"\n");
    let bin = baton.scratch("bin");
    support::agents::stand_in_claude(&bin, "done by the stand-in");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (code, shown) = on_a_terminal(
        &baton,
        &fake,
        &["run", "Write two files"],
        "",
        &[("PATH", path)],
    );
    assert_eq!(code, 4, "{shown}");
    assert!(
        shown.contains("open questions:\n  - Should b.txt be empty?"),
        "{shown}"
    );
    assert!(shown.contains("waiting for a person"), "{shown}");
    let run = baton.run_ids()[0].clone();
    assert!(shown.contains(&format!("baton answer {run}")), "{shown}");
    assert_eq!(baton.status(&run)["status"], "awaiting_input");

    // Nothing runs before the answers: resume is refused, an empty answer too.
    let early = baton.baton(&["resume", &run]);
    early.expect_code(BAD_INPUT);
    assert!(early.stderr.contains("baton answer"), "{}", early.stderr);
    baton
        .baton(&["answer", &run, "--text", "  "])
        .expect_code(BAD_INPUT);

    // The answers join the goal every agent's prompt carries, then the run starts (b is rated
    // medium risk, so it then waits for approval before delivery).
    let env = [
        ("BATON_ANTHROPIC_BASE_URL", fake.url()),
        ("ANTHROPIC_API_KEY", KEY.to_owned()),
    ];
    let answered = baton_with_agent(
        &baton,
        &bin,
        &env,
        &["answer", &run, "--text", "Yes, leave b.txt empty."],
    );
    answered.expect_code(4);
    let prompt = std::fs::read_to_string(
        baton
            .home
            .join("runs")
            .join(&run)
            .join("prompts")
            .join("a.1.md"),
    )
    .unwrap();
    assert!(
        prompt.contains("Answers to the planner's open questions"),
        "{prompt}"
    );
    assert!(prompt.contains("Yes, leave b.txt empty."), "{prompt}");
    assert!(
        artifact_kinds(&baton, &["artifacts", &run, "--json"]).contains(&"answers".to_string())
    );
    // A second answer is refused: the run waits for none.
    baton
        .baton(&["answer", &run, "--text", "again"])
        .expect_code(BAD_INPUT);
}

#[test]
fn on_a_terminal_a_goal_runs_only_when_the_person_says_yes() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let (code, shown) = on_a_terminal(&baton, &fake, &["run", "Write two files"], "n\n", &[]);
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains("run this plan? [y/N]"), "{shown}");
    assert!(shown.contains("not run"), "{shown}");
    assert!(baton.run_ids().is_empty());
}

/// `baton plan new "Write two files" --json` with the real agent CLI `client` as the planner
/// (`[planner] cli = CLI`) against a fake model answering `valid_answer()`: checks the plan it
/// wrote and returns the model's first request.
fn plan_with_cli(
    client: baton_testkit::agent_clients::Client,
    planner: &str,
) -> baton_testkit::fake_llm::LoggedRequest {
    let baton = Baton::new();
    let llm = FakeLlm::start(Script::new([Turn::text(valid_answer())])).unwrap();
    configure(&baton, planner);
    let out = baton.scratch("plans").join("plan.yaml");
    let path = out.to_str().unwrap();
    let args = ["plan", "new", "Write two files", "-o", path, "--json"];
    let done = support::agents::baton_with_client(&baton, client, &llm, KEY, &args);
    done.expect_code(OK);
    let doc = done.json();
    assert_eq!(doc["tasks"][1]["deps"], serde_json::json!(["a"]), "{doc:#}");
    baton.baton(&["plan", "validate", path]).expect_code(OK);
    let provider = doc["planner"]["provider"].as_str().unwrap().to_owned();
    assert_eq!(provider, client_provider(client));
    // The real client asked the model with baton's goal and schema.
    let first = llm
        .requests()
        .into_iter()
        .find(|r| r.turn == Some(1))
        .unwrap();
    let asked = first.last_user_text.as_deref().unwrap_or_default();
    assert!(asked.contains("Goal: Write two files"), "{asked}");
    first
}

/// The provider name a planning CLI answers as.
fn client_provider(client: baton_testkit::agent_clients::Client) -> &'static str {
    match client {
        baton_testkit::agent_clients::Client::Codex => "codex",
        _ => "claude-code",
    }
}

#[test]
fn claude_code_in_plan_mode_can_be_the_planner() {
    let first = plan_with_cli(
        baton_testkit::agent_clients::Client::Claude,
        "[planner]\ncli = \"claude\"\n",
    );
    assert!(first.path.starts_with("/v1/messages"), "{first:#?}");
}

#[test]
fn codex_in_its_read_only_sandbox_can_be_the_planner() {
    let first = plan_with_cli(
        baton_testkit::agent_clients::Client::Codex,
        "[planner]\ncli = \"codex\"\nmodel = \"gpt-5\"\n",
    );
    assert_eq!(first.path, "/v1/responses", "{first:#?}");
}

#[test]
fn claude_code_plans_a_goal_and_then_implements_it() {
    use baton_testkit::agent_clients::{Client, FileWrite};
    let baton = Baton::new();
    let plan = serde_json::json!({
        "summary": "One file.",
        "tasks": [{"id": "greet", "title": "Greet", "prompt": "Write greeting.txt saying hello.",
                   "claims": ["greeting.txt"], "complexity": 1, "risk": "low"}],
        "risks": [],
        "open_questions": []
    })
    .to_string();
    // The planner's answer, then the implementer's write of the task's file.
    let target = support::agents::first_lane(&baton).join("greeting.txt");
    let writes = Client::Claude.script_yaml(&[FileWrite {
        path: target.to_str().unwrap(),
        line: "hello from claude",
    }]);
    let planner_turn = format!(
        "turns:\n  - text: {}\n",
        serde_json::to_string(&plan).unwrap()
    );
    let script = Script::parse(&writes.replacen("turns:\n", &planner_turn, 1)).unwrap();
    let llm = FakeLlm::start(script).unwrap();
    configure(&baton, "[planner]\ncli = \"claude\"\nagent = \"claude\"\n");
    let done = support::agents::baton_with_client(
        &baton,
        Client::Claude,
        &llm,
        KEY,
        &["run", "Greet the reader", "--yes"],
    );
    done.expect_code(OK);
    let run = baton.run_ids()[0].clone();
    assert_eq!(
        baton
            .read_at(&baton.integration(&run), "greeting.txt")
            .as_deref(),
        Some("hello from claude\n")
    );
    let report = baton.report(&run);
    assert_eq!(
        report["usage"]["by_agent"]["planner"]["attempts"], 1,
        "{report:#}"
    );
    assert_eq!(
        report["usage"]["by_agent"]["claude"]["attempts"], 1,
        "{report:#}"
    );
}

#[test]
fn a_refused_planner_call_fails_with_the_providers_word_and_writes_nothing() {
    let baton = Baton::new();
    let fake = FakeLlm::start(
        Script::parse("- error: {status: 401, body: \"invalid x-api-key\"}\n").unwrap(),
    )
    .unwrap();
    configure(
        &baton,
        "[planner]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n",
    );
    let out = baton.scratch("plans").join("plan.yaml");
    let done = plan_new(&baton, &fake, &out, &[]);
    done.expect_code(support::FAILED);
    assert!(
        done.stderr.contains("the planner's call failed"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("anthropic"), "{}", done.stderr);
    assert!(
        !done.stderr.contains(KEY),
        "the key leaked: {}",
        done.stderr
    );
    assert!(!out.exists());
    assert_eq!(fake.requests().len(), 1, "an auth failure is not retried");
}

/// The artifacts made before any run, as `baton artifacts --json` lists them.
fn runless_artifacts(baton: &Baton) -> Vec<serde_json::Value> {
    let listed = baton.baton(&["artifacts", "--json"]);
    listed.expect_code(OK);
    listed.json().as_array().unwrap().clone()
}

#[test]
fn an_edited_plan_artifact_is_validated_and_kept_beside_the_original() {
    let baton = Baton::new();
    let fake = planner(&baton, vec![valid_answer()], "");
    let out = baton.scratch("edit").join("plan.yaml");
    plan_new(&baton, &fake, &out, &[]).expect_code(OK);
    let plan = runless_artifacts(&baton)
        .into_iter()
        .find(|a| a["kind"] == "plan")
        .unwrap();
    let id = plan["id"].as_str().unwrap().to_string();

    // An editor (a real program, here a script) that renames the goal.
    let bin = baton.scratch("editors");
    let good = bin.join("rename-goal");
    support::write_program(
        &good,
        "#!/bin/sh\nsed -i 's/^goal: .*/goal: \"Write three files\"/' \"$1\"\n",
    );
    let edited = baton.baton_with_env(
        baton.path(),
        &["artifact", "edit", &id, "--json"],
        &[("EDITOR", good.as_path())],
    );
    edited.expect_code(OK);
    let new_id = edited.json()["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, id);
    let shown = baton.baton(&["artifact", "show", &new_id]);
    assert!(
        shown.stdout.contains("goal: \"Write three files\""),
        "{}",
        shown.stdout
    );
    let original = baton.baton(&["artifact", "show", &id]);
    assert!(
        original.stdout.contains("goal: \"Write two files\""),
        "{}",
        original.stdout
    );

    // An edit that breaks the plan is refused with where, and nothing is saved.
    let before = runless_artifacts(&baton).len();
    let bad = bin.join("break-version");
    support::write_program(
        &bad,
        "#!/bin/sh\nsed -i 's/^version: 1/version: 7/' \"$1\"\n",
    );
    let refused = baton.baton_with_env(
        baton.path(),
        &["artifact", "edit", &id],
        &[("EDITOR", bad.as_path())],
    );
    refused.expect_code(BAD_INPUT);
    assert!(refused.stderr.contains("plan.yaml:"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("your edit is in"),
        "{}",
        refused.stderr
    );
    assert_eq!(runless_artifacts(&baton).len(), before);

    // An editor that fails saves nothing either.
    let failing = baton.baton_with_env(
        baton.path(),
        &["artifact", "edit", &id],
        &[("EDITOR", Path::new("false"))],
    );
    failing.expect_code(1);
    assert_eq!(runless_artifacts(&baton).len(), before);
}
