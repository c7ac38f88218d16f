//! The `Git` handle: running git commands and the repository-level queries.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use baton_exec::{Captured, CommandSpec, EndReason, run_captured};

use crate::{GitError, Oid};

/// Default time limit for one git command.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// Identity used for commits when the repository has no `user.email`.
const FALLBACK_IDENTITY: [&str; 4] = ["-c", "user.name=baton", "-c", "user.email=baton@localhost"];

/// A repository, addressed through its main worktree.
#[derive(Debug, Clone)]
pub struct Git {
    root: PathBuf,
    /// The repository's common git directory (`.git` of the main worktree), absolute.
    common_dir: PathBuf,
    timeout: Duration,
    env: Vec<(String, String)>,
    /// Whether the repository configures `user.email`, asked once per handle: commits are on
    /// the hot path of every task and merge.
    has_identity: Arc<OnceLock<bool>>,
}

impl PartialEq for Git {
    fn eq(&self, other: &Git) -> bool {
        self.root == other.root
            && self.common_dir == other.common_dir
            && self.timeout == other.timeout
            && self.env == other.env
    }
}

impl Eq for Git {}

impl Git {
    /// Finds the repository containing `dir` (`rev-parse --show-toplevel`), resolved to its main worktree.
    pub async fn discover(dir: &Path) -> Result<Git, GitError> {
        let not_a_repo = || GitError::NotARepository {
            path: dir.to_path_buf(),
        };
        if !dir.is_dir() {
            return Err(not_a_repo());
        }
        let git = Git {
            root: dir.to_path_buf(),
            common_dir: PathBuf::new(),
            timeout: DEFAULT_GIT_TIMEOUT,
            env: Vec::new(),
            has_identity: Arc::new(OnceLock::new()),
        };
        let args = [
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-dir",
            "--git-common-dir",
        ];
        let out = git.run_unpinned(dir, &args).await?;
        if !out.success() {
            return Err(not_a_repo());
        }
        let text = out.stdout_text();
        let lines: Vec<&str> = text.lines().collect();
        let [toplevel, git_dir, common_dir] = lines.as_slice() else {
            return Err(unexpected(&args, &text));
        };
        let mut git = Git {
            root: PathBuf::from(toplevel),
            common_dir: crate::pin::normalize(Path::new(common_dir)),
            ..git
        };
        if git_dir != common_dir {
            // A linked worktree: the main worktree is listed first.
            if let Some(main) = git.worktrees().await?.into_iter().next() {
                git.root = main.path;
            }
        }
        Ok(git)
    }

    /// The top of the worktree holding `dir`: the main worktree or a linked one (where
    /// [`Git::root`] is always the main one).
    pub async fn worktree_top(&self, dir: &Path) -> Result<PathBuf, GitError> {
        let args = ["rev-parse", "--path-format=absolute", "--show-toplevel"];
        let out = self.run_unpinned(dir, &args).await?;
        if !out.success() {
            return Err(GitError::NotARepository {
                path: dir.to_path_buf(),
            });
        }
        let text = out.stdout_text();
        match text.lines().next() {
            Some(top) if !top.is_empty() => Ok(PathBuf::from(top)),
            _ => Err(unexpected(&args, &text)),
        }
    }

    /// The installed git version as (major, minor); an error if it is older than 2.38.
    pub async fn check_version() -> Result<(u32, u32), GitError> {
        let spec = CommandSpec::new("git", "/")
            .arg("--version")
            .deadline(DEFAULT_GIT_TIMEOUT);
        let out = run_captured(spec).await?;
        let text = out.stdout_text();
        let version = parse_version(&text).ok_or_else(|| unexpected(&["--version"], &text))?;
        if version < (2, 38) {
            return Err(GitError::TooOld {
                found: text.trim().trim_start_matches("git version ").to_owned(),
            });
        }
        Ok(version)
    }

    /// The main worktree of the repository.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The repository's common git directory (absolute): objects, refs and the worktrees'
    /// administrative directories live here.
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// The administrative directory of the linked worktree at `worktree` (its HEAD, index and
    /// reflog, under `<common dir>/worktrees/`), when its `.git` link points there and back;
    /// `None` for the main worktree or a broken link.
    pub fn linked_git_dir(&self, worktree: &Path) -> Option<PathBuf> {
        crate::pin::linked_git_dir(worktree, &self.common_dir).ok()
    }

