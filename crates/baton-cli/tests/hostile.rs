#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Tasks that behave like hostile scripts: they delete their lane's `.git`, move baton's
//! integration branch, create and move refs in the shared repository, and leave daemons behind.
//! Each test runs the real binary on a real repository and checks what a user would see.

mod support;

use support::{Baton, FAILED, OK, git_at, task};

/// Commits as a task would (the test machines have no git identity).
const COMMIT: &str = "git -c user.name=agent -c user.email=agent@example.com commit -q";

fn failures(report: &serde_json::Value, id: &str) -> String {
    task(report, id)["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["failure"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn events_of(baton: &Baton, run: &str, kind: &str) -> Vec<serde_json::Value> {
    baton
        .events(run)
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

#[test]
fn a_task_that_deletes_its_lanes_git_file_never_reaches_the_repository_around_the_lanes() {
    let mut baton = Baton::new();
    // BATON_HOME inside a home directory kept in git, with an uncommitted edit to a dotfile.
    let home = baton.repo.tmp().join("home");
    std::fs::create_dir_all(&home).unwrap();
    git_at(&home, &["init", "-q", "-b", "dotfiles"]);
    std::fs::write(home.join(".profile"), "committed\n").unwrap();
    git_at(&home, &["add", ".profile"]);
    git_at(&home, &["commit", "-qm", "dotfiles"]);
    std::fs::write(home.join(".profile"), "work in progress\n").unwrap();
    baton.home = home.join(".local/share/baton");

    let (run, id) = baton.run_plan(
        r#"version: 1
goal: "wipe the lane"
tasks:
  - id: wipe
    run: "rm -rf ./* ./.[!.]*; echo junk > junk.txt"
"#,
        &[],
    );
    run.expect_code(FAILED);
    let why = failures(&baton.report(&id), "wipe");
    assert!(
        why.contains(".git"),
        "the failure names the broken lane: {why}"
    );

    assert_eq!(
        std::fs::read_to_string(home.join(".profile")).unwrap(),
        "work in progress\n"
    );
    assert_eq!(
        git_at(&home, &["symbolic-ref", "--short", "HEAD"]).trim(),
        "dotfiles"
    );
    assert_eq!(git_at(&home, &["log", "--oneline"]).lines().count(), 1);

    // The pool rebuilt the lane: the next run works in it.
    let (again, _) = baton.run_plan(
        r#"version: 1
goal: "after the wipe"
tasks:
  - id: fine
    run: "echo fine > fine.txt"
"#,
        &[],
    );
    again.expect_code(OK);
}

#[test]
fn a_task_that_deletes_git_with_baton_home_inside_the_checkout_leaves_the_users_work_alone() {
    let mut baton = Baton::new();
    baton.home = baton.path().join(".baton");
    let main_before = baton.rev("main").unwrap();
    std::fs::write(baton.path().join("README.md"), "my unsaved edit\n").unwrap();
    std::fs::write(baton.path().join("notes.txt"), "untracked notes\n").unwrap();

    let (run, _id) = baton.run_plan(
        r#"version: 1
goal: "remove .git"
tasks:
  - id: nogit
    run: "rm -rf .git; echo x > x.txt"
"#,
        &[],
    );
    run.expect_code(FAILED);
    assert_eq!(baton.rev("main").unwrap(), main_before, "main never moves");
    assert_eq!(
        std::fs::read_to_string(baton.path().join("README.md")).unwrap(),
        "my unsaved edit\n"
    );
    let status = baton.git(&["status", "--porcelain"]);
    assert!(status.contains(" M README.md"), "{status}");
    assert!(status.contains("?? notes.txt"), "{status}");
    assert_eq!(
        baton.git(&["symbolic-ref", "--short", "HEAD"]).trim(),
        "main"
    );
}

fn assert_tampering_is_undone(how: &str) {
    let baton = Baton::new();
    let plan = format!(
        r#"version: 1
goal: "tamper with the result"
lanes: 2
tasks:
  - id: evil
    run: "echo injected > evil.txt && git add evil.txt && {COMMIT} -m injected && {how}"
    claims: ["evil.txt"]
  - id: good
    run: "echo good > good.txt"
    claims: ["good.txt"]
"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(FAILED);
    let integration = baton.integration(&id);
    assert_eq!(baton.read_at(&integration, "evil.txt"), None);
    assert_eq!(
        baton.read_at(&integration, "good.txt").as_deref(),
        Some("good\n")
    );
    let log = baton.git(&["log", "--format=%s", &integration]);
    assert!(!log.contains("injected"), "never built on: {log}");
    let report = baton.report(&id);
    assert_eq!(task(&report, "evil")["status"], "failed");
    let why = failures(&report, "evil");
    assert!(why.contains("integration branch"), "{why}");
    let tampered = events_of(&baton, &id, "integration.tampered");
    assert!(!tampered.is_empty());
    assert_eq!(tampered[0]["data"]["culprit"], "evil", "{tampered:?}");
}

#[test]
fn a_task_moving_the_integration_branch_with_branch_f_fails_and_the_branch_is_put_back() {
    assert_tampering_is_undone("git branch -f baton/$BATON_RUN_ID/integration HEAD");
}

#[test]
fn a_task_moving_the_integration_branch_with_update_ref_fails_and_the_branch_is_put_back() {
    assert_tampering_is_undone("git update-ref refs/heads/baton/$BATON_RUN_ID/integration HEAD");
}

#[test]
fn a_task_that_tampers_once_then_behaves_merges_without_the_injected_commit() {
    let baton = Baton::new();
    let plan = format!(
        r#"version: 1
goal: "tamper on the first attempt"
tasks:
  - id: sneaky
    run: "if [ $BATON_ATTEMPT = 1 ]; then echo bad > s.txt && git add s.txt && {COMMIT} -m injected && git branch -f baton/$BATON_RUN_ID/integration HEAD; else echo ok > s.txt; fi"
    claims: ["s.txt"]
    retries: 1
"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    let integration = baton.integration(&id);
    assert_eq!(
        baton.read_at(&integration, "s.txt").as_deref(),
        Some("ok\n")
    );
    let log = baton.git(&["log", "--format=%s", &integration]);
    assert!(!log.contains("injected"), "{log}");
}

#[test]
fn refs_a_task_creates_or_moves_do_not_leak_into_the_users_repository() {
    let baton = Baton::new();
    let main_before = baton.rev("main").unwrap();
    // The user has a stash and a branch of their own.
    std::fs::write(baton.path().join("README.md"), "stashed by the user\n").unwrap();
    baton.git(&["stash", "push", "-q", "-m", "users-own"]);
    baton.git(&["branch", "mine"]);

    let plan = format!(
        r#"version: 1
goal: "leave refs behind"
tasks:
  - id: messy
    run: "git checkout -q -b other && echo work > work.txt && git add work.txt && {COMMIT} -m work && git tag v9 && git -c user.name=a -c user.email=a@b tag -a -m annotated v10 && echo tmp > tmp.txt && git add tmp.txt && git -c user.name=a -c user.email=a@b stash push -q && git update-ref refs/heads/main HEAD && git branch -f mine HEAD && git branch baton/sneaky"
    claims: ["work.txt", "tmp.txt"]
"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    // The task's commit made on its own branch is kept and merged.
    assert_eq!(
        baton
            .read_at(&baton.integration(&id), "work.txt")
            .as_deref(),
        Some("work\n")
    );
    assert_eq!(baton.git(&["branch", "--list", "other"]).trim(), "");
    assert_eq!(baton.git(&["tag", "--list"]).trim(), "");
    let stashes = baton.git(&["stash", "list"]);
    assert_eq!(stashes.lines().count(), 1, "{stashes}");
    assert!(stashes.contains("users-own"), "{stashes}");
    assert_eq!(baton.rev("main").unwrap(), main_before, "main is put back");
    assert_eq!(baton.rev("mine").unwrap(), main_before, "mine is put back");
    // baton's own task branch is deleted once merged: only the integration branch is left.
    assert_eq!(baton.baton_refs(), [baton.integration(&id)]);
    let restored = events_of(&baton, &id, "attempt.refs_restored");
    assert_eq!(restored.len(), 1, "{restored:?}");
}

#[test]
fn a_daemon_started_by_a_task_or_a_gate_is_killed_when_it_ends_and_the_events_say_so() {
    let baton = Baton::new();
    let scratch = baton.writable_scratch("daemons");
    // Each daemon says when it has left its group, and its parent waits for that, so the
    // group's own kill cannot get to it first.
    let daemon = |name: &str, secs: u32| {
        let flag = support::sh_path(&scratch.join(name));
        format!(
            "setsid sh -c 'echo up > {flag}; exec sleep {secs}' >/dev/null 2>&1 & \
             while [ ! -s {flag} ]; do sleep 0.01; done"
        )
    };
    let plan = format!(
        r#"version: 1
goal: "leave daemons"
gates:
  leaky: "{gate}"
merge_gates: []
tasks:
  - id: daemon
    run: "{agent}; echo ok > ok.txt"
    gates: [leaky]
"#,
        gate = daemon("gate", 999).replace('"', "\\\""),
        agent = daemon("agent", 1000).replace('"', "\\\""),
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    assert!(
        baton_exec::find_processes_with_env("BATON_RUN_ID", &id).is_empty(),
        "no process of the run survives it"
    );
    let reaped = events_of(&baton, &id, "process.reaped");
    let text = serde_json::to_string(&reaped).unwrap();
    assert!(text.contains("sleep 1000"), "{text}");
    assert!(text.contains("sleep 999"), "{text}");
    assert!(
        text.contains("\"agent\"") && text.contains("gate leaky"),
        "{text}"
    );
}
