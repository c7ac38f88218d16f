//! Reading files out of commits, and listing the tracked ones.

use crate::{Git, GitError};

impl Git {
    /// The content of the file `path` (repository-relative, `/` separators) in the commit
    /// `rev`; `None` when that commit has no file there (absent, or a directory). A `rev`
    /// naming no commit is an error.
    pub async fn show_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let object = format!("{rev}:{path}");
        let args = ["cat-file", "blob", &object];
        let out = self.run(self.root(), &args).await?;
        if out.success() {
            return Ok(Some(out.stdout));
        }
        if self.resolve_commit(rev).await?.is_some() {
            Ok(None)
        } else {
            Err(self.failed(self.root(), &args, &out))
        }
    }

    /// The files git tracks in `worktree` (repository-relative, `/` separators, as
    /// `git ls-files` lists them: the index, so a staged new file counts and an untracked one
    /// does not). Submodules are listed by their path.
    pub async fn tracked_files(&self, worktree: &std::path::Path) -> Result<Vec<String>, GitError> {
        let out = self.run_ok(worktree, &["ls-files", "-z"]).await?;
        Ok(out
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect())
    }
}
