//! The person's editor on a copy of something baton keeps (`baton artifact edit`, `baton plan
//! edit`).

use super::bad_input;
use crate::{Exit, exit};
use std::path::PathBuf;

/// Writes `content` to a file named `name` in a new temporary directory, opens it in
/// `$VISUAL`, else `$EDITOR`, else `vi`, and returns the directory (removed when dropped;
/// `keep` it to leave the edit for the person), the file and what it holds afterwards. An
/// editor that fails saves nothing (exit 1).
pub fn edit_copy(name: &str, content: &str) -> Result<(tempfile::TempDir, PathBuf, String), Exit> {
    let dir = tempfile::Builder::new()
        .prefix("baton-edit-")
        .tempdir()
        .map_err(|e| bad_input(format!("cannot make a directory to edit in: {e}")))?;
    let path = dir.path().join(name);
    std::fs::write(&path, content)
        .map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    // The editor is the person's own program, run here with the terminal: it is not a task.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| bad_input(format!("cannot start the editor {editor:?}: {e}")))?;
    if !status.success() {
        return Err(Exit {
            code: exit::FAILED,
            error: anyhow::anyhow!("the editor {editor:?} exited with {status}; nothing was saved"),
        });
    }
    let edited = std::fs::read_to_string(&path)
        .map_err(|e| bad_input(format!("cannot read the edited {}: {e}", path.display())))?;
    Ok((dir, path, edited))
}
