//! The shape every agent adapter has: how to start the client, how to read what it prints, and
//! what its exit means.

use crate::{ENV_ATTEMPT, ENV_FEEDBACK_FILE, ENV_LANE_DIR, ENV_RUN_ID, ENV_TASK_ID};
use baton_exec::{CommandSpec, Confinement};
use baton_protocol::{AgentErrorKind, AgentEvent, RunId, TaskId};
use std::path::PathBuf;
use std::time::Duration;

/// Longest prompt passed inline as one argument. Linux refuses a single argument over 128 KiB
/// (`MAX_ARG_STRLEN`); past this the client is pointed at the prompt file instead.
pub const MAX_PROMPT_ARG_BYTES: usize = 100 * 1024;

/// Everything an adapter needs to start one attempt of a task with an agent CLI.
#[derive(Debug, Clone)]
pub struct AgentInvocation {
    /// The run the attempt belongs to.
    pub run: RunId,
    /// The task.
    pub task: TaskId,
    /// The attempt number (1 for the first).
    pub attempt: u32,
    /// The lane's worktree; the agent runs here.
    pub lane_dir: PathBuf,
    /// The rendered prompt.
    pub prompt: String,
    /// The same prompt written to a file, used when it is too long for the command line.
    pub prompt_file: Option<PathBuf>,
    /// The model to ask the client for (`None`: the client's default).
    pub model: Option<String>,
    /// The most turns the client may take, for clients that have such a limit.
    pub max_turns: Option<u32>,
    /// Arguments from the configuration, added before the prompt where the prompt is positional.
    pub extra_args: Vec<String>,
    /// Environment from the configuration, applied last (it wins over what the adapter sets).
    pub extra_env: Vec<(String, String)>,
    /// A client session to continue, for clients that can resume.
    pub resume: Option<String>,
    /// The program to start instead of the adapter's default binary name.
    pub program: Option<String>,
    /// The task's `run` command (the `exec` agent only).
    pub run_command: Option<String>,
    /// The previous attempt's failure, written to a file, on a retry.
    pub feedback_file: Option<PathBuf>,
    /// Absolute limit of the agent process.
    pub timeout: Duration,
    /// Silence limit (warn at half).
    pub silence: Option<Duration>,
    /// Where every output line is appended.
    pub log_file: PathBuf,
    /// Where the agent may write; `None`: unconfined.
    pub confinement: Option<Confinement>,
    /// Whether baton runs as root (Claude Code then needs `IS_SANDBOX=1` to skip permissions).
    pub running_as_root: bool,
    /// The most dollars the attempt may spend, in micro-dollars, for clients that can enforce
    /// it themselves (Claude Code's `--max-budget-usd`); baton's budget guard stops it anyway.
    pub max_budget_micros: Option<u64>,
}

impl AgentInvocation {
    /// An invocation with the given identity, lane and prompt, and defaults for everything else
    /// (one hour, no silence limit, log file `agent.log` in the lane's parent).
    pub fn new(
        run: RunId,
        task: TaskId,
        attempt: u32,
        lane_dir: impl Into<PathBuf>,
        prompt: impl Into<String>,
    ) -> Self {
        let lane_dir = lane_dir.into();
        let log_file = lane_dir.parent().map_or_else(
            || lane_dir.join("agent.log"),
            |parent| parent.join("agent.log"),
        );
        Self {
            run,
            task,
            attempt,
            lane_dir,
            prompt: prompt.into(),
            prompt_file: None,
            model: None,
            max_turns: None,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            resume: None,
            program: None,
            run_command: None,
            feedback_file: None,
            timeout: Duration::from_secs(3600),
            silence: None,
            log_file,
            confinement: None,
            running_as_root: false,
            max_budget_micros: None,
        }
    }

    /// The prompt as one argument: the text itself, or, when it is too long for the command
    /// line and a prompt file exists, a sentence pointing the agent at that file.
    pub fn prompt_arg(&self) -> String {
        match &self.prompt_file {
            Some(file) if self.prompt.len() > MAX_PROMPT_ARG_BYTES => format!(
                "Your task is written in the file {}. Read it in full and do what it says.",
                file.display()
            ),
            // A leading dash would be read as an option by the client's argument parser.
            _ if self.prompt.starts_with('-') => format!(" {}", self.prompt),
            _ => self.prompt.clone(),
        }
    }

