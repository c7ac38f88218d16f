//! Reading files out of commits.

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
}
