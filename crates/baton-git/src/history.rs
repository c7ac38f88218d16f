//! Commits, diffs and merges.

use std::path::Path;

use crate::git::{parse_oid, unexpected};
use crate::{Git, GitError, Oid};

/// Result of a trial merge with `merge-tree --write-tree`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeCheck {
    /// The merge has no conflicts; `tree` is the merged tree.
    Clean {
        /// The merged tree.
        tree: Oid,
    },
    /// The merge has conflicts in `paths`; `tree` holds the files with conflict markers.
    Conflicted {
        /// The tree with conflict markers.
        tree: Oid,
        /// The conflicted files, each once.
        paths: Vec<String>,
    },
}

/// One commit as listed by [`Git::commits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit id.
    pub oid: Oid,
    /// Its parents, in order.
    pub parents: Vec<Oid>,
    /// The first line of its message.
    pub subject: String,
    /// Its trailers (`Key: value` lines at the end of the message), in order.
    pub trailers: Vec<(String, String)>,
}

impl CommitInfo {
    /// The value of the first trailer named `key` (case-insensitive).
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

const RECORD: char = '\u{1e}';
const FIELD: char = '\u{1f}';

impl Git {
    /// Stages everything in `worktree` (`add -A`) and commits it (even if nothing changed);
    /// hooks run. Returns the new HEAD.
    pub async fn commit_all(&self, worktree: &Path, message: &str) -> Result<Oid, GitError> {
        self.run_ok(worktree, &["add", "-A"]).await?;
        let mut args = self.identity_args(worktree).await?;
        args.extend(["commit", "-q", "--allow-empty", "-m", message]);
        self.run_ok(worktree, &args).await?;
        self.head(worktree).await
    }

    /// Moves the branch checked out in `worktree` to `to`, keeping the index and the files
    /// (`git reset --soft`): the commits in between become one staged change.
    pub async fn reset_soft(&self, worktree: &Path, to: &Oid) -> Result<(), GitError> {
        self.run_ok(worktree, &["reset", "-q", "--soft", to.as_str()])
            .await?;
        Ok(())
    }

    /// Fast-forwards the branch checked out in `worktree` to `to`, updating its files; fails
    /// (changing nothing) if that is not a fast-forward.
    pub async fn fast_forward(&self, worktree: &Path, to: &Oid) -> Result<(), GitError> {
        self.run_ok(worktree, &["merge", "--ff-only", "-q", to.as_str()])
            .await?;
        Ok(())
    }

    /// The tree of `commit`.
    pub async fn tree_of(&self, commit: &Oid) -> Result<Oid, GitError> {
        let spec = format!("{commit}^{{tree}}");
        let args = ["rev-parse", "--verify", spec.as_str()];
        let out = self.run_ok(self.root(), &args).await?;
        parse_oid(&args, &out)
    }

    /// The commit checked out in `worktree`.
    pub async fn head(&self, worktree: &Path) -> Result<Oid, GitError> {
        let args = ["rev-parse", "--verify", "HEAD^{commit}"];
        let out = self.run_ok(worktree, &args).await?;
        parse_oid(&args, &out)
    }

    /// Whether `worktree` has staged, unstaged or untracked (not ignored) changes.
    pub async fn is_dirty(&self, worktree: &Path) -> Result<bool, GitError> {
        let out = self
            .run_ok(worktree, &["status", "--porcelain", "-z"])
            .await?;
        Ok(!out.is_empty())
    }

    /// Paths that differ between two commits; a rename shows both its old and new path.
    pub async fn changed_paths(&self, from: &Oid, to: &Oid) -> Result<Vec<String>, GitError> {
        let args = [
            "diff-tree",
            "-r",
            "--name-only",
            "--no-renames",
            "-z",
            from.as_str(),
            to.as_str(),
        ];
        let out = self.run_ok(self.root(), &args).await?;
        Ok(split_nul(&out))
    }

    /// The unified diff from `from` to `to` (text; binary files are named, not shown), cut at
    /// `max_bytes` on a line boundary with a last line saying how much was left out.
    pub async fn diff_text(
        &self,
        from: &Oid,
        to: &Oid,
        max_bytes: usize,
    ) -> Result<String, GitError> {
        let args = [
            "diff",
            "--no-color",
            "--no-ext-diff",
            from.as_str(),
            to.as_str(),
        ];
        let out = self.run_ok(self.root(), &args).await?;
        let text = String::from_utf8_lossy(&out);
        if text.len() <= max_bytes {
            return Ok(text.into_owned());
        }
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text[..end].rfind('\n').map_or(0, |i| i + 1);
        Ok(format!(
            "{}[... {} more bytes of diff left out]\n",
            &text[..cut],
            text.len() - cut
        ))
    }

    /// Merges `theirs` into `ours` without touching any worktree.
    pub async fn merge_tree(&self, ours: &Oid, theirs: &Oid) -> Result<MergeCheck, GitError> {
        let args = [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            "-z",
            ours.as_str(),
            theirs.as_str(),
        ];
        let out = self.run(self.root(), &args).await?;
        let code = out.code();
        if !matches!(code, Some(0 | 1)) {
            return Err(self.failed(self.root(), &args, &out));
        }
        let mut entries = split_nul(&out.stdout).into_iter();
        let tree_text = entries
            .next()
            .ok_or_else(|| unexpected(&args, &out.stdout_text()))?;
        let tree: Oid = tree_text
            .parse()
            .map_err(|_| unexpected(&args, &out.stdout_text()))?;
        if code == Some(0) {
            return Ok(MergeCheck::Clean { tree });
        }
        let mut paths: Vec<String> = Vec::new();
        for path in entries {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Ok(MergeCheck::Conflicted { tree, paths })
    }

    /// Creates a commit of `tree` with `parents` (no ref is moved). Same identity rule as [`Git::commit_all`].
    pub async fn commit_tree(
        &self,
        tree: &Oid,
        parents: &[Oid],
        message: &str,
    ) -> Result<Oid, GitError> {
        let mut args = self.identity_args(self.root()).await?;
        args.extend(["commit-tree", tree.as_str()]);
        for parent in parents {
            args.extend(["-p", parent.as_str()]);
        }
        args.extend(["-m", message]);
        let out = self.run_ok(self.root(), &args).await?;
        parse_oid(&args, &out)
    }

    /// The commits of `range` (e.g. `A..B`), newest first, with their trailers.
    pub async fn commits(&self, range: &str) -> Result<Vec<CommitInfo>, GitError> {
        let format = format!("--format={RECORD}%H{FIELD}%P{FIELD}%s{FIELD}%(trailers:only,unfold)");
        let args = [
            "-c",
            "log.showSignature=false",
            "log",
            &format,
            "--end-of-options",
            range,
        ];
        let out = self.run_ok(self.root(), &args).await?;
        let text = String::from_utf8_lossy(&out);
        text.split(RECORD)
            .filter(|record| !record.trim().is_empty())
            .map(|record| parse_commit(record).ok_or_else(|| unexpected(&args, record)))
            .collect()
    }
}

fn parse_commit(record: &str) -> Option<CommitInfo> {
    let mut fields = record.splitn(4, FIELD);
    let oid = fields.next()?.trim().parse().ok()?;
    let parents = fields
        .next()?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<Vec<Oid>, _>>()
        .ok()?;
    let subject = fields.next()?.to_owned();
    let trailers = fields
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    Some(CommitInfo {
        oid,
        parents,
        subject,
        trailers,
    })
}

/// Splits NUL-terminated output into its non-empty entries.
pub(crate) fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}
