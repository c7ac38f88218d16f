//! Where baton keeps its state: runs, tasks, attempts, merge items, lanes, live process groups
//! and the append-only event log, in one SQLite file (WAL mode).
//!
//! Every status change is a compare-and-set (`UPDATE .. WHERE status = from`) validated by the
//! state machines of `baton-core` and written in the same transaction as its event, so the event
//! log and the state can never disagree, and two engines can never both win the same transition.

mod agent_limits;
mod approvals;
mod artifacts;
pub use agent_limits::AgentLimit;
pub use approvals::{Approval, ApprovalRequest, Decision, EVERY_TASK, WaitRow};
pub use artifacts::{ArtifactRow, NewArtifact};
mod budgets;
mod controls;
mod council;
pub use budgets::{GLOBAL_KEY, Reservation};
pub use controls::{ControlChange, OverrideChange, TaskMove};
pub use council::{CandidateResult, CandidateRow, CouncilEnd, Escalation, NewCandidate};
mod error;
mod events;
mod lanes;
mod ledger;
mod merge;
mod merge_batches;
mod plan_edit;
pub use merge::MergeItemUpdate;
pub use merge_batches::{BatchOutcome, MergeBatchRow, NewBatch};
pub use plan_edit::PlanReplacement;
mod reviews;
pub use reviews::{ReviewRow, Reviewed};
mod rows;
mod runs;
mod tasks;

pub use error::StoreError;
pub use events::{REASON_MAX_BYTES, REASON_MAX_LINES, readable_reason};
pub use ledger::LedgerEntry;
pub use rows::{
    AttemptRow, GateResultRow, LaneRow, Lease, MergeItemRow, NewRun, ProcessRow, RunRow, TaskRow,
};
pub use tasks::attempt_log_path;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A handle on baton's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Readers (WAL lets them run beside the writer).
    pool: SqlitePool,
    /// The one connection every write goes through. Writers queued here wait their turn in
    /// order; writers contending inside SQLite would instead sleep in its busy handler's
    /// back-off (tens of milliseconds), which showed up as dispatch latency.
    writer: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| StoreError::CreateDir {
                path: parent.to_path_buf(),
                // "File exists" would not say which file is in the way.
                error: match error.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        std::io::Error::other("it exists and is not a directory")
                    }
                    _ => error,
                },
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let open_error = |error: sqlx::Error| error::open_error(path, &error);
        let writer = connect(&options, 1).await.map_err(open_error)?;
        // Two processes opening a new database at once (`baton run` and a `baton status` from
        // another terminal) both apply the first migration and the loser fails ("table runs
        // already exists"). Its transaction rolled back, so running the migrator again sees the
        // winner's work as applied and skips it.
        let migrator = sqlx::migrate!("./migrations");
        let mut tries = 0;
        while let Err(error) = migrator.run(&writer).await {
            tries += 1;
            if tries >= 20 {
                // A file that is not a database (or is read-only) fails here when opening it
                // did not touch it: say so the same way as a failed open.
                return Err(match error {
                    sqlx::migrate::MigrateError::Execute(error)
                    | sqlx::migrate::MigrateError::ExecuteMigration(error, _) => open_error(error),
                    other => other.into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let pool = connect(&options, 4).await.map_err(open_error)?;
        Ok(Store {
            pool,
            writer,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Connects a pool, retrying while another process holds the database locked.
///
/// Opening a connection sets `journal_mode = WAL`, and SQLite answers that pragma with "database
/// is locked" at once, without its busy handler, while another process is creating or migrating
/// the same file (seen as `baton status` failing beside a starting `baton run`).
async fn connect(options: &SqliteConnectOptions, size: u32) -> Result<SqlitePool, sqlx::Error> {
    let mut tries = 0;
    loop {
        let attempt = SqlitePoolOptions::new()
            .max_connections(size)
            .connect_with(options.clone())
            .await;
        match attempt {
            Err(sqlx::Error::Database(db)) if is_locked(db.message()) && tries < 100 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

fn is_locked(message: &str) -> bool {
    message.contains("locked") || message.contains("busy")
}

/// Now, as stored: RFC 3339 in UTC with milliseconds.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now in milliseconds since the Unix epoch (lease heartbeats).
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
