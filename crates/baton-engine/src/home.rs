//! Where baton keeps its files: `$BATON_HOME` (default `~/.local/share/baton`).

use std::path::{Path, PathBuf};

/// The layout of `$BATON_HOME`.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// `$BATON_HOME`, else `$XDG_DATA_HOME/baton`, else `~/.local/share/baton`.
    pub fn from_env() -> Home {
        if let Some(dir) = std::env::var_os("BATON_HOME").filter(|v| !v.is_empty()) {
            return Home::new(dir);
        }
        if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return Home::new(PathBuf::from(dir).join("baton"));
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
        Home::new(PathBuf::from(home).join(".local/share/baton"))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("baton.db")
    }

    /// The lane pool directory of one repository.
    pub fn lanes_dir(&self, repo_key: &str) -> PathBuf {
        self.root.join("lanes").join(repo_key)
    }

    /// Per-run files: logs and feedback.
    pub fn run_dir(&self, run: &str) -> PathBuf {
        self.root.join("runs").join(run)
    }

    /// Attempt and gate logs of a run.
    pub fn log_dir(&self, run: &str) -> PathBuf {
        self.run_dir(run).join("logs")
    }

    /// Where artifacts are written: the run's `artifacts/`, or `artifacts/` at the root for
    /// those made before any run (`baton plan new`).
    pub fn artifacts_dir(&self, run: Option<&str>) -> PathBuf {
        match run {
            Some(run) => self.run_dir(run).join("artifacts"),
            None => self.root.join("artifacts"),
        }
    }
}

/// A short stable directory name for a repository: its base name and a hash of its path.
pub fn repo_key(repo_root: &Path) -> String {
    let text = repo_root.to_string_lossy();
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let base: String = repo_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}-{:08x}", hash as u32)
}
