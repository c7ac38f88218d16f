#![allow(clippy::unwrap_used, clippy::expect_used)]
//! How `baton` behaves, end to end: the real binary, a real git repository and a `BATON_HOME`
//! of its own per test. Each test asserts outcomes a user can see: files at the integration
//! head, `baton status/report/events/logs/lanes`, `git worktree list` and exit codes.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use support::{BAD_INPUT, Baton, FAILED, OK, POLL_LIMIT, poll, sh_path, statuses, task};

fn strs(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn canonical(path: impl Into<PathBuf>) -> PathBuf {
    let path = path.into();
    std::fs::canonicalize(&path).unwrap_or(path)
}

#[test]
fn a_plan_of_independent_tasks_integrates_every_task_and_exits_0() {
    let baton = Baton::new();
    let base = baton.rev("main").unwrap();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "three independent files"
lanes: 2
tasks:
  - id: alpha
    run: "mkdir -p a && echo alpha > a/one.txt"
    claims: ["a/**"]
  - id: beta
    run: "mkdir -p b && echo beta > b/two.txt"
    claims: ["b/**"]
  - id: gamma
    run: "echo gamma > c.txt"
    claims: ["c.txt"]
"#,
        &[],
    );
    run.expect_code(OK);
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "a/one.txt").as_deref(),
        Some("alpha\n")
    );
    assert_eq!(
        baton.read_at(&integration, "b/two.txt").as_deref(),
        Some("beta\n")
    );
    assert_eq!(
        baton.read_at(&integration, "c.txt").as_deref(),
        Some("gamma\n")
    );
    assert_eq!(
        baton.rev("main").unwrap(),
        base,
        "without --into, main stays where it was"
    );

    let status = baton.status(&id);
    assert_eq!(status["status"], "completed");
    assert_eq!(
        statuses(&status),
        ["alpha=merged", "beta=merged", "gamma=merged"]
    );

    let report = baton.report(&id);
    let head = baton.rev(&integration).unwrap();
    assert_eq!(report["status"], "completed");
    assert_eq!(report["integration_head"], head.as_str());
    for name in ["alpha", "beta", "gamma"] {
        let t = task(&report, name);
        assert_eq!(t["status"], "merged", "{t:#}");
        let merge = t["merge_commit"]
            .as_str()
            .unwrap_or_else(|| panic!("{t:#}"));
        let items: Vec<_> = report["merge_queue"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["task"] == name)
            .collect();
        assert_eq!(items.len(), 1, "{name}: {items:#?}");
        assert_eq!(items[0]["status"], "merged");
        assert_eq!(items[0]["merge_commit"], merge);
        baton.git(&["merge-base", "--is-ancestor", merge, &head]);
        // A baton merge commit: two parents, the second is the task's commit.
        let parents = baton.git(&["rev-list", "--parents", "-n", "1", merge]);
        assert_eq!(parents.split_whitespace().count(), 3, "{parents}");
    }

    let events = baton.events(&id);
    assert!(!events.is_empty());
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq must increase: {seqs:?}"
    );
    assert!(events.iter().all(|e| e["run"] == id.as_str()));
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for wanted in [
        "run.created",
        "run.status",
        "task.status",
        "attempt.started",
        "merge.status",
        "integration.advanced",
    ] {
        assert!(types.contains(&wanted), "no {wanted} event in {types:?}");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "integration.advanced")
            .count(),
        3,
        "one advance per task"
    );
}

#[test]
fn lanes_are_reused_across_runs_and_prune_removes_them_all() {
    let baton = Baton::new();
    let plan = r#"version: 1
goal: "reuse lanes"
lanes: 2
gates:
  ok: "true"
tasks:
  - id: one
    run: "echo 1 > one.txt"
    claims: ["one.txt"]
  - id: two
    run: "echo 2 > two.txt"
    claims: ["two.txt"]
  - id: three
    run: "echo 3 > three.txt"
    claims: ["three.txt"]
  - id: four
    run: "echo 4 > four.txt"
    claims: ["four.txt"]
"#;
    for _ in 0..2 {
        let (run, _) = baton.run_plan(plan, &[]);
        run.expect_code(OK);
    }
    let lanes = baton.baton(&["lanes", "--json"]).expect_code(OK).json();
    let lanes = lanes.as_array().unwrap().clone();
    assert!(!lanes.is_empty());
    assert!(
        lanes.len() <= 3,
        "2 task lanes and 1 merge lane at most, found {lanes:#?}"
    );
    let lane_paths: BTreeSet<PathBuf> = lanes
        .iter()
        .map(|l| canonical(l["path"].as_str().unwrap()))
        .collect();
    for lane in &lanes {
        assert!(lane["run"].is_null(), "no run holds a lane now: {lane:#}");
        let path = lane["path"].as_str().unwrap();
        let dirty = baton.git(&["-C", path, "status", "--porcelain", "--ignored"]);
        assert!(
            dirty.trim().is_empty(),
            "lane {path} is not clean:\n{dirty}"
        );
    }
    let main = canonical(baton.path());
    for worktree in baton.worktrees() {
        let worktree = canonical(worktree);
        assert!(
            worktree == main || lane_paths.contains(&worktree),
            "git has a worktree baton does not track: {}",
            worktree.display()
        );
    }

    baton.baton(&["lanes", "prune"]).expect_code(OK);
    let left: Vec<PathBuf> = baton.worktrees().into_iter().map(canonical).collect();
    assert_eq!(left, vec![main]);
    let lanes = baton.baton(&["lanes", "--json"]).expect_code(OK).json();
    assert_eq!(lanes, serde_json::json!([]));
}

