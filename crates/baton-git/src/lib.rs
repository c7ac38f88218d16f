//! baton-git answers "how do we talk to git?".
//!
//! Every git call of baton goes through [`Git`]: the git CLI run via
//! [`baton_exec::run_captured`] with a time limit, a clean environment (git's own variables
//! removed, `GIT_TERMINAL_PROMPT=0`), pinned to the repository (an explicit `GIT_DIR` and
//! `GIT_WORK_TREE`, so a lane whose `.git` link was deleted can never send a command to a
//! repository around it) and typed results. [`LanePool`] manages the worktrees agents work in.
//!
//! ```no_run
//! # async fn demo() -> Result<(), baton_git::GitError> {
//! use baton_git::{Git, LanePool};
//!
//! let git = Git::discover(std::path::Path::new(".")).await?;
//! let start = git.resolve_commit("HEAD").await?.ok_or_else(|| baton_git::GitError::NotARepository {
//!     path: git.root().to_path_buf(),
//! })?;
//! let pool = LanePool::new(git.clone(), git.root().join(".baton/lanes"));
//! let lane = pool.prepare("lane-1", Some("baton/task-1"), &start).await?;
//! let commit = git.commit_all(&lane.path, "work").await?;
//! println!("{commit}");
//! # Ok(())
//! # }
//! ```

mod error;
mod git;
mod history;
mod init;
mod lanes;
mod oid;
mod pin;
mod show;
mod submodule;
mod worktree;

pub use error::GitError;
pub use git::{DEFAULT_GIT_TIMEOUT, Git};
pub use history::{CommitInfo, MergeCheck};
pub use lanes::{DEFAULT_KEEP, LanePool, LaneReady};
pub use oid::Oid;
pub use submodule::GitlinkChange;
pub use worktree::{WorktreeInfo, WorktreeLock};
