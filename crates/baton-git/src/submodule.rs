//! Submodules changed by a task.
//!
//! A lane is a worktree, and a worktree keeps its own copy of each submodule's repository
//! (`<git dir>/worktrees/<lane>/modules/<name>`). A task that commits inside a submodule and
//! records the new gitlink would merge a pointer to a commit that exists only in that private
//! copy, which is deleted with the lane. baton refuses such a change (see the engine) unless
//! the main repository's own copy of the submodule already has the commit.

use std::path::PathBuf;

use baton_exec::{CommandSpec, run_captured};

use crate::git::parse_oid;
use crate::{Git, GitError, Oid};

/// A submodule whose recorded commit a change moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlinkChange {
    /// The submodule's path in the repository.
    pub path: String,
    /// The commit the change records for it.
    pub commit: Oid,
}

impl Git {
    /// The submodules (gitlinks) whose commit differs between `from` and `to`, with the commit
    /// `to` records (removed submodules are not listed).
    pub async fn changed_gitlinks(
        &self,
        from: &Oid,
        to: &Oid,
    ) -> Result<Vec<GitlinkChange>, GitError> {
        let args = [
            "diff-tree",
            "-r",
            "--raw",
            "--no-renames",
            "-z",
            from.as_str(),
            to.as_str(),
        ];
        let out = self.run_ok(self.root(), &args).await?;
        // `:<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0`
        let mut changes = Vec::new();
        let mut fields = out.split(|&b| b == 0);
        while let Some(meta) = fields.next() {
            if meta.is_empty() {
                continue;
            }
            let Some(path) = fields.next() else { break };
            let meta = String::from_utf8_lossy(meta);
            let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            if let [_, "160000", _, new, _] = parts.as_slice() {
                changes.push(GitlinkChange {
                    path: String::from_utf8_lossy(path).into_owned(),
                    commit: parse_oid(&args, new.as_bytes())?,
                });
            }
        }
        Ok(changes)
    }

    /// Whether the main repository's own copy of the submodule at `path` (as named in
    /// `.gitmodules` of commit `rev`) holds `commit`. False when it has no copy at all.
    pub async fn main_module_has(
        &self,
        rev: &Oid,
        path: &str,
        commit: &Oid,
    ) -> Result<bool, GitError> {
        let store = self.module_store(rev, path).await?;
        if !store.is_dir() {
            return Ok(false);
        }
        let object = format!("{commit}^{{commit}}");
        let spec = CommandSpec::new("git", self.root())
            .args(["cat-file", "-e", &object])
            .without_git_env()
            .env("GIT_DIR", store.to_string_lossy())
            .env("GIT_TERMINAL_PROMPT", "0")
            .deadline(self.timeout());
        Ok(run_captured(spec).await?.success())
    }

    /// `<common git dir>/modules/<name>`, the name read from `.gitmodules` of `rev` (the path
    /// itself when `.gitmodules` does not name it).
    async fn module_store(&self, rev: &Oid, path: &str) -> Result<PathBuf, GitError> {
        let blob = format!("{rev}:.gitmodules");
        let args = [
            "config",
            "--blob",
            &blob,
            "--get-regexp",
            r"^submodule\..*\.path$",
        ];
        let out = self.run(self.root(), &args).await?;
        let listing = out.stdout_text();
        let name = listing
            .lines()
            .filter_map(|line| line.split_once(' '))
            .find(|(_, value)| *value == path)
            .and_then(|(key, _)| {
                key.strip_prefix("submodule.")
                    .and_then(|k| k.strip_suffix(".path"))
            })
            .unwrap_or(path)
            .to_owned();
        // A name that climbs out of `modules/` (git itself refuses such names) has no store.
        let climbs = name.is_empty()
            || name.starts_with('/')
            || name.split('/').any(|part| part == ".." || part == ".");
        if climbs {
            return Ok(self.common_dir().join("modules").join("\0invalid"));
        }
        Ok(self.common_dir().join("modules").join(name))
    }
}