#[test]
fn a_task_writing_outside_its_claims_fails_and_blocks_its_dependents() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "claims are enforced"
lanes: 2
tasks:
  - id: sprawl
    run: "mkdir -p src && echo in > src/inside.txt && echo out > stray.txt"
    claims: ["src/**"]
  - id: after
    deps: [sprawl]
    run: "echo after > after.txt"
    claims: ["after.txt"]
  - id: later
    deps: [after]
    run: "echo later > later.txt"
    claims: ["later.txt"]
  - id: fine
    run: "echo fine > fine.txt"
    claims: ["fine.txt"]
"#,
        &[],
    );
    run.expect_code(FAILED);
    let status = baton.status(&id);
    assert_eq!(status["status"], "failed");
    assert_eq!(
        statuses(&status),
        [
            "after=blocked",
            "fine=merged",
            "later=blocked",
            "sprawl=failed"
        ]
    );
    let failure = task(&status, "sprawl")["last_failure"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(failure.contains("claims"), "{failure}");
    assert!(
        failure.contains("stray.txt"),
        "status should name the path outside the claims: {failure}"
    );
    let report = baton.report(&id);
    let attempt_failure = task(&report, "sprawl")["attempts"][0]["failure"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(attempt_failure.contains("stray.txt"), "{attempt_failure}");

    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "fine.txt").as_deref(),
        Some("fine\n")
    );
    assert_eq!(baton.read_at(&integration, "stray.txt"), None);
    assert_eq!(baton.read_at(&integration, "src/inside.txt"), None);
    assert_eq!(baton.read_at(&integration, "after.txt"), None);
}

#[test]
fn tasks_whose_exclusive_claims_overlap_never_run_at_the_same_time() {
    let baton = Baton::new();
    let lock = baton.writable_scratch("overlap").join("lock");
    let script = format!(
        "mkdir {lock} || exit 9\n      mkdir -p notes && echo $BATON_TASK_ID > notes/$BATON_TASK_ID.txt\n      sleep 0.3\n      rmdir {lock}\n",
        lock = sh_path(&lock)
    );
    let plan = format!(
        r#"version: 1
goal: "overlapping claims are serialised"
lanes: 3
tasks:
  - id: one
    claims: ["notes/**"]
    run: |
      {script}  - id: two
    claims: ["notes/*.txt"]
    run: |
      {script}  - id: three
    claims: ["{{notes,docs}}/**"]
    run: |
      {script}"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    let report = baton.report(&id);
    assert_eq!(
        statuses(&report),
        ["one=merged", "three=merged", "two=merged"]
    );
    for name in ["one", "two", "three"] {
        assert_eq!(
            task(&report, name)["attempts"].as_array().unwrap().len(),
            1,
            "{name} needed no retry"
        );
        assert_eq!(
            baton
                .read_at(&baton.integration(&id), &format!("notes/{name}.txt"))
                .as_deref(),
            Some(format!("{name}\n").as_str())
        );
    }
    assert!(!lock.exists());
}

#[test]
fn a_dependent_task_sees_its_dependencies_work_in_its_own_lane() {
    let baton = Baton::new();
    let pwd = baton.writable_scratch("deps").join("b-pwd");
    let (run, id) = baton.run_plan(
        &format!(
            r#"version: 1
goal: "deps see their deps' work"
lanes: 2
tasks:
  - id: b
    deps: [a]
    claims: ["seen-by-b.txt"]
    run: |
      pwd > {pwd}
      test -f made-by-a.txt || exit 7
      cp made-by-a.txt seen-by-b.txt
  - id: a
    claims: ["made-by-a.txt"]
    run: "echo from-a > made-by-a.txt"
"#,
            pwd = sh_path(&pwd)
        ),
        &[],
    );
    run.expect_code(OK);
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "seen-by-b.txt").as_deref(),
        Some("from-a\n")
    );
    let lane = canonical(std::fs::read_to_string(&pwd).unwrap().trim());
    assert_ne!(lane, canonical(baton.path()), "b ran in the main worktree");
    assert!(
        lane.starts_with(canonical(&baton.home)),
        "b ran outside baton's lanes: {}",
        lane.display()
    );
    assert!(!baton.path().join("made-by-a.txt").exists());
}