    /// The supervised command every adapter starts from: `program` in the lane, with baton's
    /// variables, the limits, the log file and the confinement. The user's HOME and keys are
    /// inherited untouched.
    pub fn base_spec(&self, default_program: &str) -> CommandSpec {
        let program = self.program.as_deref().unwrap_or(default_program);
        let mut spec = CommandSpec::new(program, self.lane_dir.clone())
            .env(ENV_RUN_ID, self.run.as_str())
            .env(ENV_TASK_ID, self.task.as_str())
            .env(ENV_LANE_DIR, self.lane_dir.to_string_lossy())
            .env(ENV_ATTEMPT, self.attempt.to_string())
            .without_git_env()
            .deadline(self.timeout)
            .log_file(self.log_file.clone());
        spec = match &self.feedback_file {
            Some(path) => spec.env(ENV_FEEDBACK_FILE, path.to_string_lossy()),
            None => spec.env_remove(ENV_FEEDBACK_FILE),
        };
        if let Some(silence) = self.silence {
            spec = spec.silence(silence);
        }
        if let Some(confinement) = &self.confinement {
            spec = spec.confine(confinement.clone());
        }
        spec
    }

    /// Applies the configuration's environment, last, so that it wins.
    pub fn with_extra_env(&self, mut spec: CommandSpec) -> CommandSpec {
        for (key, value) in &self.extra_env {
            spec = spec.env(key.clone(), value.clone());
        }
        spec
    }
}

/// Turns a client's output, line by line, into [`AgentEvent`]s. Decoders keep state (a message
/// streamed in pieces, a session id seen once), so one decoder reads one process's output.
pub trait StreamDecoder: Send {
    /// The events one stdout line carries (often none, sometimes several). Never fails: a line
    /// the decoder does not understand becomes [`AgentEvent::Unknown`].
    fn decode_line(&mut self, line: &str) -> Vec<AgentEvent>;

    /// The events still held when the output ends (a message streamed in pieces).
    fn finish(&mut self) -> Vec<AgentEvent> {
        Vec::new()
    }
}

/// How to ask a client for its version.
#[derive(Debug, Clone)]
pub struct Detect {
    /// Arguments that make it print its version.
    pub args: Vec<String>,
    /// Reads the version out of what it printed.
    pub parse: fn(&str) -> Option<String>,
}

impl Detect {
    /// `--version`, and the first word that looks like a version number.
    pub fn version_flag() -> Self {
        Self {
            args: vec!["--version".into()],
            parse: first_version_word,
        }
    }

    /// The command that asks `program` for its version in `cwd`.
    pub fn command(&self, program: &str, cwd: impl Into<PathBuf>) -> CommandSpec {
        CommandSpec::new(program, cwd)
            .args(self.args.iter().cloned())
            .deadline(Duration::from_secs(30))
    }
}

/// The first whitespace-separated word that starts with a digit (after an optional `v`) and
/// holds a dot: `2.1.197` in `2.1.197 (Claude Code)`, `0.169.0` in `codex-cli 0.169.0`.
pub fn first_version_word(output: &str) -> Option<String> {
    output.split_whitespace().find_map(|word| {
        let word = word
            .trim_start_matches('v')
            .trim_end_matches([',', ')', '(']);
        let starts_with_digit = word.chars().next().is_some_and(|c| c.is_ascii_digit());
        (starts_with_digit && word.contains('.')).then(|| word.to_string())
    })
}

/// What a client tells baton about tokens and dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageReporting {
    /// Tokens and dollars (the dollars are the client's own pricing).
    TokensAndCost,
    /// Tokens, and dollars only when its configuration gives prices; otherwise baton prices
    /// the tokens.
    TokensCostIfConfigured,
    /// Tokens only: baton prices them.
    TokensOnly,
    /// Nothing: neither tokens nor cost are known, and baton must say "unknown", never 0.
    Unreported,
}

