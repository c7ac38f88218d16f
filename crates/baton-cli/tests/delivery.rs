#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `--into BRANCH` when BRANCH is checked out: local changes the fast-forward does not touch
//! (the quick start's untracked `plan.yaml`) do not stop it and are kept; a change it would
//! overwrite leaves BRANCH alone and says why; a BRANCH already at the result (a previous
//! engine moved it, then died before writing that down) counts as delivered.

mod support;

use support::{Baton, OK, sh_path};

const ONE_FILE: &str = r#"version: 1
goal: "deliver one file"
tasks:
  - id: deliver
    run: "echo delivered > delivered.txt"
    claims: ["delivered.txt"]
"#;

#[test]
fn an_untracked_plan_in_the_checkout_does_not_stop_into_main() {
    let baton = Baton::new();
    baton.repo.write("plan.yaml", ONE_FILE).unwrap();
    baton.repo.write("notes.txt", "mine\n").unwrap();
    let run = baton.baton(&["run", "--plan", "plan.yaml", "--into", "main"]);
    run.expect_code(OK);
    let id = baton.run_ids()[0].clone();

    let head = baton.rev(&baton.integration(&id)).unwrap();
    assert_eq!(
        baton.rev("main").unwrap(),
        head,
        "main should have moved:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("main now points at"), "{}", run.stderr);
    let read = |rel: &str| std::fs::read_to_string(baton.path().join(rel)).unwrap();
    assert_eq!(read("delivered.txt"), "delivered\n");
    assert_eq!(read("plan.yaml"), ONE_FILE, "the untracked plan is kept");
    assert_eq!(read("notes.txt"), "mine\n", "untracked notes are kept");
    assert_eq!(
        baton.git(&["status", "--porcelain"]),
        "?? notes.txt\n?? plan.yaml\n"
    );
}

#[test]
fn an_edit_to_a_file_the_result_does_not_change_does_not_stop_into_main() {
    let baton = Baton::new();
    std::fs::write(baton.path().join("README.md"), "edited, not committed\n").unwrap();
    let (run, id) = baton.run_plan(ONE_FILE, &["--into", "main"]);
    run.expect_code(OK);
    assert_eq!(
        baton.rev("main").unwrap(),
        baton.rev(&baton.integration(&id)).unwrap(),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(baton.path().join("README.md")).unwrap(),
        "edited, not committed\n"
    );
}

#[test]
fn an_untracked_file_where_the_result_adds_one_leaves_main_alone_and_says_why() {
    let baton = Baton::new();
    let before = baton.rev("main").unwrap();
    baton.repo.write("delivered.txt", "my own\n").unwrap();
    let (run, id) = baton.run_plan(ONE_FILE, &["--into", "main"]);
    run.expect_code(OK);
    assert_eq!(baton.rev("main").unwrap(), before, "main must stay");
    assert_eq!(baton.status(&id)["status"], "completed");
    assert!(
        run.stderr.contains("main was left alone")
            && run.stderr.contains("would overwrite")
            && run.stderr.contains("delivered.txt"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(baton.path().join("delivered.txt")).unwrap(),
        "my own\n"
    );
}

#[test]
fn a_branch_already_at_the_result_counts_as_delivered() {
    // The merge gate moves main (with its files) to the would-be merge, which becomes the
    // integration head: as if an engine had delivered, then died before recording it.
    let baton = Baton::new();
    // The gate writes into the user's checkout, which confinement forbids: this test is about
    // delivery, so it turns confinement off (in an untracked, git-ignored baton.toml).
    std::fs::write(
        baton.path().join("baton.toml"),
        "[sandbox]\nconfine = false\n",
    )
    .unwrap();
    std::fs::write(baton.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    let plan = format!(
        r#"version: 1
goal: "deliver into a branch already at the result"
gates:
  early: "git -C {repo} merge --ff-only -q \"$(git rev-parse HEAD)\""
merge_gates: [early]
tasks:
  - id: deliver
    run: "echo delivered > delivered.txt"
    claims: ["delivered.txt"]
"#,
        repo = sh_path(baton.path())
    );
    let (run, id) = baton.run_plan(&plan, &["--into", "main"]);
    run.expect_code(OK);
    let head = baton.rev(&baton.integration(&id)).unwrap();
    assert_eq!(baton.rev("main").unwrap(), head);
    assert!(
        run.stderr.contains("main now points at") && !run.stderr.contains("left alone"),
        "{}",
        run.stderr
    );
}