#[test]
fn a_merge_conflict_runs_the_task_again_from_the_new_head_until_it_merges() {
    let baton = Baton::new();
    baton.commit_file("line.txt", "value=0\n", "add line.txt");
    let sync = baton.writable_scratch("conflict");
    let script = format!(
        r#"touch {sync}/$BATON_TASK_ID.$BATON_ATTEMPT
      if [ "$BATON_ATTEMPT" = 1 ]; then
        i=0
        while [ ! -e {sync}/p.1 ] || [ ! -e {sync}/q.1 ]; do
          i=$((i+1)); [ $i -gt 600 ] && exit 8; sleep 0.05
        done
      fi
      sed -i "s/\$/ +$BATON_TASK_ID/" line.txt
"#,
        sync = sh_path(&sync)
    );
    let plan = format!(
        r#"version: 1
goal: "both edit the same line"
lanes: 2
merge_gates: []
tasks:
  - id: p
    claims: ["shared:line.txt"]
    run: |
      {script}  - id: q
    claims: ["shared:line.txt"]
    run: |
      {script}"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    let line = baton.read_at(&baton.integration(&id), "line.txt").unwrap();
    assert!(
        line == "value=0 +p +q\n" || line == "value=0 +q +p\n",
        "both edits, one on top of the other: {line:?}"
    );
    let report = baton.report(&id);
    assert_eq!(statuses(&report), ["p=merged", "q=merged"]);
    let items = report["merge_queue"].as_array().unwrap();
    let conflicted: Vec<_> = items
        .iter()
        .filter(|i| i["status"] == "conflicted")
        .collect();
    assert_eq!(conflicted.len(), 1, "{items:#?}");
    let loser = conflicted[0]["task"].as_str().unwrap();
    let winner = if loser == "p" { "q" } else { "p" };
    assert_eq!(
        task(&report, loser)["attempts"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        task(&report, winner)["attempts"].as_array().unwrap().len(),
        1
    );
    assert_eq!(line, format!("value=0 +{winner} +{loser}\n"));
    assert!(sync.join(format!("{loser}.2")).exists());
    assert_eq!(
        items.iter().filter(|i| i["status"] == "merged").count(),
        2,
        "{items:#?}"
    );
}

#[test]
fn a_failing_merge_gate_keeps_the_change_off_the_integration_branch() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "merge gates guard the integration branch"
lanes: 2
gates:
  clean: "test ! -f bad.txt"
merge_gates: [clean]
tasks:
  - id: bad
    run: "echo bad > bad.txt"
    claims: ["bad.txt"]
    retries: 1
  - id: good
    run: "echo good > good.txt"
    claims: ["good.txt"]
"#,
        &[],
    );
    run.expect_code(FAILED);
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "good.txt").as_deref(),
        Some("good\n")
    );
    assert_eq!(baton.read_at(&integration, "bad.txt"), None);
    let history = baton.git(&["log", "--format=%H", &integration, "--", "bad.txt"]);
    assert!(
        history.trim().is_empty(),
        "no commit of the integration branch ever held bad.txt:\n{history}"
    );
    let report = baton.report(&id);
    assert_eq!(report["status"], "failed");
    assert_eq!(statuses(&report), ["bad=failed", "good=merged"]);
    let bad = task(&report, "bad");
    assert_eq!(bad["attempts"].as_array().unwrap().len(), 2, "{bad:#}");
    let rejected: Vec<_> = report["merge_queue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["task"] == "bad")
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    for item in rejected {
        assert_eq!(item["status"], "failed", "{item:#}");
        assert!(
            item["detail"].as_str().unwrap().contains("clean"),
            "{item:#}"
        );
    }
    assert!(
        bad["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["gate"] == "clean" && g["passed"] == false && !g["merge_item"].is_null()),
        "{bad:#}"
    );
}

#[test]
fn a_failing_task_gate_retries_with_feedback_and_then_completes() {
    let baton = Baton::new();
    let seen = baton.writable_scratch("feedback");
    let (run, id) = baton.run_plan(
        &format!(
            r#"version: 1
goal: "retry after a gate failure"
gates:
  check: "test -f fixed.txt"
tasks:
  - id: fix
    gates: [check]
    retries: 1
    claims: ["fixed.txt", "attempt.txt"]
    run: |
      echo "$BATON_ATTEMPT" > {seen}/attempt-$BATON_ATTEMPT
      echo "${{BATON_FEEDBACK_FILE:-none}}" > {seen}/feedback-path-$BATON_ATTEMPT
      echo "attempt $BATON_ATTEMPT" > attempt.txt
      if [ -n "${{BATON_FEEDBACK_FILE:-}}" ]; then
        cp "$BATON_FEEDBACK_FILE" {seen}/feedback.txt
        grep -q check "$BATON_FEEDBACK_FILE" && echo fixed > fixed.txt
      fi
"#,
            seen = sh_path(&seen)
        ),
        &[],
    );
    run.expect_code(OK);
    assert_eq!(
        std::fs::read_to_string(seen.join("feedback-path-1")).unwrap(),
        "none\n",
        "the first attempt has no feedback"
    );
    assert_eq!(
        std::fs::read_to_string(seen.join("attempt-2")).unwrap(),
        "2\n"
    );
    let feedback = std::fs::read_to_string(seen.join("feedback.txt")).unwrap();
    assert!(feedback.contains("check"), "{feedback}");
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "fixed.txt").as_deref(),
        Some("fixed\n")
    );
    assert_eq!(
        baton.read_at(&integration, "attempt.txt").as_deref(),
        Some("attempt 2\n")
    );
    let report = baton.report(&id);
    let fix = task(&report, "fix");
    assert_eq!(fix["status"], "merged");
    let attempts = fix["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{fix:#}");
    assert_eq!(attempts[0]["status"], "failed", "{fix:#}");
    assert!(
        attempts[0]["failure"].as_str().unwrap().contains("check"),
        "{fix:#}"
    );
}

