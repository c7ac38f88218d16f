#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Repository-level operations on real temporary repositories.

mod common;

use baton_git::{Git, GitError, MergeCheck, Oid};
use common::Fixture;

#[tokio::test]
async fn discovering_a_plain_directory_gives_not_a_repository_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = Git::discover(dir.path()).await.unwrap_err();
    assert!(
        matches!(&err, GitError::NotARepository { path } if path == dir.path()),
        "{err:?}"
    );
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[tokio::test]
async fn discovering_from_a_subdirectory_or_a_linked_worktree_finds_the_main_worktree() {
    let fx = Fixture::new().await;
    let sub = fx.repo().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(Git::discover(&sub).await.unwrap().root(), fx.repo());
    let linked = fx.tmp.path().join("linked");
    fx.git(
        &fx.repo(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            linked.to_str().unwrap(),
        ],
    );
    assert_eq!(Git::discover(&linked).await.unwrap().root(), fx.repo());
}

#[tokio::test]
async fn the_common_git_dir_is_the_main_worktrees_dot_git_even_from_a_linked_worktree() {
    let fx = Fixture::new().await;
    let linked = fx.tmp.path().join("linked-common");
    fx.git(
        &fx.repo(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            linked.to_str().unwrap(),
        ],
    );
    let dot_git = fx.repo().join(".git").canonicalize().unwrap();
    let from_main = Git::discover(&fx.repo()).await.unwrap();
    let from_linked = Git::discover(&linked).await.unwrap();
    assert_eq!(from_main.common_dir().canonicalize().unwrap(), dot_git);
    assert_eq!(from_linked.common_dir().canonicalize().unwrap(), dot_git);
}

#[tokio::test]
async fn the_installed_git_is_new_enough() {
    let (major, minor) = Git::check_version().await.unwrap();
    assert!((major, minor) >= (2, 38));
}

#[tokio::test]
async fn missing_commits_and_branches_are_reported_as_absent() {
    let fx = Fixture::new().await;
    let git = &fx.git;
    let head = git.resolve_commit("HEAD").await.unwrap().unwrap();
    assert_eq!(
        git.resolve_commit("main").await.unwrap(),
        Some(head.clone())
    );
    assert_eq!(git.resolve_commit("no-such-branch").await.unwrap(), None);
    assert_eq!(git.resolve_commit("--all").await.unwrap(), None);
    assert!(git.branch_exists("main").await.unwrap());
    assert!(!git.branch_exists("no-such-branch").await.unwrap());
    assert!(!git.branch_exists("bad..name").await.unwrap());
    assert_eq!(git.current_branch().await.unwrap().as_deref(), Some("main"));
    fx.git(&fx.repo(), &["checkout", "-q", "--detach"]);
    assert_eq!(git.current_branch().await.unwrap(), None);
    assert_eq!(git.head(&fx.repo()).await.unwrap(), head);
}

#[tokio::test]
async fn update_ref_is_a_compare_and_swap() {
    let fx = Fixture::new().await;
    let git = &fx.git;
    let first = git.head(&fx.repo()).await.unwrap();
    let second = fx.commit_files(&fx.repo(), &[("a.txt", "a")], "second");
    let name = "refs/baton/runs/r1";

    git.update_ref(name, &first, None).await.unwrap();
    let err = git.update_ref(name, &second, None).await.unwrap_err();
    assert!(
        matches!(&err, GitError::RefMoved { refname, expected: None, actual: Some(a) } if refname == name && *a == first),
        "{err:?}"
    );
    git.update_ref(name, &second, Some(&first)).await.unwrap();
    let err = git
        .update_ref(name, &first, Some(&first))
        .await
        .unwrap_err();
    assert!(matches!(err, GitError::RefMoved { .. }), "{err:?}");
    assert!(err.to_string().contains(name));
    assert_eq!(git.ref_value(name).await.unwrap(), Some(second.clone()));

    git.update_ref("refs/baton/runs/r2", &first, None)
        .await
        .unwrap();
    git.update_ref("refs/batonx/other", &first, None)
        .await
        .unwrap();
    let refs = git.refs_under("refs/baton/").await.unwrap();
    assert_eq!(
        refs,
        [
            ("refs/baton/runs/r1".to_owned(), second.clone()),
            ("refs/baton/runs/r2".to_owned(), first.clone())
        ]
    );
    git.delete_ref(name).await.unwrap();
    assert_eq!(git.ref_value(name).await.unwrap(), None);
    assert_eq!(git.refs_under("refs/baton/").await.unwrap().len(), 1);
}

