use baton_core::InvalidTransition;
use std::path::PathBuf;

/// What can go wrong reading or writing baton's database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory for the database (`BATON_HOME`) could not be created. The io error is
    /// part of the message, not a `source`, so a chain printer shows it once.
    #[error(
        "cannot create the directory {path} for baton's database: {error}; \
         set BATON_HOME to a directory you can write, or fix the path and its permissions"
    )]
    CreateDir {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The database file could not be opened, or its schema could not be read or written.
    /// The message names the file, SQLite's reason (once) and what to do.
    #[error("cannot open baton's database {path}: {reason}; {fix}")]
    Open {
        path: PathBuf,
        reason: String,
        fix: String,
    },
    /// The schema could not be brought up to date.
    #[error("cannot update the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// The requested change is not allowed by the state machine.
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    /// The row was not in the state the caller expected: someone else changed it first.
    #[error(
        "{entity} {id} is {actual}, not {expected} as expected; another baton process changed it"
    )]
    Stale {
        entity: &'static str,
        id: String,
        expected: String,
        actual: String,
    },
    /// No run has this id.
    #[error("no run with id {0} (see `baton status` for the runs)")]
    NoSuchRun(String),
    /// A row refers to something that does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A stored value could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// What to do about a database that cannot be opened, from SQLite's primary result code.
pub(crate) fn open_error(path: &std::path::Path, error: &sqlx::Error) -> StoreError {
    let shown = path.display();
    let (reason, code) = match error {
        sqlx::Error::Database(db) => (
            db.message().to_string(),
            db.code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff),
        ),
        other => (other.to_string(), None),
    };
    let fix = match code {
        // SQLITE_CORRUPT, SQLITE_NOTADB
        Some(11 | 26) => format!(
            "the file is damaged or is not a baton database; move it aside \
             (`mv {shown} {shown}.broken`) and baton starts a new, empty one"
        ),
        // SQLITE_READONLY, SQLITE_PERM
        Some(8 | 3) => format!(
            "baton must write it: make {shown} and its directory writable, \
             or set BATON_HOME to a directory you can write"
        ),
        // SQLITE_CANTOPEN, SQLITE_IOERR
        Some(14 | 10) => format!(
            "check that {shown} is a regular file (or absent) and that its directory is \
             writable, or set BATON_HOME to a directory you can write"
        ),
        _ => "check BATON_HOME and its permissions".to_string(),
    };
    StoreError::Open {
        path: path.to_path_buf(),
        reason,
        fix,
    }
}

impl StoreError {
    /// True when trying again later may succeed (the database was busy or locked).
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Sql(sqlx::Error::Database(db)) => {
                let message = db.message();
                message.contains("locked") || message.contains("busy")
            }
            StoreError::Sql(sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }
}