fn assert_no_process_survives(run: &str) {
    poll("the run's processes to be gone", POLL_LIMIT, || {
        baton_exec::find_processes_with_env("BATON_RUN_ID", run)
            .is_empty()
            .then_some(())
    });
}

#[test]
fn a_task_past_its_timeout_is_killed_and_fails() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "timeouts"
tasks:
  - id: slow
    timeout: 1s
    run: "sleep 30"
"#,
        &[],
    );
    run.expect_code(FAILED);
    let status = baton.status(&id);
    let slow = task(&status, "slow");
    assert_eq!(slow["status"], "failed");
    let failure = slow["last_failure"].as_str().unwrap();
    assert!(failure.contains("timed out"), "{failure}");
    let report = baton.report(&id);
    assert_eq!(
        task(&report, "slow")["attempts"][0]["agent_end"]["kind"],
        "timed_out"
    );
    assert_no_process_survives(&id);
}

#[test]
fn a_silent_task_is_killed_for_its_silence() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "silence"
tasks:
  - id: quiet
    silence: 1s
    run: "echo said-something; sleep 30"
"#,
        &[],
    );
    run.expect_code(FAILED);
    let status = baton.status(&id);
    let quiet = task(&status, "quiet");
    assert_eq!(quiet["status"], "failed");
    let failure = quiet["last_failure"].as_str().unwrap();
    assert!(failure.contains("without output"), "{failure}");
    let report = baton.report(&id);
    assert_eq!(
        task(&report, "quiet")["attempts"][0]["agent_end"]["kind"],
        "silent"
    );
    let logs = baton.baton(&["logs", &id, "quiet"]);
    logs.expect_code(OK);
    assert!(logs.stdout.contains("said-something"), "{}", logs.stdout);
    assert_no_process_survives(&id);
}

#[test]
fn into_main_moves_main_and_its_checked_out_files_to_the_result() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "deliver into main"
tasks:
  - id: deliver
    run: "echo delivered > delivered.txt"
    claims: ["delivered.txt"]
"#,
        &["--into", "main"],
    );
    run.expect_code(OK);
    let head = baton.rev(&baton.integration(&id)).unwrap();
    assert_eq!(baton.rev("main").unwrap(), head);
    assert_eq!(
        std::fs::read_to_string(baton.path().join("delivered.txt")).unwrap(),
        "delivered\n"
    );
    assert_eq!(baton.git(&["status", "--porcelain"]).trim(), "");
    assert!(run.stderr.contains("main now points at"), "{}", run.stderr);
}