#[tokio::test]
async fn commit_all_records_new_modified_and_deleted_files_without_a_configured_identity() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let before = fx.commit_files(&repo, &[("old.txt", "old"), ("keep.txt", "v1")], "base");
    assert!(!fx.git.is_dirty(&repo).await.unwrap());
    std::fs::remove_file(repo.join("old.txt")).unwrap();
    std::fs::write(repo.join("keep.txt"), "v2").unwrap();
    std::fs::write(repo.join("new file.txt"), "new").unwrap();
    assert!(fx.git.is_dirty(&repo).await.unwrap());

    let after = fx.git.commit_all(&repo, "agent work").await.unwrap();
    assert!(!fx.git.is_dirty(&repo).await.unwrap());
    assert_eq!(fx.git.head(&repo).await.unwrap(), after);
    let mut changed = fx.git.changed_paths(&before, &after).await.unwrap();
    changed.sort();
    assert_eq!(changed, ["keep.txt", "new file.txt", "old.txt"]);
    let ident = fx.git(&repo, &["log", "-1", "--format=%an <%ae>|%s"]);
    assert_eq!(ident.trim(), "baton <baton@localhost>|agent work");

    // Nothing to commit still makes a commit.
    let empty = fx.git.commit_all(&repo, "empty").await.unwrap();
    assert!(fx.git.is_ancestor(&after, &empty).await.unwrap());
    assert!(!fx.git.is_ancestor(&empty, &after).await.unwrap());
}

#[tokio::test]
async fn commit_all_keeps_the_identity_the_repository_configures() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    fx.git(&repo, &["config", "user.name", "Dev"]);
    fx.git(&repo, &["config", "user.email", "dev@example.com"]);
    std::fs::write(repo.join("x"), "x").unwrap();
    fx.git.commit_all(&repo, "mine").await.unwrap();
    let ident = fx.git(&repo, &["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(ident.trim(), "Dev <dev@example.com>");
}

#[tokio::test]
async fn changed_paths_lists_both_sides_of_renames_and_odd_names() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let content = "a fairly long line so that rename detection would match\n".repeat(20);
    let before = fx.commit_files(
        &repo,
        &[
            ("dir/from.txt", &content),
            ("mod.txt", "1"),
            ("gone.txt", "g"),
        ],
        "base",
    );
    std::fs::rename(repo.join("dir/from.txt"), repo.join("dir/to.txt")).unwrap();
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    let after = fx.commit_files(
        &repo,
        &[
            ("mod.txt", "2"),
            ("with space.txt", "s"),
            ("new\nline.txt", "n"),
        ],
        "change",
    );
    let mut changed = fx.git.changed_paths(&before, &after).await.unwrap();
    changed.sort();
    assert_eq!(
        changed,
        [
            "dir/from.txt",
            "dir/to.txt",
            "gone.txt",
            "mod.txt",
            "new\nline.txt",
            "with space.txt"
        ]
    );
}

#[tokio::test]
async fn a_clean_merge_can_be_committed_with_two_parents() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let base = fx.commit_files(&repo, &[("a.txt", "a\n"), ("b.txt", "b\n")], "base");
    let ours = fx.commit_files(&repo, &[("a.txt", "a changed\n")], "ours");
    fx.git(&repo, &["checkout", "-q", "-b", "side", base.as_str()]);
    let theirs = fx.commit_files(&repo, &[("b.txt", "b changed\n")], "theirs");

    let MergeCheck::Clean { tree } = fx.git.merge_tree(&ours, &theirs).await.unwrap() else {
        panic!("expected a clean merge");
    };
    let merge = fx
        .git
        .commit_tree(&tree, &[ours.clone(), theirs.clone()], "merge side")
        .await
        .unwrap();
    let parents = fx.git(&repo, &["log", "-1", "--format=%P", merge.as_str()]);
    assert_eq!(parents.trim(), format!("{ours} {theirs}"));
    let a = fx.git(&repo, &["show", &format!("{merge}:a.txt")]);
    let b = fx.git(&repo, &["show", &format!("{merge}:b.txt")]);
    assert_eq!((a.as_str(), b.as_str()), ("a changed\n", "b changed\n"));
    let author = fx.git(&repo, &["log", "-1", "--format=%ae", merge.as_str()]);
    assert_eq!(author.trim(), "baton@localhost");
}

