//! `baton`: run a plan of tasks in parallel git lanes and integrate them through a gated merge
//! queue. This binary is the command-line face of `baton-engine`.

mod bench;
mod cli;
mod cli_controls;
mod cli_templates;
mod commands;
mod demo;
mod demo_agents;
mod display;
mod style;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes, as documented in `baton --help`.
pub(crate) mod exit {
    /// The run completed (or the command succeeded).
    pub const OK: u8 = 0;
    /// The run failed, or the command failed at run time.
    pub const FAILED: u8 = 1;
    /// Bad input or usage.
    pub const BAD_INPUT: u8 = 2;
    /// The run was cancelled.
    pub const CANCELLED: u8 = 3;
    /// The run paused for a person: a budget would be exceeded (`baton resume --budget`),
    /// tasks wait for approval or for a person, or `baton pause`.
    pub const PAUSED: u8 = 4;
}

/// An error that carries its exit code.
#[derive(Debug)]
pub(crate) struct Exit {
    pub code: u8,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Exit {
    fn from(error: E) -> Exit {
        let error: anyhow::Error = error.into();
        let code = match error.downcast_ref::<baton_engine::EngineError>() {
            Some(e) => commands::exit_code_of(e),
            None => exit::FAILED,
        };
        Exit { code, error }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BATON_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton: cannot start the async runtime: {error}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(exit) => {
            eprintln!("{} {}", style::error_label(), render(&exit.error));
            ExitCode::from(exit.code)
        }
    }
}

/// The error and its causes on one line, each said once: many errors include their cause in
/// their own message (sqlx's do, and so do ours that name a path and the fix), and printing
/// the whole chain repeated the same text up to three times.
fn render(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