#[test]
fn into_a_branch_that_moved_during_the_run_leaves_it_alone_and_says_so() {
    let baton = Baton::new();
    baton.git(&["branch", "target"]);
    let moved = baton
        .git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit-tree",
            "HEAD^{tree}",
            "-p",
            "HEAD",
            "-m",
            "moved meanwhile",
        ])
        .trim()
        .to_string();
    let (run, id) = baton.run_plan(
        &format!(
            r#"version: 1
goal: "deliver into a branch that moves"
tasks:
  - id: mover
    run: |
      git -C {repo} update-ref refs/heads/target {moved}
      echo work > work.txt
    claims: ["work.txt"]
"#,
            repo = sh_path(baton.path())
        ),
        &["--into", "target"],
    );
    run.expect_code(OK);
    assert_eq!(baton.rev("target").unwrap(), moved, "target was left alone");
    assert!(run.stderr.contains("left alone"), "{}", run.stderr);
    assert!(run.stderr.contains("moved"), "{}", run.stderr);
    assert_eq!(baton.status(&id)["status"], "completed");
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "work.txt")
            .as_deref(),
        Some("work\n")
    );
}

#[test]
fn status_with_no_runs_says_so() {
    let baton = Baton::new();
    let text = baton.baton(&["status"]);
    text.expect_code(OK);
    assert!(text.stdout.contains("no runs"), "{}", text.stdout);
    let json = baton.baton(&["status", "--json"]).expect_code(OK).json();
    assert_eq!(json, serde_json::json!([]));
}

#[test]
fn the_markdown_report_has_the_goal_and_the_parallel_efficiency() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "a goal worth reporting"
tasks:
  - id: only
    run: "echo x > x.txt"
"#,
        &[],
    );
    run.expect_code(OK);
    let md = baton.baton(&["report", &id, "--format", "md"]);
    md.expect_code(OK);
    assert!(
        md.stdout.contains("a goal worth reporting"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("parallel efficiency"), "{}", md.stdout);
    assert!(md.stdout.contains("only"), "{}", md.stdout);
}

#[test]
fn logs_print_what_the_task_printed() {
    let baton = Baton::new();
    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "logs"
tasks:
  - id: talker
    run: "echo hello from the task; echo and from stderr >&2"
    claims: []
"#,
        &[],
    );
    run.expect_code(OK);
    let logs = baton.baton(&["logs", &id, "talker"]);
    logs.expect_code(OK);
    assert!(
        logs.stdout.contains("hello from the task"),
        "{}",
        logs.stdout
    );
    assert!(logs.stdout.contains("and from stderr"), "{}", logs.stdout);
    let wrong = baton.baton(&["logs", &id, "talker", "--attempt", "2"]);
    wrong.expect_code(BAD_INPUT);
}

#[test]
fn plan_show_gives_levels_and_the_critical_path() {
    let baton = Baton::new();
    let plan = baton.plan(
        "show.yaml",
        r#"version: 1
goal: "show me"
lanes: 2
tasks:
  - id: a
    run: "true"
    estimate: 10s
  - id: b
    run: "true"
    deps: [a]
    estimate: 20s
  - id: c
    run: "true"
    deps: [b]
    estimate: 5s
  - id: d
    run: "true"
    estimate: 1s
"#,
    );
    let shown = baton
        .baton(&["plan", "show", &plan.to_string_lossy(), "--json"])
        .expect_code(OK)
        .json();
    let levels: Vec<BTreeSet<String>> = shown["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| strs(l).into_iter().collect())
        .collect();
    let expected: Vec<BTreeSet<String>> = [vec!["a", "d"], vec!["b"], vec!["c"]]
        .iter()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(levels, expected);
    assert_eq!(strs(&shown["critical_path"]), ["a", "b", "c"]);
    assert_eq!(shown["critical_path_ms"], 35_000);
    assert_eq!(shown["total_work_ms"], 36_000);
    assert_eq!(shown["lanes"], 2);
}

#[test]
fn a_dry_run_shows_the_schedule_and_writes_no_run() {
    let baton = Baton::new();
    let plan = baton.plan(
        "dry.yaml",
        r#"version: 1
goal: "dry"
tasks:
  - id: a
    run: "echo a > a.txt"
  - id: b
    run: "echo b > b.txt"
    deps: [a]
"#,
    );
    let dry = baton.baton(&["run", "--plan", &plan.to_string_lossy(), "--dry-run"]);
    dry.expect_code(OK);
    assert!(dry.stdout.contains("critical path"), "{}", dry.stdout);
    let runs = baton.baton(&["status", "--json"]).expect_code(OK).json();
    assert_eq!(runs, serde_json::json!([]));
    assert!(baton.baton_refs().is_empty());
    assert!(!baton.path().join("a.txt").exists());
}
