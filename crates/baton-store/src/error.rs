use baton_core::InvalidTransition;
use std::path::PathBuf;

/// What can go wrong reading or writing baton's database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory for the database could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database file could not be opened.
    #[error("cannot open the database {path}: {source} (check BATON_HOME and its permissions)")]
    Open { path: PathBuf, source: sqlx::Error },
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
