//! Errors raised while starting or tracking a child process.

use std::path::PathBuf;

/// What went wrong when baton tried to run a program.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The working directory given for the command does not exist (or is not a directory).
    #[error("cannot start `{program}`: working directory {} does not exist or is not a directory", cwd.display())]
    MissingCwd {
        /// The program that was to be started.
        program: String,
        /// The directory that was missing.
        cwd: PathBuf,
    },
    /// The program could not be found on PATH (or at the given path).
    #[error("cannot start `{program}` in {}: program not found", cwd.display())]
    ProgramNotFound {
        /// The program that was not found.
        program: String,
        /// The working directory it was to run in.
        cwd: PathBuf,
    },
    /// The operating system refused to start the program.
    #[error("cannot start `{program}` in {}: {source}", cwd.display())]
    Spawn {
        /// The program that failed to start.
        program: String,
        /// The working directory it was to run in.
        cwd: PathBuf,
        /// The underlying OS error.
        source: std::io::Error,
    },
    /// The log file for the command could not be created or opened.
    #[error("cannot open log file {} for `{program}`: {source}", path.display())]
    LogFile {
        /// The program whose output was to be logged.
        program: String,
        /// The log file path.
        path: PathBuf,
        /// The underlying OS error.
        source: std::io::Error,
    },
    /// Waiting for the program to finish failed (the process was lost).
    #[error("lost track of `{program}` running in {}: {source}", cwd.display())]
    Wait {
        /// The program that was being waited for.
        program: String,
        /// The working directory it ran in.
        cwd: PathBuf,
        /// The underlying OS error.
        source: std::io::Error,
    },
    /// A writable path of the command's confinement exists but cannot be opened.
    #[error("cannot confine `{program}`: writable path {} cannot be opened: {source}", path.display())]
    ConfinePath {
        /// The program that was to be confined.
        program: String,
        /// The writable path.
        path: PathBuf,
        /// The underlying OS error.
        source: std::io::Error,
    },
    /// The kernel refused to build the Landlock ruleset.
    #[error("cannot confine `{program}`: the Landlock ruleset could not be built: {source}")]
    ConfineRuleset {
        /// The program that was to be confined.
        program: String,
        /// What Landlock reported.
        source: landlock::RulesetError,
    },
    /// The kernel refused the rule that makes a path writable.
    #[error("cannot confine `{program}`: the kernel refused to make {} writable: {source}", path.display())]
    ConfineRule {
        /// The program that was to be confined.
        program: String,
        /// The writable path.
        path: PathBuf,
        /// What Landlock reported.
        source: landlock::RulesetError,
    },
}
