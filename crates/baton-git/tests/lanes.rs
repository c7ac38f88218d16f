#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The lane pool on real temporary repositories.

mod common;

use baton_git::{GitError, LanePool};
use common::Fixture;

fn pool(fx: &Fixture) -> LanePool {
    LanePool::new(fx.git.clone(), fx.lanes())
}

#[tokio::test]
async fn a_lane_is_added_fresh_then_reused_clean_at_the_new_start() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let first = fx.commit_files(&repo, &[("tracked.txt", "v1"), ("other.txt", "o")], "first");
    let pool = pool(&fx);

    let lane = pool
        .prepare("lane-1", Some("baton/t1"), &first)
        .await
        .unwrap();
    assert!(!lane.reused);
    assert_eq!(lane.path, pool.lane_path("lane-1"));
    assert_eq!(fx.git.head(&lane.path).await.unwrap(), first);

    // An agent leaves a mess behind.
    std::fs::write(lane.path.join("tracked.txt"), "modified").unwrap();
    std::fs::remove_file(lane.path.join("other.txt")).unwrap();
    std::fs::write(lane.path.join("untracked.txt"), "junk").unwrap();
    std::fs::create_dir_all(lane.path.join("build/out")).unwrap();
    std::fs::write(lane.path.join("build/out/x.o"), "obj").unwrap();
    std::fs::write(lane.path.join("staged.txt"), "staged").unwrap();
    fx.git(&lane.path, &["add", "staged.txt"]);

    let second = fx.commit_files(&repo, &[("tracked.txt", "v2")], "second");
    let again = pool
        .prepare("lane-1", Some("baton/t2"), &second)
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.path, lane.path);
    assert_eq!(fx.git.head(&again.path).await.unwrap(), second);
    assert!(!fx.git.is_dirty(&again.path).await.unwrap());
    let branch = fx.git(&again.path, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(branch.trim(), "baton/t2");
    assert_eq!(
        std::fs::read_to_string(again.path.join("tracked.txt")).unwrap(),
        "v2"
    );
    assert!(again.path.join("other.txt").exists());
    assert!(!again.path.join("untracked.txt").exists());
    assert!(!again.path.join("build").exists());
    assert!(!again.path.join("staged.txt").exists());

    // Detached reuse works too.
    let detached = pool.prepare("lane-1", None, &first).await.unwrap();
    assert!(detached.reused);
    assert_eq!(fx.git.head(&detached.path).await.unwrap(), first);
    let worktrees = fx.git.worktrees().await.unwrap();
    let info = worktrees.iter().find(|w| w.path == detached.path).unwrap();
    assert!(info.detached);
    assert_eq!(info.branch, None);
    assert_eq!(pool.list().await.unwrap(), ["lane-1"]);
}

#[tokio::test]
async fn releasing_a_lane_frees_its_branch_for_another_lane() {
    let fx = Fixture::new().await;
    let start = fx.git.head(&fx.repo()).await.unwrap();
    let pool = pool(&fx);
    let a = pool
        .prepare("a", Some("baton/shared"), &start)
        .await
        .unwrap();
    std::fs::write(a.path.join("left.txt"), "left over").unwrap();

    let err = pool
        .prepare("b", Some("baton/shared"), &start)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GitError::BranchCheckedOutElsewhere { branch, other, .. } if branch == "baton/shared" && *other == a.path),
        "{err:?}"
    );
    assert!(err.to_string().contains("baton/shared"));

    pool.release("a").await.unwrap();
    assert!(!a.path.join("left.txt").exists());
    assert_eq!(
        fx.git(&a.path, &["rev-parse", "HEAD"]).trim(),
        start.as_str()
    );
    let b = pool
        .prepare("b", Some("baton/shared"), &start)
        .await
        .unwrap();
    assert!(!b.reused);
    let branch = fx.git(&b.path, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(branch.trim(), "baton/shared");
    assert_eq!(pool.list().await.unwrap(), ["a", "b"]);

    let err = pool.release("missing").await.unwrap_err();
    assert!(matches!(err, GitError::LaneNotFound { .. }), "{err:?}");
    let err = pool.prepare("../escape", None, &start).await.unwrap_err();
    assert!(matches!(err, GitError::InvalidLaneName { .. }), "{err:?}");
}

#[tokio::test]
async fn remove_and_prune_foreign_leave_only_the_main_worktree() {
    let fx = Fixture::new().await;
    let start = fx.git.head(&fx.repo()).await.unwrap();
    let pool = pool(&fx);
    for name in ["one", "two", "three"] {
        pool.prepare(name, None, &start).await.unwrap();
    }
    std::fs::create_dir_all(fx.lanes().join("stray/deep")).unwrap();
    std::fs::write(fx.lanes().join("note.txt"), "not a dir").unwrap();

    pool.remove("one").await.unwrap();
    assert!(!pool.lane_path("one").exists());
    assert_eq!(pool.list().await.unwrap(), ["three", "two"]);

    let removed = pool.prune_foreign(&["two".to_owned()]).await.unwrap();
    let mut removed: Vec<_> = removed
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    removed.sort();
    assert_eq!(removed, ["stray", "three"]);
    assert_eq!(pool.list().await.unwrap(), ["two"]);
    assert!(fx.lanes().join("note.txt").exists());

    let removed = pool.prune_foreign(&[]).await.unwrap();
    assert_eq!(removed, [pool.lane_path("two")]);
    let worktrees = fx.git.worktrees().await.unwrap();
    assert_eq!(worktrees.len(), 1);
    assert_eq!(worktrees[0].path, fx.repo());
    assert_eq!(worktrees[0].branch.as_deref(), Some("main"));
}

