#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The temporary repository behaves like a real one.

use baton_testkit::TestRepo;

#[tokio::test]
async fn a_new_test_repository_is_on_main_with_a_readme_commit() {
    let repo = TestRepo::new().await.unwrap();
    assert_eq!(
        repo.git().current_branch().await.unwrap().as_deref(),
        Some("main")
    );
    let readme = repo.read_at("main", "README.md").await.unwrap();
    assert!(readme.unwrap().starts_with("# test"));
    assert!(!repo.git().is_dirty(repo.path()).await.unwrap());
}

#[tokio::test]
async fn written_and_removed_files_show_up_in_the_commits_that_follow() {
    let repo = TestRepo::new().await.unwrap();
    repo.write("src/deep/a.txt", "alpha\n").unwrap();
    let first = repo.commit("add a").await.unwrap();
    repo.remove("src").unwrap();
    repo.remove("no/such/file").unwrap();
    let second = repo.commit("remove src").await.unwrap();
    assert_eq!(
        repo.read_at(first.as_str(), "src/deep/a.txt")
            .await
            .unwrap()
            .as_deref(),
        Some("alpha\n")
    );
    assert_eq!(
        repo.read_at(second.as_str(), "src/deep/a.txt")
            .await
            .unwrap(),
        None
    );
    assert!(repo.write("../escape.txt", "x").is_err());
}

#[tokio::test]
async fn plan_files_live_outside_the_repository() {
    let repo = TestRepo::new().await.unwrap();
    let plan = repo
        .write_plan("plan.yaml", "version: 1\ngoal: g\ntasks: []\n")
        .unwrap();
    assert!(!plan.starts_with(repo.path()));
    assert_eq!(
        std::fs::read_to_string(&plan).unwrap(),
        "version: 1\ngoal: g\ntasks: []\n"
    );
    assert!(!repo.git().is_dirty(repo.path()).await.unwrap());
}