/// What the end of an agent process means for its attempt. (Killed by baton, for a deadline,
/// silence or cancel, is decided by the engine before asking the adapter.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitClass {
    /// The agent finished its work.
    Success,
    /// The agent failed for a reason of its own (or one baton cannot tell apart).
    AgentError,
    /// The client's credentials are missing or were refused.
    AuthFailure,
    /// A short-term rate limit; retrying after `reset_at` may work.
    RateLimited {
        /// When the limit lifts, as the client said it.
        reset_at: Option<String>,
    },
    /// A plan or quota limit; this agent cannot work until `reset_at`.
    UsageLimited {
        /// When the limit lifts, as the client said it.
        reset_at: Option<String>,
    },
    /// The client stopped at its turn limit.
    TurnLimit,
    /// The conversation outgrew the model's context window.
    ContextTooLong,
}

/// One agent CLI: how it starts headless, how its output reads, and what its end means.
pub trait AgentAdapter: Send + Sync {
    /// The adapter's name in configuration (`claude`, `codex`, ...).
    fn name(&self) -> &'static str;

    /// The client's program name, looked up on PATH.
    fn binary(&self) -> &'static str;

    /// How to ask the client for its version.
    fn detect(&self) -> Detect {
        Detect::version_flag()
    }

    /// The supervised command of one attempt.
    fn command(&self, invocation: &AgentInvocation) -> CommandSpec;

    /// A fresh decoder for one process's stdout.
    fn decoder(&self) -> Box<dyn StreamDecoder>;

    /// What the client reports about tokens and dollars.
    fn usage_reporting(&self) -> UsageReporting;

    /// What the process's exit code and its events mean.
    fn classify_exit(&self, code: i32, events: &[AgentEvent]) -> ExitClass {
        classify_by_events(code, events)
    }

    /// The session to resume the conversation with, if the client reported one.
    fn session_id(&self, events: &[AgentEvent]) -> Option<String> {
        last_session(events)
    }

    /// The arguments that resume `session`, for clients that can resume.
    fn resume_args(&self, session: &str) -> Option<Vec<String>> {
        let _ = session;
        None
    }
}

/// The last [`AgentEvent::Session`] id in `events`.
pub fn last_session(events: &[AgentEvent]) -> Option<String> {
    events.iter().rev().find_map(|event| match event {
        AgentEvent::Session { id } => Some(id.clone()),
        _ => None,
    })
}

/// The classification shared by every adapter: exit 0 without a failed result is success
/// (errors along the way were recovered from); otherwise the most telling error decides.
pub fn classify_by_events(code: i32, events: &[AgentEvent]) -> ExitClass {
    let failed_result = events
        .iter()
        .any(|event| matches!(event, AgentEvent::Result { ok: false, .. }));
    if code == 0 && !failed_result {
        return ExitClass::Success;
    }
    events
        .iter()
        .rev()
        .find_map(|event| match event {
            AgentEvent::Error { kind, .. } => class_of(kind),
            _ => None,
        })
        .unwrap_or(ExitClass::AgentError)
}

/// The exit class an error kind implies, if it implies one.
pub fn class_of(kind: &AgentErrorKind) -> Option<ExitClass> {
    match kind {
        AgentErrorKind::Auth => Some(ExitClass::AuthFailure),
        AgentErrorKind::RateLimited { reset_at } => Some(ExitClass::RateLimited {
            reset_at: reset_at.clone(),
        }),
        AgentErrorKind::UsageLimited { reset_at } => Some(ExitClass::UsageLimited {
            reset_at: reset_at.clone(),
        }),
        AgentErrorKind::ContextTooLong => Some(ExitClass::ContextTooLong),
        AgentErrorKind::TurnLimit => Some(ExitClass::TurnLimit),
        AgentErrorKind::Server | AgentErrorKind::Other => None,
    }
}

/// Feeds every line of `output` to `decoder`, then finishes it.
pub fn decode_all(decoder: &mut dyn StreamDecoder, output: &str) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    for line in output.lines() {
        events.extend(decoder.decode_line(line));
    }
    events.extend(decoder.finish());
    events
}
