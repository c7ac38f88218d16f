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

/// Serializes the git commands that create, remove or enumerate worktrees within this process.
///
/// git is not safe here: `worktree add` writes the new worktree's admin directory in several
/// steps, and a concurrent command that enumerates worktrees (another `add`, `list`, `prune`)
/// can read it half-written and fail with "failed to read .git/worktrees/<name>/commondir".
/// Seen when three lanes were added at once at the start of a run.
pub(crate) static WORKTREE_ADMIN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Git {
    /// All worktrees of the repository; the main worktree comes first.
    pub async fn worktrees(&self) -> Result<Vec<WorktreeInfo>, GitError> {
        let args = ["worktree", "list", "--porcelain", "-z"];
        let out = {
            let _admin = WORKTREE_ADMIN.lock().await;
            self.run_ok(self.root(), &args).await?
        };
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
