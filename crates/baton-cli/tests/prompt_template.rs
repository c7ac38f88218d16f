#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The prompt an AI agent gets, end to end: rendered from the repository's template, listing
//! what its dependencies changed, naming the files and the task that landed first after a merge
//! conflict, and a bad template refused before anything runs. The agent is a shell script named
//! `claude` that speaks Claude Code's stream-json result line: the prompt is baton's, not the
//! client's, so no real client is needed here.

mod support;

use std::path::PathBuf;
use support::agents::baton_with_agent;
use support::{BAD_INPUT, Baton, OK, sh_path, statuses, task};

/// A directory holding a fake `claude` that runs `body` in its lane, then prints a successful
/// stream-json result.
fn fake_claude(baton: &Baton, body: &str) -> PathBuf {
    let bin = baton.scratch("bin");
    let script = bin.join("claude");
    support::write_program(
        &script,
        format!(
            "#!/bin/sh\nset -e\n{body}\nprintf '%s\\n' '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"done\",\"num_turns\":1,\"total_cost_usd\":0.001,\"usage\":{{\"input_tokens\":10,\"output_tokens\":5}}}}'\n"
        ),
    );
    bin
}

/// Writes `.baton/prompt.md.j2` in the main worktree, untracked and git-ignored.
fn repository_template(baton: &Baton, text: &str) -> PathBuf {
    let path = baton.path().join(".baton/prompt.md.j2");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let exclude = baton.path().join(".git/info/exclude");
    let ignored = std::fs::read_to_string(&exclude).unwrap_or_default();
    std::fs::write(&exclude, format!("{ignored}/.baton/\n")).unwrap();
    path
}

