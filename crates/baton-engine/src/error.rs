use baton_protocol::RunId;
use std::path::PathBuf;

/// What can stop the engine from doing what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The plan file could not be read. (The io error is the `source`; `{:#}` prints it.)
    #[error("cannot read the plan {path}")]
    ReadPlan {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The plan is invalid; the text lists every problem with file:line:col.
    #[error("{0}")]
    InvalidPlan(String),
    /// `baton.toml` is invalid; the text names the file, line and column.
    #[error("{0}")]
    Config(String),
    /// The directory is not usable as the run's repository.
    #[error("{0}")]
    Repository(String),
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] baton_git::GitError),
    /// A process could not be started.
    #[error(transparent)]
    Exec(#[from] baton_exec::ExecError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] baton_store::StoreError),
    /// Another live engine owns the run.
    #[error(
        "run {run} is owned by a live baton process (pid {pid} on {host}); \
         wait for it, or stop it with `baton cancel {run}`"
    )]
    Owned { run: RunId, pid: u32, host: String },
    /// A request that does not fit what it names (a task that waits for nothing, an unknown
    /// agent): the person can fix it.
    #[error("{0}")]
    BadRequest(String),
    /// The run cannot do what was asked in its current state.
    #[error("run {run} is {status}: {what}")]
    WrongState {
        run: RunId,
        status: String,
        what: String,
    },
    /// A file under BATON_HOME could not be written. (The io error is the `source`.)
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The state found on disk contradicts the database in a way baton cannot repair.
    #[error("run {run}: {what}")]
    Inconsistent { run: RunId, what: String },
}

impl EngineError {
    /// True when the same request may succeed later without a change by the user.
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Store(e) => e.is_retryable(),
            EngineError::Owned { .. } => true,
            _ => false,
        }
    }
}
