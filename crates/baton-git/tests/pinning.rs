#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A lane whose `.git` link a task deleted or rewrote: baton's git commands must never fall
//! through to a repository around the lane (a version-controlled home directory, the user's
//! own checkout).

mod common;

use baton_git::{GitError, LanePool};
use common::{Fixture, git_in};

/// Makes the fixture's temporary directory (which holds the lane pool) a git repository of its
/// own with a committed file and an uncommitted edit to it, like a home directory kept in git.
fn outer_repository(fx: &Fixture) -> std::path::PathBuf {
    let outer = fx.tmp.path().to_path_buf();
    git_in(fx.home.path(), &outer, &["init", "-q", "-b", "dotfiles"]);
    std::fs::write(outer.join(".profile"), "committed\n").unwrap();
    git_in(fx.home.path(), &outer, &["add", ".profile"]);
    git_in(
        fx.home.path(),
        &outer,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "dotfiles",
        ],
    );
    std::fs::write(outer.join(".profile"), "work in progress\n").unwrap();
    outer
}

fn assert_outer_untouched(fx: &Fixture, outer: &std::path::Path) {
    assert_eq!(
        std::fs::read_to_string(outer.join(".profile")).unwrap(),
        "work in progress\n",
        "the uncommitted edit of the surrounding repository must survive"
    );
    let branch = git_in(fx.home.path(), outer, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(
        branch.trim(),
        "dotfiles",
        "its HEAD must stay on its branch"
    );
    let log = git_in(fx.home.path(), outer, &["log", "--oneline"]);
    assert_eq!(
        log.lines().count(),
        1,
        "no commit may be added to it: {log}"
    );
}

#[tokio::test]
async fn a_lane_without_its_git_file_is_broken_and_nothing_around_it_is_touched() {
    let fx = Fixture::new().await;
    let outer = outer_repository(&fx);
    let start = fx.git.resolve_commit("main").await.unwrap().unwrap();
    let pool = LanePool::new(fx.git.clone(), fx.lanes());
    let lane = pool
        .prepare("lane-1", Some("baton/t1"), &start)
        .await
        .unwrap();

    // What `rm -rf ./* ./.[!.]*` in a task does to the lane.
    std::fs::remove_file(lane.path.join(".git")).unwrap();
    std::fs::write(lane.path.join("new.txt"), "task output\n").unwrap();

    let head = fx.git.head(&lane.path).await;
    assert!(matches!(head, Err(GitError::LaneBroken { .. })), "{head:?}");
    let commit = fx.git.commit_all(&lane.path, "work").await;
    match commit {
        Err(GitError::LaneBroken { ref why, .. }) => assert!(why.contains(".git"), "{why}"),
        other => panic!("expected a broken lane, got {other:?}"),
    }
    let released = pool.release("lane-1").await;
    assert!(
        matches!(released, Err(GitError::LaneBroken { .. })),
        "{released:?}"
    );
    assert_outer_untouched(&fx, &outer);

    // The pool rebuilds the lane on its next use.
    let again = pool
        .prepare("lane-1", Some("baton/t1"), &start)
        .await
        .unwrap();
    assert!(!again.reused, "a broken lane is added again, not reused");
    assert_eq!(fx.git.head(&again.path).await.unwrap(), start);
    assert!(!again.path.join("new.txt").exists());
    assert_outer_untouched(&fx, &outer);
}

#[tokio::test]
async fn a_lane_whose_git_file_points_at_the_main_repository_is_refused() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let start = fx.git.resolve_commit("main").await.unwrap().unwrap();
    std::fs::write(repo.join("wip.txt"), "uncommitted work\n").unwrap();
    let pool = LanePool::new(fx.git.clone(), fx.lanes());
    let lane = pool
        .prepare("lane-1", Some("baton/t1"), &start)
        .await
        .unwrap();

    let main_git = repo.join(".git");
    std::fs::write(
        lane.path.join(".git"),
        format!("gitdir: {}\n", main_git.display()),
    )
    .unwrap();
    let commit = fx.git.commit_all(&lane.path, "work").await;
    assert!(
        matches!(commit, Err(GitError::LaneBroken { .. })),
        "{commit:?}"
    );
    // Released lanes that are broken fall back to a rebuild: same for the fast path.
    let prepared = pool
        .prepare_released("lane-1", Some("baton/t1"), &start)
        .await
        .unwrap();
    assert!(!prepared.reused);

    assert_eq!(fx.git.resolve_commit("main").await.unwrap().unwrap(), start);
    let status = git_in(fx.home.path(), &repo, &["status", "--porcelain"]);
    assert_eq!(
        status.trim(),
        "?? wip.txt",
        "the user's checkout is untouched"
    );
    let branch = git_in(fx.home.path(), &repo, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(branch.trim(), "main");
}