    /// The time limit for each git command.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The same repository with another per-command time limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same repository with an extra environment variable for every git command
    /// (e.g. `HOME` or `GIT_CONFIG_GLOBAL` to isolate configuration).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The branch checked out in the main worktree; `None` when HEAD is detached.
    pub async fn current_branch(&self) -> Result<Option<String>, GitError> {
        let args = ["symbolic-ref", "--quiet", "--short", "HEAD"];
        let out = self.run(&self.root, &args).await?;
        match out.code() {
            Some(0) => Ok(Some(out.stdout_text().trim().to_owned())),
            Some(1) => Ok(None),
            _ => Err(self.failed(&self.root, &args, &out)),
        }
    }

    /// The commit `rev` names, or `None` if it names no commit.
    pub async fn resolve_commit(&self, rev: &str) -> Result<Option<Oid>, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let args = [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ];
        let out = self.run(&self.root, &args).await?;
        if out.success() {
            parse_oid(&args, &out.stdout).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether the local branch `name` exists.
    pub async fn branch_exists(&self, name: &str) -> Result<bool, GitError> {
        let refname = format!("refs/heads/{name}");
        let args = ["show-ref", "--verify", "--quiet", &refname];
        let out = self.run(&self.root, &args).await?;
        match out.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(&self.root, &args, &out)),
        }
    }

    /// The object a ref points to (without peeling), or `None` if it does not exist.
    pub async fn ref_value(&self, refname: &str) -> Result<Option<Oid>, GitError> {
        let args = [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            refname,
        ];
        let out = self.run(&self.root, &args).await?;
        if out.success() {
            parse_oid(&args, &out.stdout).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Compare-and-swap: sets `refname` to `new` only if it currently is `expected_old`
    /// (`None`: only if it does not exist yet). Otherwise [`GitError::RefMoved`].
    pub async fn update_ref(
        &self,
        refname: &str,
        new: &Oid,
        expected_old: Option<&Oid>,
    ) -> Result<(), GitError> {
        let old = expected_old.cloned().unwrap_or_else(|| new.zero_like());
        let args = [
            "update-ref",
            "-m",
            "baton",
            refname,
            new.as_str(),
            old.as_str(),
        ];
        let out = self.run(&self.root, &args).await?;
        if out.success() {
            return Ok(());
        }
        let actual = self.ref_value(refname).await?;
        if actual.as_ref() != expected_old {
            return Err(GitError::RefMoved {
                refname: refname.to_owned(),
                expected: expected_old.cloned(),
                actual,
            });
        }
        Err(self.failed(&self.root, &args, &out))
    }

    /// Deletes `refname` (no error if it does not exist).
    pub async fn delete_ref(&self, refname: &str) -> Result<(), GitError> {
        self.run_ok(&self.root, &["update-ref", "-m", "baton", "-d", refname])
            .await
            .map(drop)
    }

    /// Drops the newest entry of `refname`'s reflog and moves the ref to the entry below it
    /// (`git stash drop` for any ref; the ref is deleted when no entry is left).
    pub async fn drop_newest_reflog_entry(&self, refname: &str) -> Result<(), GitError> {
        let entry = format!("{refname}@{{0}}");
        self.run_ok(
            &self.root,
            &["reflog", "delete", "--updateref", "--rewrite", &entry],
        )
        .await
        .map(drop)
    }

    /// All refs under `prefix` (whole path components, e.g. `refs/baton/`) with their values.
    pub async fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Oid)>, GitError> {
        let args = [
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "--end-of-options",
            prefix,
        ];
        let out = self.run_ok(&self.root, &args).await?;
        let text = String::from_utf8_lossy(&out);
        text.lines()
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (oid, name) = line
                    .split_once(' ')
                    .ok_or_else(|| unexpected(&args, line))?;
                Ok((name.to_owned(), oid.parse()?))
            })
            .collect()
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    pub async fn is_ancestor(&self, ancestor: &Oid, descendant: &Oid) -> Result<bool, GitError> {
        let args = [
            "merge-base",
            "--is-ancestor",
            ancestor.as_str(),
            descendant.as_str(),
        ];
        let out = self.run(&self.root, &args).await?;
        match out.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(&self.root, &args, &out)),
        }
    }

    /// Runs `git args` in `dir`, pinned to this repository (explicit `GIT_DIR` and
    /// `GIT_WORK_TREE`; see `pin.rs`): `dir` must be the main worktree or the top of one of
    /// its linked worktrees whose `.git` link is intact, else [`GitError::LaneBroken`]. Any
    /// exit status is returned; a timeout is an error.
    pub(crate) async fn run(&self, dir: &Path, args: &[&str]) -> Result<Captured, GitError> {
        let pinned = crate::pin::pin(dir, &self.root, &self.common_dir)?;
        let spec = self
            .spec(dir, args)
            .env("GIT_DIR", pinned.git_dir.to_string_lossy())
            .env("GIT_WORK_TREE", pinned.work_tree.to_string_lossy());
        self.finish(dir, args, spec).await
    }

    /// Runs `git args` in `dir` letting git discover the repository: only for finding it.
    async fn run_unpinned(&self, dir: &Path, args: &[&str]) -> Result<Captured, GitError> {
        let spec = self.spec(dir, args);
        self.finish(dir, args, spec).await
    }

    fn spec(&self, dir: &Path, args: &[&str]) -> CommandSpec {
        let mut spec = CommandSpec::new("git", dir)
            .args(args.iter().copied())
            .without_git_env()
            .env("GIT_TERMINAL_PROMPT", "0")
            .deadline(self.timeout);
        for (key, value) in &self.env {
            spec = spec.env(key, value);
        }
        spec
    }

    async fn finish(
        &self,
        dir: &Path,
        args: &[&str],
        spec: CommandSpec,
    ) -> Result<Captured, GitError> {
        let out = run_captured(spec).await?;
        if let EndReason::TimedOut { after_ms } = out.status {
            return Err(GitError::TimedOut {
                command: command_line(args),
                dir: dir.to_path_buf(),
                after: Duration::from_millis(after_ms),
            });
        }
        Ok(out)
    }

    /// Runs `git args` in `dir` and returns its stdout; a non-zero exit is an error.
    pub(crate) async fn run_ok(&self, dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let out = self.run(dir, args).await?;
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(self.failed(dir, args, &out))
        }
    }

    /// The `-c user.name=… -c user.email=…` arguments needed to commit in `dir`:
    /// empty when the repository has a `user.email`, baton's identity otherwise.
    pub(crate) async fn identity_args(&self, dir: &Path) -> Result<Vec<&'static str>, GitError> {
        let has = match self.has_identity.get() {
            Some(has) => *has,
            None => {
                let out = self.run(dir, &["config", "--get", "user.email"]).await?;
                let has = out.success() && !out.stdout_text().trim().is_empty();
                *self.has_identity.get_or_init(|| has)
            }
        };
        Ok(if has {
            Vec::new()
        } else {
            FALLBACK_IDENTITY.to_vec()
        })
    }

    pub(crate) fn failed(&self, dir: &Path, args: &[&str], out: &Captured) -> GitError {
        GitError::Failed {
            command: command_line(args),
            dir: dir.to_path_buf(),
            status: out.status.to_string(),
            stderr: out.stderr.trim().to_owned(),
        }
    }
}