/// The saved prompt of attempt `number` of `task` in run `id`.
fn saved_prompt(baton: &Baton, id: &str, task: &str, number: u32) -> String {
    let path = baton
        .home
        .join("runs")
        .join(id)
        .join("prompts")
        .join(format!("{task}.{number}.md"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const DEPENDENT_PLAN: &str = r#"version: 1
goal: "Store users"
tasks:
  - id: schema
    title: "Database schema"
    run: "mkdir -p db && echo create > db/schema.sql && echo insert > db/seed.sql"
    claims: ["db/**"]
  - id: api
    title: "User API"
    agent: claude
    prompt: "Write api.txt from the schema."
    claims: ["api.txt"]
    deps: [schema]
"#;

#[test]
fn a_dependent_tasks_prompt_lists_its_dependencys_title_and_changed_files() {
    let baton = Baton::new();
    let bin = fake_claude(&baton, "cat db/schema.sql > api.txt");
    let plan = baton.plan("dependent.yaml", DEPENDENT_PLAN);
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        baton.read_at(&baton.integration(&id), "api.txt").as_deref(),
        Some("create\n"),
        "the agent ran on top of its dependency"
    );
    let prompt = saved_prompt(&baton, &id, "api", 1);
    for text in [
        "Goal of the whole change: Store users",
        "Your task (api): User API",
        "- schema: Database schema, changed:\n  - db/schema.sql\n  - db/seed.sql\n",
        "Change only these paths (other changes are refused): api.txt",
    ] {
        assert!(prompt.contains(text), "no {text:?} in:\n{prompt}");
    }
}

#[test]
fn baton_prompt_renders_the_repository_template_and_lists_dependencies_not_run_yet() {
    let baton = Baton::new();
    let plan = baton.plan("dependent.yaml", DEPENDENT_PLAN);
    let shown = baton.baton(&["prompt", plan.to_str().unwrap(), "api"]);
    shown.expect_code(OK);
    assert!(
        shown
            .stdout
            .contains("- schema: Database schema (not run yet)\n"),
        "{}",
        shown.stdout
    );

    repository_template(
        &baton,
        "{{ task.id }} ({{ task.agent }}) after {% for d in dependencies %}{{ d.title }}: \
         {{ d.status }}{% endfor %}; claims {{ task.claims | join(',') }}; attempt {{ attempt }}; \
         failure {{ failure }}; run {{ run }}\n",
    );
    let shown = baton.baton(&["prompt", plan.to_str().unwrap(), "api", "--json"]);
    shown.expect_code(OK);
    assert_eq!(
        shown.json()["prompt"],
        "api (claude) after Database schema: not run yet; claims api.txt; attempt 1; \
         failure None; run None\n"
    );
}

#[test]
fn a_template_that_does_not_parse_or_render_is_refused_before_anything_runs() {
    let baton = Baton::new();
    let bin = fake_claude(&baton, "echo x > api.txt");
    let plan = baton.plan("dependent.yaml", DEPENDENT_PLAN);
    let plan = plan.to_str().unwrap();
    let refused = |args: &[&str], wanted: &[&str]| {
        let run = baton_with_agent(&baton, &bin, &[], args);
        run.expect_code(BAD_INPUT);
        for text in wanted {
            assert!(run.stderr.contains(text), "no {text:?} in:\n{}", run.stderr);
        }
        assert!(!baton.home.exists(), "a refused template writes nothing");
    };

    let file = repository_template(&baton, "Goal: {{ goal }}\n\n{% if failure %}\nno end\n");
    let at = format!("{}:", file.display());
    refused(&["run", "--plan", plan], &[&at, "syntax error"]);
    refused(&["prompt", plan, "api"], &[&at, "syntax error"]);

    // A typo only on a retry's path is found too: the check renders a retry as well.
    repository_template(
        &baton,
        "Goal: {{ goal }}\n{% if failure %}\n{{ failure.text }}\n{% endif %}\n",
    );
    let line = format!("{}:3: undefined value", file.display());
    refused(
        &["run", "--plan", plan],
        &[&line, "{{ failure.text }}", "task api"],
    );

    repository_template(&baton, "{{ task.titel }}\n");
    let line = format!("{}:1: undefined value", file.display());
    refused(&["prompt", plan, "api"], &[&line]);

    // `[prompt] template` names a file that is not there.
    std::fs::write(
        baton.path().join("baton.toml"),
        "[prompt]\ntemplate = \"prompts/missing.j2\"\n",
    )
    .unwrap();
    let missing = baton.path().join("prompts/missing.j2");
    refused(
        &["run", "--plan", plan],
        &[
            &missing.display().to_string(),
            "cannot read the prompt template",
        ],
    );
}

#[test]
fn a_configured_template_is_used_for_the_agents_prompt() {
    let baton = Baton::new();
    let bin = fake_claude(&baton, "cat db/schema.sql > api.txt");
    repository_template(&baton, "the repository's own, not the configured one\n");
    std::fs::create_dir_all(baton.path().join("prompts")).unwrap();
    std::fs::write(
        baton.path().join("prompts/agent.j2"),
        "{{ task.title }}: {{ task.prompt }}\n{% for d in dependencies %}{{ d.id }} changed {{ d.changed_files | join(' ') }}{% endfor %}\n",
    )
    .unwrap();
    std::fs::write(
        baton.path().join("baton.toml"),
        "[prompt]\ntemplate = \"prompts/agent.j2\"\n",
    )
    .unwrap();
    std::fs::write(
        baton.path().join(".git/info/exclude"),
        "/baton.toml\n/prompts/\n/.baton/\n",
    )
    .unwrap();
    let plan = baton.plan("dependent.yaml", DEPENDENT_PLAN);
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    assert_eq!(
        saved_prompt(&baton, &id, "api", 1),
        // trim_blocks: the newline right after a block tag (here the last `endfor`) is dropped.
        "User API: Write api.txt from the schema.\nschema changed db/schema.sql db/seed.sql"
    );
}

#[test]
fn after_a_merge_conflict_the_retry_prompt_names_the_files_and_the_task_that_landed_first() {
    let baton = Baton::new();
    baton.commit_file("line.txt", "value=0\n", "add line.txt");
    let sync = baton.writable_scratch("conflict");
    // Both first attempts wait for each other, so both edit the same line from the same start.
    let bin = fake_claude(
        &baton,
        &format!(
            r#"touch {sync}/$BATON_TASK_ID.$BATON_ATTEMPT
if [ "$BATON_ATTEMPT" = 1 ]; then
  i=0
  while [ ! -e {sync}/p.1 ] || [ ! -e {sync}/q.1 ]; do
    i=$((i+1)); [ $i -gt 600 ] && exit 8; sleep 0.05
  done
fi
sed -i "s/\$/ +$BATON_TASK_ID/" line.txt"#,
            sync = sh_path(&sync)
        ),
    );
    let plan = baton.plan(
        "conflict.yaml",
        r#"version: 1
goal: "both edit the same line"
lanes: 2
tasks:
  - id: p
    title: "Mark p"
    agent: claude
    prompt: "Append +p to line.txt."
    claims: ["shared:line.txt"]
  - id: q
    title: "Mark q"
    agent: claude
    prompt: "Append +q to line.txt."
    claims: ["shared:line.txt"]
"#,
    );
    let run = baton_with_agent(
        &baton,
        &bin,
        &[],
        &["run", "--plan", plan.to_str().unwrap()],
    );
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();
    let report = baton.report(&id);
    assert_eq!(statuses(&report), ["p=merged", "q=merged"]);
    let loser = if task(&report, "p")["attempts"].as_array().unwrap().len() == 2 {
        "p"
    } else {
        "q"
    };
    let winner = if loser == "p" { "q" } else { "p" };
    let prompt = saved_prompt(&baton, &id, loser, 2);
    let merge = baton.git(&[
        "log",
        "--format=%H",
        "--grep",
        &format!("Baton-Merged-Task: {winner}"),
        &baton.integration(&id),
    ]);
    let merge = merge.trim();
    assert_eq!(merge.len(), 40, "one merge of {winner}: {merge:?}");
    for text in [
        "The previous attempt at this task failed (this is attempt 2)".to_owned(),
        "its branch conflicts with the integration branch in: line.txt\n".to_owned(),
        format!(
            "- task {winner} (\"Mark {winner}\") changed line.txt (merge {})\n",
            &merge[..10]
        ),
        "The task runs again from the new integration head".to_owned(),
    ] {
        assert!(prompt.contains(&text), "no {text:?} in:\n{prompt}");
    }
    assert!(!saved_prompt(&baton, &id, loser, 1).contains("failed"));
}
