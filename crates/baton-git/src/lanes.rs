//! A pool of lane worktrees under one directory.

use std::path::{Path, PathBuf};

use crate::pin::normalize;
use crate::{Git, GitError, Oid, WorktreeInfo, WorktreeLock};

/// A lane worktree ready for use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneReady {
    /// Where the lane's worktree is.
    pub path: PathBuf,
    /// Whether an existing worktree was reset instead of a new one being added.
    pub reused: bool,
}

/// Mechanics of a pool of lane worktrees under one directory (which lane is busy is
/// tracked by the caller's database).
#[derive(Debug, Clone)]
pub struct LanePool {
    git: Git,
    dir: PathBuf,
    /// Ignored directories a lane keeps between tasks (build and dependency caches).
    keep: Vec<String>,
}

/// The build and dependency directories a lane keeps between tasks when the repository ignores
/// them (see [`LanePool::keep`]).
pub const DEFAULT_KEEP: &[&str] = &[
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".gradle",
    ".next",
    ".turbo",
    "vendor",
];

impl LanePool {
    /// A pool of lanes living in `dir` (relative paths are taken from the repository root).
    pub fn new(git: Git, dir: PathBuf) -> Self {
        let dir = if dir.is_absolute() {
            dir
        } else {
            git.root().join(dir)
        };
        Self {
            git,
            dir,
            keep: Vec::new(),
        }
    }

    /// This pool, with lanes that keep the directories named `keep` (at any depth) between
    /// tasks, when the repository ignores them: a released lane then keeps its build caches
    /// (`target/`, `node_modules/`, ...), while tracked files are reset and every other
    /// untracked or ignored file is removed, as always. An empty list keeps nothing.
    pub fn keep(mut self, keep: Vec<String>) -> Self {
        self.keep = keep;
        self
    }

    /// The repository the lanes belong to.
    pub fn git(&self) -> &Git {
        &self.git
    }