/// `git a b c` for messages.
pub(crate) fn command_line(args: &[&str]) -> String {
    let mut line = String::from("git");
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

pub(crate) fn unexpected(args: &[&str], output: &str) -> GitError {
    let mut output = output.to_owned();
    if output.len() > 400 {
        let mut cut = 400;
        while !output.is_char_boundary(cut) {
            cut -= 1;
        }
        output.truncate(cut);
        output.push('…');
    }
    GitError::UnexpectedOutput {
        command: command_line(args),
        output,
    }
}

/// Parses stdout that should be exactly one object id.
pub(crate) fn parse_oid(args: &[&str], stdout: &[u8]) -> Result<Oid, GitError> {
    let text = String::from_utf8_lossy(stdout);
    text.trim().parse().map_err(|_| unexpected(args, &text))
}

/// Parses `git version 2.47.3` (also `git version 2.39.2 (Apple Git-143)`).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let version = text.trim().strip_prefix("git version ")?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings_are_parsed() {
        assert_eq!(parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(
            parse_version("git version 2.39.2 (Apple Git-143)"),
            Some((2, 39))
        );
        assert_eq!(parse_version("git version 2.38.0.windows.1"), Some((2, 38)));
        assert_eq!(parse_version("nonsense"), None);
    }
}
