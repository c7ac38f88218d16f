//! Description of a command to run under supervision.

use std::path::PathBuf;
use std::time::Duration;

use crate::Confinement;

/// Default time between SIGTERM and SIGKILL when a process group is killed.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How many output lines to keep in memory: the first `head` and the last `tail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputCap {
    /// Number of leading lines kept.
    pub head: usize,
    /// Number of trailing lines kept.
    pub tail: usize,
}

impl Default for OutputCap {
    fn default() -> Self {
        Self {
            head: 200,
            tail: 200,
        }
    }
}

/// A command to run: program, arguments, directory, environment and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// Program name (looked up on PATH) or path.
    pub program: String,
    /// Arguments passed to the program.
    pub args: Vec<String>,
    /// Working directory; must exist.
    pub cwd: PathBuf,
    /// Variables set on top of the inherited environment (applied after `env_remove`).
    pub env: Vec<(String, String)>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
    /// Absolute time limit measured from the start.
    pub deadline: Option<Duration>,
    /// Kill the process when no output line arrives for this long; warn at half of it.
    pub silence: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when the group is killed.
    pub grace: Duration,
    /// File every output line (stdout and stderr) is appended to; created with its parents.
    pub log_file: Option<PathBuf>,
    /// Most bytes the log file may hold; past it lines are counted, not written, and one
    /// last line says how many (see [`crate::log_cap_marker`]).
    pub log_cap: u64,
    /// Longest line delivered whole (default [`crate::MAX_LINE_BYTES`]); a longer one is cut
    /// with a marker. Agents whose JSON records can be large raise it.
    pub max_line_bytes: usize,
    /// How many head and tail lines are kept in memory.
    pub capture: OutputCap,
    /// Where the process (and everything it starts) may write; `None`: anywhere.
    pub confinement: Option<Confinement>,
}

impl CommandSpec {
    /// A command running `program` in `cwd` with no arguments and default limits.
    pub fn new(program: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            env_remove: Vec::new(),
            deadline: None,
            silence: None,
            grace: DEFAULT_GRACE,
            log_file: None,
            log_cap: crate::DEFAULT_LOG_CAP,
            max_line_bytes: crate::MAX_LINE_BYTES,
            capture: OutputCap::default(),
            confinement: None,
        }
    }

    /// A command running `sh -c script` in `cwd`.
    pub fn shell(script: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        Self::new("sh", cwd).arg("-c").arg(script)
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(mut self, key: impl Into<String>) -> Self {
        self.env_remove.push(key.into());
        self
    }

    /// Sets the absolute time limit.
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// Sets the silence limit (no output line for this long kills the process).
    pub fn silence(mut self, limit: Duration) -> Self {
        self.silence = Some(limit);
        self
    }

    /// Sets the SIGTERM to SIGKILL grace period.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Appends every output line to this file.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Caps the log file at `bytes` (default [`crate::DEFAULT_LOG_CAP`]); the head and tail
    /// kept in memory and the line events are not affected.
    pub fn log_cap(mut self, bytes: u64) -> Self {
        self.log_cap = bytes;
        self
    }

    /// Delivers lines up to `bytes` long whole (the head and tail kept in memory still cut
    /// each line at [`crate::MAX_LINE_BYTES`]).
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes.max(1);
        self
    }

    /// Sets how many head and tail lines are kept in memory.
    pub fn capture(mut self, cap: OutputCap) -> Self {
        self.capture = cap;
        self
    }

    /// Confines the process: it may write only where `confinement` allows (enforced by
    /// Landlock where the kernel has it, see [`crate::landlock_support`]). Sets `TMPDIR` to
    /// the confinement's temporary directory, if it has one.
    pub fn confine(mut self, confinement: Confinement) -> Self {
        if let Some(dir) = confinement.temp_dir_path() {
            let dir = dir.to_string_lossy().into_owned();
            self = self.env("TMPDIR", dir);
        }
        self.confinement = Some(confinement);
        self
    }

    /// The command line as a human-readable string, for messages.
    pub fn display(&self) -> String {
        let mut text = self.program.clone();
        for arg in &self.args {
            text.push(' ');
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                text.push('\'');
                text.push_str(arg);
                text.push('\'');
            } else {
                text.push_str(arg);
            }
        }
        text
    }

    /// Starts the command (confined, if it has a confinement); see [`Self::command`].
    pub(crate) fn start(&self) -> Result<tokio::process::Child, crate::ExecError> {
        let ruleset = match &self.confinement {
            Some(confinement) => confinement.ruleset(&self.program)?,
            None => None,
        };
        let mut cmd = self.command();
        if let Some(ruleset) = &ruleset {
            crate::confine::restrict_in_child(&mut cmd, ruleset);
        }
        // The ruleset's descriptor is dropped (closed) only after the child has exec'd.
        cmd.spawn().map_err(|source| self.spawn_error(source))
    }

    /// Builds the tokio command: own process group, stdin from /dev/null, stdout/stderr piped.
    pub(crate) fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        for key in &self.env_remove {
            cmd.env_remove(key);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// Checks the working directory before starting.
    pub(crate) fn check_cwd(&self) -> Result<(), crate::ExecError> {
        if self.cwd.is_dir() {
            Ok(())
        } else {
            Err(crate::ExecError::MissingCwd {
                program: self.program.clone(),
                cwd: self.cwd.clone(),
            })
        }
    }

    /// Turns a spawn failure into an error naming the program and directory.
    pub(crate) fn spawn_error(&self, source: std::io::Error) -> crate::ExecError {
        if source.kind() == std::io::ErrorKind::NotFound {
            if !self.cwd.is_dir() {
                return crate::ExecError::MissingCwd {
                    program: self.program.clone(),
                    cwd: self.cwd.clone(),
                };
            }
            return crate::ExecError::ProgramNotFound {
                program: self.program.clone(),
                cwd: self.cwd.clone(),
            };
        }
        crate::ExecError::Spawn {
            program: self.program.clone(),
            cwd: self.cwd.clone(),
            source,
        }
    }
}
