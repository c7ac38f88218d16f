//! Listing the worktrees of a repository.

use std::path::PathBuf;

use crate::git::unexpected;
use crate::{Git, GitError, Oid};

/// One worktree as listed by `git worktree list --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeInfo {
    /// Where the worktree lives.
    pub path: PathBuf,
    /// Its checked-out commit (`None` for a bare repository or an unborn branch).
    pub head: Option<Oid>,
    /// Its branch without `refs/heads/` (`None` when detached).
    pub branch: Option<String>,
    /// Whether HEAD is detached.
    pub detached: bool,
    /// Whether this is the bare repository entry.
    pub bare: bool,
    /// Whether the worktree is locked.
    pub locked: bool,
    /// Whether git considers it prunable (e.g. its directory is gone).
    pub prunable: bool,
}

/// Serializes, within this process, the git commands that create, remove or enumerate
/// worktrees (the file lock of [`WorktreeLock`] does the same across processes).
///
/// git is not safe here: `worktree add` writes the new worktree's admin directory in several
/// steps, and a concurrent command that enumerates worktrees (another `add`, `list`, `prune`)
/// can read it half-written and fail with "failed to read .git/worktrees/<name>/commondir".
/// Seen when three lanes were added at once at the start of a run.
static WORKTREE_ADMIN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The name of the lock file in the repository's common git directory.
const LOCK_FILE: &str = "baton-worktrees.lock";

/// Exclusive right to create, remove, enumerate or check out worktrees of one repository, held
/// until dropped: a process-wide mutex plus an advisory lock on a file in the repository's git
/// directory, so that several baton processes (three runs started at once, `baton lanes prune`
/// beside a run) never interleave worktree administration. Operations that take
/// `&WorktreeLock` run under it without locking again.
#[derive(Debug)]
pub struct WorktreeLock {
    _local: tokio::sync::MutexGuard<'static, ()>,
    /// The lock is released when the file is closed.
    _file: std::fs::File,
}

impl Git {
    /// Takes the repository's [`WorktreeLock`], waiting for other holders.
    pub async fn lock_worktrees(&self) -> Result<WorktreeLock, GitError> {
        let local = WORKTREE_ADMIN.lock().await;
        let path = self.common_dir().join(LOCK_FILE);
        let io_error = |action: &'static str, source| GitError::Io {
            action,
            path: path.clone(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| io_error("open", source))?;
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(|join| io_error("lock", std::io::Error::other(join.to_string())))?
            .map_err(|source| io_error("lock", source))?;
        Ok(WorktreeLock {
            _local: local,
            _file: file,
        })
    }

    /// All worktrees of the repository; the main worktree comes first.
    pub async fn worktrees(&self) -> Result<Vec<WorktreeInfo>, GitError> {
        let lock = self.lock_worktrees().await?;
        self.worktrees_locked(&lock).await
    }

    /// [`Git::worktrees`] under a lock the caller holds.
    pub async fn worktrees_locked(
        &self,
        _lock: &WorktreeLock,
    ) -> Result<Vec<WorktreeInfo>, GitError> {
        let args = ["worktree", "list", "--porcelain", "-z"];
        let out = self.run_ok(self.root(), &args).await?;
        parse_worktrees(&out).ok_or_else(|| unexpected(&args, &String::from_utf8_lossy(&out)))
    }
}

fn parse_worktrees(bytes: &[u8]) -> Option<Vec<WorktreeInfo>> {
    let mut list = Vec::new();
    let mut current: Option<WorktreeInfo> = None;
    for entry in bytes.split(|&b| b == 0) {
        if entry.is_empty() {
            list.extend(current.take());
            continue;
        }
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once(' ').unwrap_or((&entry, ""));
        if key == "worktree" {
            list.extend(current.take());
            current = Some(WorktreeInfo {
                path: PathBuf::from(value),
                head: None,
                branch: None,
                detached: false,
                bare: false,
                locked: false,
                prunable: false,
            });
            continue;
        }
        let info = current.as_mut()?;
        match key {
            "HEAD" => info.head = value.parse().ok().filter(|oid: &Oid| !oid.is_zero()),
            "branch" => {
                info.branch = Some(
                    value
                        .strip_prefix("refs/heads/")
                        .unwrap_or(value)
                        .to_owned(),
                );
            }
            "detached" => info.detached = true,
            "bare" => info.bare = true,
            "locked" => info.locked = true,
            "prunable" => info.prunable = true,
            _ => {}
        }
    }
    list.extend(current);
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_worktree_lists_are_parsed() {
        let head = "9a17ca991ea3a516c8da5d6ef27b669228528ae3";
        let text = format!(
            "worktree /r\0HEAD {head}\0branch refs/heads/main\0\0worktree /r lanes/a\0HEAD {head}\0detached\0locked why\0prunable gitdir file points to non-existent location\0\0"
        );
        let list = parse_worktrees(text.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[1].path, PathBuf::from("/r lanes/a"));
        assert!(list[1].detached && list[1].locked && list[1].prunable);
        assert_eq!(list[1].head.as_ref().map(Oid::as_str), Some(head));
    }
}