    /// The directory holding the lanes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where lane `name` lives: `dir/name`.
    pub fn lane_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes lane `name` an exact, clean checkout of `start`, on `branch` (created or
    /// reset to `start`) or detached when `branch` is `None`.
    ///
    /// An existing lane worktree is reused (only changed files are touched); a stray
    /// directory in its place is removed first; otherwise a worktree is added.
    pub async fn prepare(
        &self,
        name: &str,
        branch: Option<&str>,
        start: &Oid,
    ) -> Result<LaneReady, GitError> {
        let lock = self.git.lock_worktrees().await?;
        self.prepare_locked(&lock, name, branch, start).await
    }

    async fn prepare_locked(
        &self,
        lock: &WorktreeLock,
        name: &str,
        branch: Option<&str>,
        start: &Oid,
    ) -> Result<LaneReady, GitError> {
        let path = self.checked_path(name)?;
        let worktrees = self.git.worktrees_locked(lock).await?;
        if let Some(branch) = branch
            && let Some(other) = worktrees
                .iter()
                .find(|wt| wt.branch.as_deref() == Some(branch) && !same_path(&wt.path, &path))
        {
            return Err(GitError::BranchCheckedOutElsewhere {
                branch: branch.to_owned(),
                lane: path,
                other: other.path.clone(),
            });
        }
        let registered = find(&worktrees, &path);
        let exists = path.symlink_metadata().is_ok();
        let intact = crate::pin::linked_git_dir(&path, self.git.common_dir()).is_ok();
        match registered {
            Some(wt) if exists && path.is_dir() && !wt.prunable && intact => {
                self.reset_lane(&path, branch, start).await?;
                return Ok(LaneReady { path, reused: true });
            }
            Some(_) => {
                // Registered but unusable (gone, or its `.git` link deleted or rewritten by a
                // task): drop the registration and whatever is left, then add it again.
                let path_text = path.to_string_lossy().into_owned();
                let _ = self
                    .admin(
                        lock,
                        &["worktree", "remove", "--force", "--force", &path_text],
                    )
                    .await?;
                remove_path(&path)?;
                self.prune(lock).await?;
            }
            None if exists => {
                remove_path(&path)?;
                self.prune(lock).await?;
            }
            None => {}
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| GitError::Io {
            action: "create",
            path: self.dir.clone(),
            source,
        })?;
        let path_text = path.to_string_lossy().into_owned();
        let mut args = vec!["worktree", "add", "--quiet"];
        match branch {
            Some(branch) => args.extend(["-B", branch]),
            None => args.push("--detach"),
        }
        args.extend([path_text.as_str(), start.as_str()]);
        let added = self.admin(lock, &args).await?;
        if !added.success() {
            return Err(self.git.failed(self.git.root(), &args, &added));
        }
        Ok(LaneReady {
            path,
            reused: false,
        })
    }

    /// Moves a lane that [`LanePool::release`] left clean to `start`, on `branch` (created or
    /// reset) or detached, with one `checkout --force`: no enumeration of worktrees, only the
    /// files that differ are touched. This is the hot path of dispatch. If the lane is not
    /// there as expected, it falls back to [`LanePool::prepare`].
    ///
    /// The lane must be clean (as `release` leaves it): untracked files would survive.
    pub async fn prepare_released(
        &self,
        name: &str,
        branch: Option<&str>,
        start: &Oid,
    ) -> Result<LaneReady, GitError> {
        let path = self.checked_path(name)?;
        let mut args = vec!["checkout", "--quiet", "--force"];
        match branch {
            Some(branch) => args.extend(["-B", branch]),
            None => args.push("--detach"),
        }
        args.push(start.as_str());
        // `checkout -B` reads the other worktrees (is the branch checked out elsewhere?), so it
        // must not overlap a `worktree add`; and the lane is checked under the lock, so a prune
        // in another process cannot remove it in between.
        let lock = self.git.lock_worktrees().await?;
        if crate::pin::linked_git_dir(&path, self.git.common_dir()).is_ok() {
            let moved = self.git.run(&path, &args).await?;
            if moved.success() {
                return Ok(LaneReady { path, reused: true });
            }
        }
        self.prepare_locked(&lock, name, branch, start).await
    }

    /// Puts the HEAD of the lane at `path` back on `branch`, at the commit HEAD has now: an
    /// agent that switched to another branch or detached HEAD keeps its commits, on the task's
    /// branch, and the branch it made can be deleted.
    pub async fn reattach(&self, path: &Path, branch: &str) -> Result<(), GitError> {
        let full = format!("refs/heads/{branch}");
        let current = self
            .git
            .run(path, &["symbolic-ref", "--quiet", "HEAD"])
            .await?;
        if current.success() && current.stdout_text().trim() == full {
            return Ok(());
        }
        let head = self.git.head(path).await?;
        self.git
            .run_ok(path, &["update-ref", "-m", "baton", &full, head.as_str()])
            .await?;
        self.git
            .run_ok(path, &["symbolic-ref", "HEAD", &full])
            .await?;
        Ok(())
    }

    /// Detaches lane `name` (freeing its branch) and cleans it; the worktree is kept for reuse.
    pub async fn release(&self, name: &str) -> Result<(), GitError> {
        let path = self.registered_path(name).await?;
        self.quit_rebase(&path).await?;
        // `checkout --force` to the same commit resets tracked files and the index (staged
        // new files included) and drops merge state; `clean -ffdx` removes the rest.
        self.git
            .run_ok(&path, &["checkout", "--quiet", "--force", "--detach"])
            .await?;
        self.clean(&path).await
    }

    /// Removes every untracked file of the lane at `path`, ignored ones included, except the
    /// ignored directories the pool keeps. A kept name that the repository does not ignore is
    /// removed like any untracked file (it would otherwise be committed by the next task).
    async fn clean(&self, path: &Path) -> Result<(), GitError> {
        if self.keep.is_empty() {
            self.git.run_ok(path, &["clean", "-ffdxq"]).await?;
            return Ok(());
        }
        // Untracked files that are not ignored, whatever their name.
        self.git.run_ok(path, &["clean", "-ffdq"]).await?;
        // Ignored files, except the kept directories: `-e !DIR/` un-ignores them for `-X`.
        let mut args = vec!["clean".to_owned(), "-ffdXq".to_owned()];
        for dir in &self.keep {
            args.push("-e".to_owned());
            args.push(format!("!{}/", dir.trim_end_matches('/')));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.git.run_ok(path, &args).await?;
        Ok(())
    }

    /// Removes lane `name`: its worktree registration and its directory.
    pub async fn remove(&self, name: &str) -> Result<(), GitError> {
        let lock = self.git.lock_worktrees().await?;
        self.remove_locked(&lock, name).await
    }

    /// [`LanePool::remove`] under a lock the caller holds (after checking, under that lock,
    /// that no run holds the lane).
    pub async fn remove_locked(&self, lock: &WorktreeLock, name: &str) -> Result<(), GitError> {
        let path = self.checked_path(name)?;
        let worktrees = self.git.worktrees_locked(lock).await?;
        if find(&worktrees, &path).is_some() {
            let path_text = path.to_string_lossy().into_owned();
            // A failure here is fine: the directory is deleted and pruned below.
            let _ = self
                .admin(
                    lock,
                    &["worktree", "remove", "--force", "--force", &path_text],
                )
                .await?;
        }
        remove_path(&path)?;
        self.prune(lock).await
    }

    /// The repository's [`WorktreeLock`], for a caller that must check its own records and
    /// change the pool as one step (see [`LanePool::remove_locked`]).
    pub async fn lock(&self) -> Result<WorktreeLock, GitError> {
        self.git.lock_worktrees().await
    }

    /// Names of the registered worktrees that live directly under the pool directory.
    pub async fn list(&self) -> Result<Vec<String>, GitError> {
        let worktrees = self.git.worktrees().await?;
        let mut names: Vec<String> = worktrees
            .iter()
            .filter_map(|wt| self.lane_name(&wt.path))
            .collect();
        names.sort();
        Ok(names)
    }

    /// [`LanePool::prune_foreign_locked`] under a lock of its own.
    pub async fn prune_foreign(&self, keep: &[String]) -> Result<Vec<PathBuf>, GitError> {
        let lock = self.git.lock_worktrees().await?;
        self.prune_foreign_locked(&lock, keep).await
    }

    /// Removes lanes whose name is not in `keep` and directories under the pool that are not
    /// worktrees, then prunes stale registrations. Returns the removed paths.
    ///
    /// `keep` must be read under `lock`: a run records a new lane before it adds it, under the
    /// same lock.
    pub async fn prune_foreign_locked(
        &self,
        lock: &WorktreeLock,
        keep: &[String],
    ) -> Result<Vec<PathBuf>, GitError> {
        let worktrees = self.git.worktrees_locked(lock).await?;
        let main = normalize(self.git.root());
        let mut removed = Vec::new();
        for wt in &worktrees {
            let Some(name) = self.lane_name(&wt.path) else {
                continue;
            };
            if keep.contains(&name) || normalize(&wt.path) == main {
                continue;
            }
            self.remove_locked(lock, &name).await?;
            removed.push(wt.path.clone());
        }
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.prune(lock).await?;
                return Ok(removed);
            }
            Err(source) => {
                return Err(GitError::Io {
                    action: "read",
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let registered = find(&worktrees, &path).is_some();
            // Never delete anything holding the repository itself.
            let holds_repo = main.starts_with(normalize(&path));
            if is_dir && !registered && !holds_repo && !removed.contains(&path) {
                remove_path(&path)?;
                removed.push(path);
            }
        }
        self.prune(lock).await?;
        Ok(removed)
    }

    /// Resets an existing lane to exactly `start` with no untracked files.
    ///
    /// Moving HEAD with plumbing (`update-ref`, `symbolic-ref`) and then one `reset --hard`
    /// touches the work tree once; `checkout --force` followed by `reset --hard` would stat
    /// every file twice, which is what dominates on large repositories.
    async fn reset_lane(
        &self,
        path: &Path,
        branch: Option<&str>,
        start: &Oid,
    ) -> Result<(), GitError> {
        self.quit_rebase(path).await?;
        match branch {
            Some(branch) => {
                let full = format!("refs/heads/{branch}");
                self.git
                    .run_ok(path, &["update-ref", &full, start.as_str()])
                    .await?;
                self.git
                    .run_ok(path, &["symbolic-ref", "HEAD", &full])
                    .await?;
            }
            None => {
                self.git
                    .run_ok(path, &["update-ref", "--no-deref", "HEAD", start.as_str()])
                    .await?;
            }
        }
        // Also drops staged new files and merge/cherry-pick state.
        self.git
            .run_ok(path, &["reset", "--quiet", "--hard", start.as_str()])
            .await?;
        self.clean(path).await
    }

    /// Forgets an interrupted rebase in the lane (HEAD and files are reset afterwards). The
    /// rebase state is looked for on disk, in the lane's git directory, to spare a git process
    /// on every release.
    async fn quit_rebase(&self, path: &Path) -> Result<(), GitError> {
        let dir = crate::pin::linked_git_dir(path, self.git.common_dir()).map_err(|why| {
            GitError::LaneBroken {
                path: path.to_path_buf(),
                why,
            }
        })?;
        if dir.join("rebase-merge").exists() || dir.join("rebase-apply").exists() {
            self.git.run_ok(path, &["rebase", "--quit"]).await?;
        }
        Ok(())
    }

    async fn prune(&self, lock: &WorktreeLock) -> Result<(), GitError> {
        let args = ["worktree", "prune"];
        let out = self.admin(lock, &args).await?;
        if out.success() {
            Ok(())
        } else {
            Err(self.git.failed(self.git.root(), &args, &out))
        }
    }

    /// Runs a worktree administration command in the main worktree, under the lock.
    async fn admin(
        &self,
        _lock: &WorktreeLock,
        args: &[&str],
    ) -> Result<baton_exec::Captured, GitError> {
        self.git.run(self.git.root(), args).await
    }

    /// The lane's path if it is an intact worktree of this repository: its `.git` file points
    /// into this repository's `worktrees/` and back (read from disk; no git process). A lane
    /// whose link a task deleted or rewrote is [`GitError::LaneBroken`].
    async fn registered_path(&self, name: &str) -> Result<PathBuf, GitError> {
        let path = self.checked_path(name)?;
        if !path.is_dir() {
            return Err(GitError::LaneNotFound {
                name: name.to_owned(),
                path,
            });
        }
        match crate::pin::linked_git_dir(&path, self.git.common_dir()) {
            Ok(_) => Ok(path),
            Err(why) => Err(GitError::LaneBroken { path, why }),
        }
    }

    fn checked_path(&self, name: &str) -> Result<PathBuf, GitError> {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.contains('\0');
        if plain {
            Ok(self.lane_path(name))
        } else {
            Err(GitError::InvalidLaneName {
                name: name.to_owned(),
            })
        }
    }

    /// The lane name of a worktree path, if it lives directly under the pool directory.
    fn lane_name(&self, path: &Path) -> Option<String> {
        let parent = path.parent()?;
        if !same_path(parent, &self.dir) || same_path(path, self.git.root()) {
            return None;
        }
        Some(path.file_name()?.to_string_lossy().into_owned())
    }
}

fn find<'a>(worktrees: &'a [WorktreeInfo], path: &Path) -> Option<&'a WorktreeInfo> {
    worktrees.iter().find(|wt| same_path(&wt.path, path))
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || normalize(a) == normalize(b)
}

/// Removes a directory tree, file or symlink; a missing path is fine.
fn remove_path(path: &Path) -> Result<(), GitError> {
    let result = match path.symlink_metadata() {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    };
    result.map_err(|source| GitError::Io {
        action: "remove",
        path: path.to_path_buf(),
        source,
    })
}