#[tokio::test]
async fn conflicting_changes_are_reported_with_their_paths() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let base = fx.commit_files(
        &repo,
        &[
            ("same.txt", "base\n"),
            ("other file.txt", "o\n"),
            ("ok.txt", "k\n"),
        ],
        "base",
    );
    let ours = fx.commit_files(
        &repo,
        &[("same.txt", "ours\n"), ("other file.txt", "ours\n")],
        "ours",
    );
    fx.git(&repo, &["checkout", "-q", "-b", "side", base.as_str()]);
    let theirs = fx.commit_files(
        &repo,
        &[
            ("same.txt", "theirs\n"),
            ("other file.txt", "theirs\n"),
            ("ok.txt", "fine\n"),
        ],
        "theirs",
    );
    let check = fx.git.merge_tree(&ours, &theirs).await.unwrap();
    let MergeCheck::Conflicted { mut paths, .. } = check else {
        panic!("expected a conflict, got {check:?}");
    };
    paths.sort();
    assert_eq!(paths, ["other file.txt", "same.txt"]);
}

#[tokio::test]
async fn commits_are_listed_newest_first_with_their_trailers() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let base = fx.git.head(&repo).await.unwrap();
    let first = fx.commit_files(&repo, &[("1", "1")], "plain subject");
    std::fs::write(repo.join("2"), "2").unwrap();
    let message = "Task two done\n\nBody text: not a trailer.\n\nBaton-Run: x\nBaton-Task: y";
    let second = fx.git.commit_all(&repo, message).await.unwrap();

    let commits = fx.git.commits(&format!("{base}..{second}")).await.unwrap();
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0].oid, second);
    assert_eq!(commits[0].parents, std::slice::from_ref(&first));
    assert_eq!(commits[0].subject, "Task two done");
    assert_eq!(
        commits[0].trailers,
        [
            ("Baton-Run".to_owned(), "x".to_owned()),
            ("Baton-Task".to_owned(), "y".to_owned())
        ]
    );
    assert_eq!(commits[0].trailer("baton-task"), Some("y"));
    assert_eq!(commits[1].oid, first);
    assert_eq!(commits[1].subject, "plain subject");
    assert!(commits[1].trailers.is_empty());
    assert!(
        fx.git
            .commits(&format!("{second}..{second}"))
            .await
            .unwrap()
            .is_empty()
    );
    let oid: Result<Oid, _> = "not-an-oid".parse();
    assert!(matches!(oid, Err(GitError::InvalidOid { .. })));
}

#[tokio::test]
async fn tracked_files_lists_the_index_not_untracked_files_with_odd_names_intact() {
    let fx = Fixture::new().await;
    fx.commit_files(
        &fx.repo(),
        &[("src/a b.rs", "x\n"), ("src/ünï.rs", "y\n")],
        "odd names",
    );
    std::fs::write(fx.repo().join("untracked.txt"), "z\n").unwrap();
    std::fs::write(fx.repo().join("staged.txt"), "s\n").unwrap();
    fx.git(&fx.repo(), &["add", "staged.txt"]);
    let files = fx.git.tracked_files(&fx.repo()).await.unwrap();
    assert!(files.contains(&"src/a b.rs".to_owned()), "{files:?}");
    assert!(files.contains(&"src/ünï.rs".to_owned()), "{files:?}");
    assert!(files.contains(&"staged.txt".to_owned()), "{files:?}");
    assert!(!files.contains(&"untracked.txt".to_owned()), "{files:?}");
}

#[tokio::test]
async fn the_worktree_top_of_a_linked_worktree_is_that_worktree_not_the_main_one() {
    let fx = Fixture::new().await;
    let linked = fx.tmp.path().join("linked-top");
    fx.git(
        &fx.repo(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            linked.to_str().unwrap(),
        ],
    );
    let sub = linked.join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    let git = Git::discover(&sub).await.unwrap();
    let top = git.worktree_top(&sub).await.unwrap();
    assert_eq!(top.canonicalize().unwrap(), linked.canonicalize().unwrap());
    assert_eq!(git.root(), fx.repo());
    assert!(!git.tracked_files(&top).await.unwrap().is_empty());
}
