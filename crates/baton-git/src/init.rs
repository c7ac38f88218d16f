//! Creating a new repository.

use std::path::Path;
use std::time::Duration;

use baton_exec::{CommandSpec, EndReason, run_captured};

use crate::git::command_line;
use crate::{DEFAULT_GIT_TIMEOUT, Git, GitError};

impl Git {
    /// Creates a repository in `dir` (made if missing) whose unborn branch is
    /// `initial_branch` (`git init -b`), and returns it. Running it on an existing
    /// repository is harmless: git re-initialises it without touching its history.
    pub async fn init(dir: &Path, initial_branch: &str) -> Result<Git, GitError> {
        std::fs::create_dir_all(dir).map_err(|source| GitError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let args = ["init", "--quiet", "-b", initial_branch];
        let spec = CommandSpec::new("git", dir)
            .args(args)
            .without_git_env()
            .env("GIT_TERMINAL_PROMPT", "0")
            .deadline(DEFAULT_GIT_TIMEOUT);
        let out = run_captured(spec).await?;
        if let EndReason::TimedOut { after_ms } = out.status {
            return Err(GitError::TimedOut {
                command: command_line(&args),
                dir: dir.to_path_buf(),
                after: Duration::from_millis(after_ms),
            });
        }
        if !out.success() {
            return Err(GitError::Failed {
                command: command_line(&args),
                dir: dir.to_path_buf(),
                status: out.status.to_string(),
                stderr: out.stderr.trim().to_owned(),
            });
        }
        Git::discover(dir).await
    }
}
