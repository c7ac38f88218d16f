#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Creating repositories and reading files out of commits.

mod common;

use baton_git::Git;
use common::isolate;

#[tokio::test]
async fn a_new_repository_is_on_the_requested_branch_and_its_commits_can_be_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh/repo");
    let git = isolate(Git::init(&dir, "trunk").await.unwrap(), home.path());
    assert_eq!(
        std::fs::canonicalize(git.root()).unwrap(),
        std::fs::canonicalize(&dir).unwrap()
    );
    assert_eq!(
        git.current_branch().await.unwrap().as_deref(),
        Some("trunk")
    );
    assert_eq!(git.resolve_commit("HEAD").await.unwrap(), None);

    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/a.txt"), "alpha\n").unwrap();
    let first = git.commit_all(git.root(), "first").await.unwrap();
    std::fs::write(dir.join("src/a.txt"), "beta\n").unwrap();
    git.commit_all(git.root(), "second").await.unwrap();

    let old = git.show_file(first.as_str(), "src/a.txt").await.unwrap();
    assert_eq!(old.as_deref(), Some(&b"alpha\n"[..]));
    let new = git.show_file("trunk", "src/a.txt").await.unwrap();
    assert_eq!(new.as_deref(), Some(&b"beta\n"[..]));
    assert_eq!(git.show_file("trunk", "src/missing").await.unwrap(), None);
    assert_eq!(git.show_file("trunk", "src").await.unwrap(), None);
    assert!(git.show_file("no-such-branch", "src/a.txt").await.is_err());

    // Initialising again keeps the history.
    let again = Git::init(&dir, "trunk").await.unwrap();
    assert!(again.resolve_commit("trunk").await.unwrap().is_some());
}