#[tokio::test]
async fn a_stray_directory_in_place_of_a_lane_is_replaced() {
    let fx = Fixture::new().await;
    let start = fx.git.head(&fx.repo()).await.unwrap();
    let pool = pool(&fx);
    let stray = pool.lane_path("lane");
    std::fs::create_dir_all(stray.join("junk")).unwrap();
    std::fs::write(stray.join("junk/file"), "x").unwrap();

    let lane = pool.prepare("lane", None, &start).await.unwrap();
    assert!(!lane.reused);
    assert!(!lane.path.join("junk").exists());
    assert!(lane.path.join("README.md").exists());
    assert_eq!(fx.git.head(&lane.path).await.unwrap(), start);
}

#[tokio::test]
async fn a_lane_whose_directory_vanished_is_added_again() {
    let fx = Fixture::new().await;
    let start = fx.git.head(&fx.repo()).await.unwrap();
    let pool = pool(&fx);
    let lane = pool.prepare("lane", Some("baton/x"), &start).await.unwrap();
    std::fs::remove_dir_all(&lane.path).unwrap();

    let again = pool.prepare("lane", Some("baton/x"), &start).await.unwrap();
    assert!(!again.reused);
    assert_eq!(fx.git.head(&again.path).await.unwrap(), start);
    assert_eq!(fx.git.worktrees().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_released_lane_moves_to_a_new_start_on_the_fast_path() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let first = fx.commit_files(&repo, &[("a.txt", "1")], "first");
    let pool = pool(&fx);
    let lane = pool
        .prepare("lane-1", Some("baton/t1"), &first)
        .await
        .unwrap();
    std::fs::write(lane.path.join("junk.txt"), "junk").unwrap();
    std::fs::write(lane.path.join("a.txt"), "modified").unwrap();
    std::fs::write(lane.path.join("staged.txt"), "staged").unwrap();
    fx.git(&lane.path, &["add", "staged.txt"]);
    pool.release("lane-1").await.unwrap();
    assert!(!fx.git.is_dirty(&lane.path).await.unwrap());
    assert!(!lane.path.join("staged.txt").exists());

    let second = fx.commit_files(&repo, &[("a.txt", "2"), ("b.txt", "b")], "second");
    let again = pool
        .prepare_released("lane-1", Some("baton/t2"), &second)
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(fx.git.head(&again.path).await.unwrap(), second);
    assert!(!fx.git.is_dirty(&again.path).await.unwrap());
    let branch = fx.git(&again.path, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(branch.trim(), "baton/t2");
    assert_eq!(
        std::fs::read_to_string(again.path.join("a.txt")).unwrap(),
        "2"
    );
    assert!(again.path.join("b.txt").exists());
    assert!(!again.path.join("junk.txt").exists());

    // A lane that does not exist yet is added by the fallback.
    let fresh = pool.prepare_released("lane-2", None, &first).await.unwrap();
    assert!(!fresh.reused);
    assert_eq!(fx.git.head(&fresh.path).await.unwrap(), first);
}

#[tokio::test]
async fn lanes_added_at_the_same_moment_all_succeed() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let first = fx.commit_files(&repo, &[("a.txt", "1")], "first");
    let pool = pool(&fx);
    let names: Vec<String> = (1..=6).map(|n| format!("lane-{n}")).collect();
    let adds = names.into_iter().enumerate().map(|(n, name)| {
        let pool = pool.clone();
        let first = first.clone();
        let branch = format!("baton/t{n}");
        async move { pool.prepare(&name, Some(&branch), &first).await }
    });
    for result in futures_join_all(adds).await {
        result.unwrap();
    }
    assert_eq!(pool.list().await.unwrap().len(), 6);
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_warm_lane_keeps_its_ignored_build_caches_and_removes_everything_else() {
    let fx = Fixture::new().await;
    let repo = fx.repo();
    let start = fx.commit_files(
        &repo,
        &[
            (".gitignore", "target/\n*.log\nnode_modules/\n"),
            ("src.txt", "v1"),
        ],
        "ignore build outputs",
    );
    let pool = pool(&fx).keep(vec!["target".into(), "node_modules".into(), ".venv".into()]);
    let lane = pool
        .prepare("lane-1", Some("baton/t1"), &start)
        .await
        .unwrap();
    let put = |rel: &str| {
        let path = lane.path.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
    };
    put("target/debug/app");
    put("web/node_modules/lib/index.js");
    put("build.log");
    put("junk.txt");
    // Named like a cache, but not ignored by the repository: it goes like any untracked file.
    put(".venv/bin/python");
    std::fs::write(lane.path.join("src.txt"), "changed").unwrap();

    pool.release("lane-1").await.unwrap();
    assert!(
        lane.path.join("target/debug/app").exists(),
        "the build cache stays"
    );
    assert!(lane.path.join("web/node_modules/lib/index.js").exists());
    assert!(
        !lane.path.join("build.log").exists(),
        "other ignored files go"
    );
    assert!(!lane.path.join("junk.txt").exists());
    assert!(!lane.path.join(".venv").exists(), "not ignored: removed");
    assert_eq!(
        std::fs::read_to_string(lane.path.join("src.txt")).unwrap(),
        "v1"
    );
    assert!(!fx.git.is_dirty(&lane.path).await.unwrap());

    // The next task's prepare keeps it too; a pool that keeps nothing is pristine.
    let next = pool
        .prepare("lane-1", Some("baton/t2"), &start)
        .await
        .unwrap();
    assert!(next.path.join("target/debug/app").exists());
    let pristine = self::pool(&fx);
    pristine.release("lane-1").await.unwrap();
    assert!(!lane.path.join("target").exists());
    assert!(!lane.path.join("web/node_modules").exists());
}
