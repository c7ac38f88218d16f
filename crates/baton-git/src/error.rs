//! Errors raised while talking to git.

use std::path::PathBuf;
use std::time::Duration;

use crate::Oid;

/// What went wrong while running git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The directory is not inside a git work tree.
    #[error("{} is not inside a git repository work tree", path.display())]
    NotARepository {
        /// The directory that was examined.
        path: PathBuf,
    },
    /// The installed git is older than baton needs.
    #[error("git {found} is too old: baton needs git >= 2.38 for `merge-tree --write-tree`")]
    TooOld {
        /// The version git reported.
        found: String,
    },
    /// git could not be started at all.
    #[error("could not run git: {0}")]
    Exec(#[from] baton_exec::ExecError),
    /// A git command exited unsuccessfully.
    #[error("`{command}` failed in {} ({status}): {stderr}", dir.display())]
    Failed {
        /// The git command line.
        command: String,
        /// The directory it ran in.
        dir: PathBuf,
        /// How it ended.
        status: String,
        /// What git printed on standard error.
        stderr: String,
    },
    /// A git command ran past its time limit and was killed.
    #[error("`{command}` in {} did not finish within {after:?} and was killed", dir.display())]
    TimedOut {
        /// The git command line.
        command: String,
        /// The directory it ran in.
        dir: PathBuf,
        /// The time limit.
        after: Duration,
    },
    /// A compare-and-swap ref update found the ref at another value.
    #[error(
        "ref {refname} was moved by someone else: expected {}, found {}",
        show(.expected.as_ref()),
        show(.actual.as_ref())
    )]
    RefMoved {
        /// The ref that was to be updated.
        refname: String,
        /// The value the caller expected (`None`: the ref should not exist).
        expected: Option<Oid>,
        /// The value the ref actually had (`None`: it does not exist).
        actual: Option<Oid>,
    },
    /// A string was not a hexadecimal object id.
    #[error("{text:?} is not a git object id (expected 40 or 64 hex digits)")]
    InvalidOid {
        /// The rejected text.
        text: String,
    },
    /// git printed something baton could not understand.
    #[error("could not understand the output of `{command}`: {output:?}")]
    UnexpectedOutput {
        /// The git command line.
        command: String,
        /// The output (possibly shortened).
        output: String,
    },
    /// A branch cannot be checked out in a lane because another worktree has it checked out.
    #[error("branch {branch} is already checked out in worktree {}, so lane {} cannot use it", other.display(), lane.display())]
    BranchCheckedOutElsewhere {
        /// The branch that was requested.
        branch: String,
        /// The lane that wanted it.
        lane: PathBuf,
        /// The worktree that has it checked out.
        other: PathBuf,
    },
    /// A lane name that is not a single plain path component.
    #[error("{name:?} is not a valid lane name (use a single directory name)")]
    InvalidLaneName {
        /// The rejected name.
        name: String,
    },
    /// The lane is not a registered worktree of the repository.
    #[error("lane {name} at {} is not a worktree of this repository", path.display())]
    LaneNotFound {
        /// The lane name.
        name: String,
        /// Where the lane should be.
        path: PathBuf,
    },
    /// A worktree's `.git` link is missing or does not point into this repository (a task
    /// deleted or rewrote it); no git command is run there.
    #[error(
        "the worktree {} is broken: {why}; baton runs no git command there (a task may have \
         deleted or rewritten its .git file)",
        path.display()
    )]
    LaneBroken {
        /// The worktree.
        path: PathBuf,
        /// What is wrong with its link, for a person.
        why: String,
    },
    /// A file system operation on a lane directory failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "remove".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying OS error.
        source: std::io::Error,
    },
}

fn show(oid: Option<&Oid>) -> String {
    oid.map_or_else(|| "no ref".to_owned(), Oid::to_string)
}
