//! One module per group of commands; `dispatch` routes the parsed command line.

mod agents;
mod approvals;
mod artifacts;
mod brief;
mod budget;
mod controls;
mod editor;
mod inspect;
mod keys;
mod lanes;
mod plan;
mod plan_new;
mod prices;
mod providers;
mod run;
mod run_goal;
mod run_template;
mod scan;
mod stats;
mod templates;

use crate::cli::{Cli, Command, ReportFormat};
use crate::{Exit, exit};
use baton_engine::{Engine, EngineError, Home};
use baton_protocol::RunId;
use baton_store::StoreError;
use std::path::PathBuf;

/// The exit code an engine error deserves: 2 for what the user can fix in their input.
pub fn exit_code_of(error: &EngineError) -> u8 {
    match error {
        EngineError::InvalidPlan(_)
        | EngineError::BadRequest(_)
        | EngineError::ReadPlan { .. }
        | EngineError::Repository(_)
        | EngineError::Config(_)
        | EngineError::WrongState { .. }
        | EngineError::Owned { .. }
        | EngineError::Git(baton_git::GitError::NotARepository { .. })
        | EngineError::Store(
            StoreError::NoSuchRun(_) | StoreError::CreateDir { .. } | StoreError::Open { .. },
        ) => exit::BAD_INPUT,
        _ => exit::FAILED,
    }
}

/// A bad-input error (exit 2) with `message`.
pub fn bad_input(message: impl Into<String>) -> Exit {
    Exit {
        code: exit::BAD_INPUT,
        error: anyhow::anyhow!(message.into()),
    }
}

/// Writes a file the person asked for: a temporary file beside it renamed into place, so it
/// is whole or absent; without `force` an existing file is never replaced (not even one that
/// appeared meanwhile).
pub fn write_file(path: &std::path::Path, content: &[u8], force: bool) -> Result<(), Exit> {
    use std::io::Write as _;
    let cannot = |error: &dyn std::fmt::Display| {
        bad_input(format!("cannot write {}: {error}", path.display()))
    };
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".baton-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| cannot(&e))?;
    temp.write_all(content)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| cannot(&e))?;
    let persisted = if force {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    persisted.map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// Opens the engine on `$BATON_HOME`.
pub async fn open_engine() -> Result<Engine, Exit> {
    Ok(Engine::open(Home::from_env()).await?)
}

/// The directory named by `--repo`, or the current one.
pub fn repo_dir(cli_repo: &Option<PathBuf>) -> PathBuf {
    cli_repo.clone().unwrap_or_else(|| PathBuf::from("."))
}

/// A run id given on the command line, checked to exist.
pub async fn known_run(engine: &Engine, text: &str) -> Result<RunId, Exit> {
    let id = RunId::new(text);
    engine
        .store()
        .run(&id)
        .await
        .map_err(|e| Exit::from(EngineError::from(e)))?;
    Ok(id)
}

/// Runs the command; returns the exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, Exit> {
    let json = cli.json;
    match cli.command {
        Command::Run(args) => run::run(&cli.repo, &args, json).await,
        Command::Resume {
            run,
            budget,
            budget_tokens,
            auto_approve,
        } => run::resume(&run, budget, budget_tokens, auto_approve, json).await,
        Command::Approvals { run } => approvals::list(run.as_deref(), json).await,
        Command::Approve {
            run,
            task,
            agent,
            why,
        } => {
            let decision = approvals::Decision::Approve { agent, why };
            approvals::decide(&run, task.as_deref(), decision, json).await
        }
        Command::Reject { run, task, why } => {
            let decision = approvals::Decision::Reject { why };
            approvals::decide(&run, task.as_deref(), decision, json).await
        }
        Command::Control(command) => controls::control(command, json).await,
        Command::Answer { run, text, file } => run::answer(&run, text, file, json).await,
        Command::Cancel { run } => run::cancel(&run, json).await,
        Command::Stop { run, task } => run::stop(&run, &task, json).await,
        Command::Demo { dir, agents: false } => run::demo(dir, json).await,
        Command::Demo { dir, agents: true } => crate::demo_agents::demo_agents(dir, json).await,
        Command::Status { run } => inspect::status(run.as_deref(), json).await,
        Command::Logs {
            run,
            task,
            attempt,
            follow,
        } => inspect::logs(&run, &task, attempt, follow, json).await,
        Command::Events { run, since, follow } => inspect::events(&run, since, follow).await,
        Command::Report { run, format } => {
            let format = if json { ReportFormat::Json } else { format };
            inspect::report(&run, format).await
        }
        Command::Plan { command } => plan::plan(&cli.repo, command, json).await,
        Command::Lanes { command } => lanes::lanes(command, json).await,
        Command::Prices { command } => prices::prices(command, json),
        Command::Budget { command } => budget::budget(&cli.repo, command, json).await,
        Command::Agents { check } => agents::agents(check, json).await,
        Command::Providers { command } => providers::providers(command, json).await,
        Command::Keys { command } => keys::keys(command, json),
        Command::Prompt { plan, task } => plan::prompt(&cli.repo, &plan, &task, json).await,
        Command::Stats { command } => stats::stats(command, json).await,
        Command::Brief { markdown, since } => brief::brief(&cli.repo, markdown, &since, json).await,
        Command::Scan(args) => scan::scan(&cli.repo, &args, json).await,
        Command::Artifacts { run } => artifacts::list(run.as_deref(), json).await,
        Command::Artifact { command } => artifacts::artifact(command, json).await,
        Command::Template { command } => templates::template(&cli.repo, command, json).await,
        Command::Bench(mut args) => {
            args.json |= json;
            crate::bench::run_bench(&args).await?;
            Ok(exit::OK)
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Exit> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
