//! A real temporary repository with isolated git configuration (no identity configured).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use baton_git::{Git, Oid};
use tempfile::TempDir;

/// A temporary directory holding `repo/` (main worktree, branch `main`) and room for lanes.
pub struct Fixture {
    pub tmp: TempDir,
    pub home: TempDir,
    pub git: Git,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        git_in(home.path(), &repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("README.md"), "hello\n").unwrap();
        git_in(home.path(), &repo, &["add", "-A"]);
        commit(home.path(), &repo, "initial");
        let git = isolate(Git::discover(&repo).await.unwrap(), home.path());
        Fixture { tmp, home, git }
    }

    pub fn repo(&self) -> PathBuf {
        self.git.root().to_path_buf()
    }

    pub fn lanes(&self) -> PathBuf {
        self.tmp.path().join("lanes")
    }

    /// Runs git in `dir` with the isolated configuration; panics on failure; returns stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        git_in(self.home.path(), dir, args)
    }

    /// Writes files relative to `dir` and commits them with a test identity.
    pub fn commit_files(&self, dir: &Path, files: &[(&str, &str)], message: &str) -> Oid {
        for (name, content) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        self.git(dir, &["add", "-A"]);
        commit(self.home.path(), dir, message);
        self.git(dir, &["rev-parse", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }
}

/// Points every git call of `git` at the isolated configuration.
pub fn isolate(git: Git, home: &Path) -> Git {
    git.with_env("HOME", home.to_string_lossy())
        .with_env("GIT_CONFIG_GLOBAL", "/dev/null")
        .with_env("GIT_CONFIG_NOSYSTEM", "1")
}

fn commit(home: &Path, dir: &Path, message: &str) {
    git_in(
        home,
        dir,
        &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ],
    );
}

pub fn git_in(home: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
