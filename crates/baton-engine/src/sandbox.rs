//! Where a run's agents and gates may write: their lane, a private temporary directory, the
//! parts of the repository's git directory a commit writes, and the directories `baton.toml`
//! adds. Enforced by Landlock through `baton-exec` (see "Confinement" in docs/engine.md).

use crate::EngineError;
use crate::config::SandboxConfig;
use crate::home::Home;
use baton_exec::{CommandSpec, Confinement, landlock_support};
use baton_git::Git;
use baton_protocol::RunId;
use std::path::{Path, PathBuf};

/// The warning a run gets when it should confine but the kernel cannot.
pub(crate) const UNCONFINED_WARNING: &str =
    "Landlock is not available on this kernel; agents and gates run unconfined";

/// Parts of the common git directory that `git commit`, `git stash` and friends write in a
/// linked worktree. `config`, `hooks`, `info` and `packed-refs` are left read-only on purpose:
/// baton's own (unconfined) git commands would run a hook or a `core.fsmonitor` command an
/// agent planted there.
const GIT_WRITABLE: &[&str] = &["objects", "refs", "logs"];

/// The confinement policy of one run.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    config: SandboxConfig,
    git: Git,
    common_dir: PathBuf,
    tmp_root: PathBuf,
}

impl Sandbox {
    /// The policy of `run` in the repository of `git`.
    pub fn new(config: SandboxConfig, git: &Git, home: &Home, run: &RunId) -> Sandbox {
        Sandbox {
            config,
            git: git.clone(),
            common_dir: git.common_dir().to_path_buf(),
            tmp_root: home.run_dir(run.as_str()).join("tmp"),
        }
    }

    /// What the run should be told about its confinement, once: a warning when it should be
    /// confined and the kernel cannot.
    pub fn warning(&self) -> Option<String> {
        (self.config.confine && !landlock_support().confines())
            .then(|| UNCONFINED_WARNING.to_owned())
    }

    /// Prepares the confinement of one process running in `dir` (a lane): creates its private
    /// temporary directory `runs/<run>/tmp/<label>/`, empty. Returns an unconfined cell when
    /// confinement is off.
    pub async fn cell(&self, dir: &Path, label: &str) -> Result<Cell, EngineError> {
        if !self.config.confine {
            return Ok(Cell::default());
        }
        let tmp = self.tmp_root.join(label);
        // A crashed engine may have left it; the process gets it empty.
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        tokio::fs::create_dir_all(&tmp)
            .await
            .map_err(|source| EngineError::Io {
                path: tmp.clone(),
                source,
            })?;
        let mut confinement = Confinement::new().writable(dir).temp_dir(&tmp);
        for part in GIT_WRITABLE {
            confinement = confinement.writable(self.common_dir.join(part));
        }
        if let Some(admin) = self.git.linked_git_dir(dir) {
            confinement = confinement.writable(admin);
        }
        for extra in &self.config.writable {
            confinement = confinement.writable(extra);
        }
        Ok(Cell {
            confinement: Some(confinement),
            tmp: Some(tmp),
        })
    }
}

/// The confinement of one agent or gate process and its private temporary directory.
#[derive(Debug, Default)]
pub(crate) struct Cell {
    confinement: Option<Confinement>,
    tmp: Option<PathBuf>,
}

impl Cell {
    /// The confinement to give the process; `None` when confinement is off.
    pub fn confinement(&self) -> Option<Confinement> {
        self.confinement.clone()
    }

    /// The confinement with these paths under `$HOME` also writable (an agent client's own
    /// state; a path ending in `/` is a directory, created when missing); `None` when
    /// confinement is off.
    pub fn with_home_dirs(&self, dirs: &[&str]) -> Option<Confinement> {
        let mut confinement = self.confinement()?;
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            for entry in dirs {
                let path = home.join(entry.trim_end_matches('/'));
                if entry.ends_with('/')
                    && let Err(error) = std::fs::create_dir_all(&path)
                {
                    tracing::warn!("cannot create {}: {error}", path.display());
                }
                confinement = confinement.writable(path);
            }
        }
        Some(confinement)
    }

    /// `spec`, confined by this cell.
    pub fn apply(&self, spec: CommandSpec) -> CommandSpec {
        match self.confinement() {
            Some(confinement) => spec.confine(confinement),
            None => spec,
        }
    }

    /// A clause naming the write the sandbox refused, when the output of a failed process
    /// shows one (empty otherwise). It goes on the first line of the failure reason, the line
    /// `baton status` shows.
    pub fn refusal_note(&self, output: &str) -> String {
        if self.confinement.is_none() || !landlock_support().confines() {
            return String::new();
        }
        output
            .lines()
            .find(|line| {
                line.contains("Permission denied") || line.contains("Read-only file system")
            })
            .map(|line| {
                format!(
                    "; the sandbox refused a write outside the lane: {}",
                    line.trim()
                )
            })
            .unwrap_or_default()
    }

    /// Removes the private temporary directory, once the process is gone.
    pub async fn leave(&self) {
        if let Some(tmp) = &self.tmp
            && let Err(error) = tokio::fs::remove_dir_all(tmp).await
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {error}", tmp.display());
        }
    }
}
