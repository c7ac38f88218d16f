//! baton-testkit answers "what real things do tests run against?": a real repository to work
//! on, and a fake LLM server that real agent clients can talk to.
//!
//! [`TestRepo`] is a real git repository in a temporary directory (branch `main`, one initial
//! commit holding a `README.md`), with helpers to write files, commit them, read files back
//! out of commits and write plan files next to (not inside) the repository. It is for
//! dev-dependencies only; every git call goes through [`baton_git::Git`].
//!
//! Tests often run as root on machines with no git identity. That needs nothing here:
//! baton-git commits with its own identity when the repository has no `user.email`. The
//! [`TestRepo`]'s own git handle also ignores the user's and the system's configuration
//! ([`isolated_git_env`]) so hooks, templates or signing settings cannot leak into tests.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let repo = baton_testkit::TestRepo::new().await?;
//! repo.write("src/a.txt", "alpha\n")?;
//! let commit = repo.commit("add a").await?;
//! assert_eq!(repo.read_at(commit.as_str(), "src/a.txt").await?.as_deref(), Some("alpha\n"));
//! # Ok(())
//! # }
//! ```
//!
//! [`fake_llm`] is a scripted LLM server on 127.0.0.1 speaking Anthropic Messages, OpenAI
//! Responses, OpenAI Chat Completions and Gemini, with a request log; the `baton-fake-llm`
//! binary serves the same from a script file for agent CLIs run as child processes.
//! [`agent_clients`] says how each real agent CLI is pointed at it offline and which script
//! turns make it write a file (the end-to-end tests and `baton demo --agents` use it).

pub mod agent_clients;
pub mod fake_llm;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use baton_git::{Git, Oid};
use tempfile::TempDir;

/// The branch a [`TestRepo`] starts on.
pub const MAIN_BRANCH: &str = "main";

/// Environment for git commands that ignores the user's and the system's git configuration.
///
/// Apply it to a [`Git`] handle with [`Git::with_env`] (as [`TestRepo`] does). It sets no
/// identity on purpose: baton-git supplies one when the repository has no `user.email`, and
/// tests should exercise that path.
pub fn isolated_git_env() -> Vec<(String, String)> {
    vec![
        ("GIT_CONFIG_GLOBAL".to_owned(), "/dev/null".to_owned()),
        ("GIT_CONFIG_NOSYSTEM".to_owned(), "1".to_owned()),
    ]
}

/// A real git repository in a temporary directory, deleted on drop.
///
/// The directory holds `repo/` (the repository's main worktree), `plans/` (plan files, kept
/// outside the repository so they never dirty it) and room for other scratch directories.
#[derive(Debug)]
pub struct TestRepo {
    tmp: TempDir,
    git: Git,
}

impl TestRepo {
    /// A repository on branch `main` with one commit holding `README.md`.
    pub async fn new() -> anyhow::Result<TestRepo> {
        let tmp = tempfile::tempdir().context("creating a temporary directory")?;
        let dir = tmp.path().join("repo");
        let mut git = Git::init(&dir, MAIN_BRANCH)
            .await
            .with_context(|| format!("initialising a repository in {}", dir.display()))?;
        for (key, value) in isolated_git_env() {
            git = git.with_env(key, value);
        }
        let repo = TestRepo { tmp, git };
        repo.write("README.md", "# test repository\n")?;
        repo.commit("initial commit").await?;
        Ok(repo)
    }

    /// The repository's main worktree.
    pub fn path(&self) -> &Path {
        self.git.root()
    }

    /// The temporary directory holding the repository; a good place for a baton home or
    /// other scratch directories that must not be inside the repository.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// The repository's git handle (with [`isolated_git_env`] applied).
    pub fn git(&self) -> &Git {
        &self.git
    }

    /// Writes `content` to the repository-relative path `rel`, creating parent directories.
    pub fn write(&self, rel: &str, content: &str) -> anyhow::Result<()> {
        let path = self.inside(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))
    }

    /// Removes the file or directory tree at the repository-relative path `rel` (a missing
    /// path is fine).
    pub fn remove(&self, rel: &str) -> anyhow::Result<()> {
        let path = self.inside(rel)?;
        let result = match path.symlink_metadata() {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
            Ok(_) => std::fs::remove_file(&path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        };
        result.with_context(|| format!("removing {}", path.display()))
    }

    /// Commits everything in the main worktree (even nothing) and returns the new commit.
    pub async fn commit(&self, message: &str) -> anyhow::Result<Oid> {
        self.git
            .commit_all(self.path(), message)
            .await
            .with_context(|| format!("committing {message:?}"))
    }

    /// The text of the file `rel` in the commit `rev` (a branch, ref or id); `None` when the
    /// commit has no file there.
    pub async fn read_at(&self, rev: &str, rel: &str) -> anyhow::Result<Option<String>> {
        let Some(bytes) = self
            .git
            .show_file(rev, rel)
            .await
            .with_context(|| format!("reading {rel} at {rev}"))?
        else {
            return Ok(None);
        };
        String::from_utf8(bytes)
            .map(Some)
            .with_context(|| format!("{rel} at {rev} is not UTF-8"))
    }

    /// Writes a plan file `plans/<name>` next to the repository and returns its path.
    pub fn write_plan(&self, name: &str, yaml: &str) -> anyhow::Result<PathBuf> {
        let dir = self.tmp.path().join("plans");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if !is_plain_relative(name) {
            bail!("plan name {name:?} must be a relative path inside plans/");
        }
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// `rel` under the main worktree, refusing paths that would leave it.
    fn inside(&self, rel: &str) -> anyhow::Result<PathBuf> {
        if !is_plain_relative(rel) {
            bail!("{rel:?} is not a relative path inside the repository");
        }
        Ok(self.path().join(rel))
    }
}

/// Whether `rel` is a non-empty relative path with no `..`, root or prefix components.
fn is_plain_relative(rel: &str) -> bool {
    let path = Path::new(rel);
    !rel.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Runs a future to completion on a small runtime of its own (for synchronous tests).
#[allow(clippy::expect_used)] // a test that cannot build a runtime cannot run at all
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
        .block_on(future)
}

/// Polls `check` every 25 ms until it returns `Some`, failing the test after `limit`. For
/// waiting on another process, which cannot signal the test directly.
pub fn poll<T>(what: &str, limit: std::time::Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}
