#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A task that commits inside a submodule: the commit lives only in the lane's private copy of
//! the submodule, so baton refuses to merge a gitlink to it (and says why) instead of merging a
//! pointer to a commit that is lost with the lane.

mod support;

use support::{Baton, FAILED, OK, git_at, task};

/// A repository `lib` added to the fixture's repository as submodule `sub`.
fn with_submodule(baton: &Baton) -> std::path::PathBuf {
    let lib = baton.repo.tmp().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    git_at(&lib, &["init", "-q", "-b", "main"]);
    std::fs::write(lib.join("lib.txt"), "v1\n").unwrap();
    git_at(&lib, &["add", "lib.txt"]);
    git_at(&lib, &["commit", "-qm", "lib v1"]);
    git_at(
        baton.path(),
        &["submodule", "add", "-q", lib.to_str().unwrap(), "sub"],
    );
    git_at(baton.path(), &["commit", "-qm", "add the submodule"]);
    lib
}

const COMMIT: &str = "git -c user.name=a -c user.email=a@b commit -qm";

#[test]
fn a_commit_made_inside_a_lanes_submodule_is_refused_with_the_reason() {
    let baton = Baton::new();
    with_submodule(&baton);
    let plan = format!(
        r#"version: 1
goal: "commit inside the submodule"
tasks:
  - id: bump
    run: "git -c protocol.file.allow=always submodule update -q --init sub && cd sub && echo v2 > lib.txt && git add lib.txt && {COMMIT} v2 && cd .. && git add sub"
"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(FAILED);
    let report = baton.report(&id);
    let why = task(&report, "bump")["attempts"][0]["failure"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(why.contains("submodule") && why.contains("sub ->"), "{why}");
    assert_eq!(baton.rev(&baton.integration(&id)), baton.rev("main"));
}

#[test]
fn a_submodule_commit_the_main_checkout_already_has_merges() {
    let baton = Baton::new();
    let lib = with_submodule(&baton);
    // The new commit exists upstream and in the main checkout's copy of the submodule.
    std::fs::write(lib.join("lib.txt"), "v2\n").unwrap();
    git_at(&lib, &["commit", "-qam", "lib v2"]);
    let v2 = git_at(&lib, &["rev-parse", "HEAD"]).trim().to_string();
    git_at(&baton.path().join("sub"), &["fetch", "-q", "origin"]);
    let plan = format!(
        r#"version: 1
goal: "move the submodule to a published commit"
tasks:
  - id: bump
    run: "git -c protocol.file.allow=always submodule update -q --init sub && git -C sub fetch -q origin && git -C sub checkout -q {v2} && git add sub"
"#
    );
    let (run, id) = baton.run_plan(&plan, &[]);
    run.expect_code(OK);
    let tree = baton.git(&["ls-tree", &baton.integration(&id), "sub"]);
    assert!(tree.contains(&v2), "{tree}");
}
