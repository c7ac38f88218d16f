//! `baton run`, `resume`, `cancel` and `demo`: the commands that drive runs.

use super::{known_run, open_engine, print_json, repo_dir};
use crate::cli::RunArgs;
use crate::display::{self, Mode};
use crate::{Exit, exit, style};
use baton_engine::{CancelOutcome, Delivery, Engine, RunRequest, RunResult};
use baton_protocol::{RunId, RunStatus};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_util::sync::CancellationToken;

/// `baton run --plan FILE`, `baton run "GOAL"` or `baton run --scan`.
pub async fn run(repo: &Option<PathBuf>, args: &RunArgs, json: bool) -> Result<u8, Exit> {
    // `--scan`: the plan of what baton scan finds, in a temporary file kept until the end.
    if args.scan {
        let Some(file) = super::scan::plan_for_run(repo).await? else {
            return Ok(exit::OK);
        };
        return run_plan(repo, args, file.path(), None, json).await;
    }
    match (&args.goal, &args.plan) {
        (Some(goal), None) => super::run_goal::run_goal(repo, goal, args, json).await,
        (None, None) if args.template.is_some() => {
            let name = args.template.as_deref().unwrap_or_default();
            super::run_template::run_template(repo, None, name, args, json).await
        }
        (None, Some(plan)) => run_plan(repo, args, plan, None, json).await,
        _ => Err(super::bad_input(
            "say what to run: `baton run \"GOAL\"` (the planner makes the plan), `baton run \
             --plan FILE` or `baton run --scan`, one of them",
        )),
    }
}

/// A plan made by the planner for the run: its artifacts become the run's, and what planning
/// cost goes into the run's ledger.
pub struct Planning<'a> {
    /// The planner's plan (plain planning).
    pub planned: Option<&'a baton_engine::Planned>,
    /// A template's plan (its analyzers' and planner's costs).
    pub template: Option<&'a baton_engine::TemplatePlanned>,
    pub artifacts: Vec<String>,
    /// The planner's open questions: the run waits for `baton answer` when there are any.
    pub questions: Vec<String>,
}

/// Runs the plan file `plan` (made by the planner when `planning` says so).
pub async fn run_plan(
    repo: &Option<PathBuf>,
    args: &RunArgs,
    plan: &std::path::Path,
    planning: Option<Planning<'_>>,
    json: bool,
) -> Result<u8, Exit> {
    if args.dry_run {
        return super::plan::show_plan(repo, plan, args.lanes, json).await;
    }
    let request = RunRequest {
        repo_dir: repo_dir(repo),
        plan_path: plan.to_path_buf(),
        lanes: args.lanes,
        into: args.into.clone(),
    };
    // Everything that can be refused is checked before $BATON_HOME is touched.
    let checked = request.check().await?;
    let engine = open_engine().await?;
    let mode = Mode::pick(json);
    let run = engine.create_checked_run(&checked).await?;
    let mut questions = Vec::new();
    if let Some(planning) = planning {
        engine.attach_artifacts(&run, &planning.artifacts).await?;
        if let Some(template) = planning.template {
            engine.record_template_usage(&run, template).await?;
        } else if let Some(planned) = planning.planned {
            engine.record_planner_usage(&run, planned).await?;
        }
        questions = planning.questions;
    }
    if args.budget.is_some() || args.budget_tokens.is_some() {
        engine
            .set_run_budget(&run, args.budget, args.budget_tokens)
            .await?;
    }
    if args.auto_approve {
        engine.auto_approve(&run).await?;
    }
    if !questions.is_empty() {
        engine.await_input(&run, &questions).await?;
        if json {
            print_json(&serde_json::json!({
                "run": run, "status": RunStatus::AwaitingInput, "open_questions": questions,
            }))?;
        } else {
            eprintln!(
                "\n{} the planner has open questions (listed above); run {run} waits for your \
                 answers: `baton answer {run}` (or --text \"...\" / --file F) answers them and \
                 starts it, `baton cancel {run}` gives it up",
                style::warn("waiting for a person:")
            );
        }
        return Ok(exit::PAUSED);
    }
    drive_and_report(&engine, &run, mode, true).await
}

/// `baton answer RUN [--text T | --file F]`: the answers (typed on a terminal, else read from
/// stdin) join the run's goal, then the run is driven like `baton resume`.
pub async fn answer(
    run: &str,
    text: Option<String>,
    file: Option<PathBuf>,
    json: bool,
) -> Result<u8, Exit> {
    use std::io::{BufRead as _, IsTerminal as _, Read as _};
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let answers = match (text, file) {
        (Some(text), _) => text,
        (None, Some(path)) => std::fs::read_to_string(&path).map_err(|error| Exit {
            code: exit::BAD_INPUT,
            error: anyhow::anyhow!("--file {}: {error}", path.display()),
        })?,
        (None, None) if std::io::stdin().is_terminal() => {
            let questions = engine.open_questions(&run).await?;
            eprintln!("the planner asks:");
            for question in &questions {
                eprintln!("  - {question}");
            }
            eprintln!("your answers (an empty line ends them):");
            let mut lines = Vec::new();
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    break;
                }
                lines.push(line);
            }
            lines.join("\n")
        }
        (None, None) => {
            let mut all = String::new();
            std::io::stdin().read_to_string(&mut all)?;
            all
        }
    };
    engine
        .answer(&run, &answers, &baton_engine::os_user())
        .await?;
    drive_and_report(&engine, &run, Mode::pick(json), true).await
}

/// `baton resume RUN`.
pub async fn resume(
    run: &str,
    budget: Option<baton_core::Usd>,
    budget_tokens: Option<u64>,
    auto_approve: bool,
    json: bool,
) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    if budget.is_some() || budget_tokens.is_some() {
        engine.set_run_budget(&run, budget, budget_tokens).await?;
    }
    if auto_approve {
        engine.auto_approve(&run).await?;
    }
    // A pause is undone through the audited control; a live engine then just goes on.
    let row = engine.store().run(&run).await?;
    let pausing = engine.store().pause_requested(&run).await?;
    if pausing || row.status == RunStatus::Paused {
        let outcome =
            super::controls::send(&engine, &run, baton_protocol::Control::Resume, None).await?;
        if outcome.live {
            super::controls::print_outcome(&outcome, json)?;
            return Ok(exit::OK);
        }
    }
    drive_and_report(&engine, &run, Mode::pick(json), true).await
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP (the terminal was closed), then cancels the drive: the
/// engine stops its processes and leaves the run resumable. A hangup is recorded in `hung_up`.
async fn stop_on_signals(cancel: CancellationToken, hung_up: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    async fn next(kind: SignalKind) {
        match signal(kind) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = next(SignalKind::terminate()) => {}
        _ = next(SignalKind::hangup()) => hung_up.store(true, Ordering::SeqCst),
    }
    cancel.cancel();
    // The terminal may be gone: a failed write must not stop anything.
    let _ = writeln!(
        std::io::stderr(),
        "baton: stopping (the run stays resumable)..."
    );
}

/// Drives a run with live output; Ctrl-C, SIGTERM or SIGHUP cancels it, leaving it resumable.
/// With `print_report`, the Markdown report goes to stdout at the end (not with `--json`).
pub async fn drive_and_report(
    engine: &Engine,
    run: &RunId,
    mode: Mode,
    print_report: bool,
) -> Result<u8, Exit> {
    let cancel = CancellationToken::new();
    let hung_up = Arc::new(AtomicBool::new(false));
    let signals = tokio::spawn(stop_on_signals(cancel.clone(), hung_up.clone()));
    let stop_display = CancellationToken::new();
    let shown = tokio::spawn(display::show(
        engine.clone(),
        run.clone(),
        mode,
        stop_display.clone(),
    ));
    // Let the display subscribe before the engine starts publishing.
    tokio::task::yield_now().await;
    let result = engine.drive(run, cancel).await;
    stop_display.cancel();
    let _ = shown.await;
    signals.abort();
    let result = result?;
    // After a hangup nobody reads the terminal, and writing to it fails.
    if mode != Mode::Json && !hung_up.load(Ordering::SeqCst) {
        if print_report {
            println!("{}", engine.report(&result.run).await?.to_markdown());
        }
        summarize(engine, &result).await?;
    }
    Ok(match result.status {
        RunStatus::Completed => exit::OK,
        RunStatus::Cancelled => exit::CANCELLED,
        RunStatus::BudgetExceeded
        | RunStatus::AwaitingApproval
        | RunStatus::Paused
        | RunStatus::NeedsHuman => exit::PAUSED,
        _ => exit::FAILED,
    })
}

async fn summarize(engine: &Engine, result: &RunResult) -> Result<(), Exit> {
    let report = engine.report(&result.run).await?;
    let merged = report.tasks.iter().filter(|t| t.status == "merged").count();
    eprintln!(
        "\nrun {} {}: {merged}/{} tasks merged in {}, parallel efficiency {:.2}",
        result.run,
        style::status(result.status.as_str()),
        report.tasks.len(),
        baton_core::format_duration(std::time::Duration::from_millis(report.duration_ms)),
        report.efficiency.ratio
    );
    match &result.delivery {
        Some(Delivery::Left { branch, command }) => {
            eprintln!("the result is on {branch}; to take it: {command}");
        }
        Some(Delivery::Moved { branch, to, .. }) => {
            eprintln!("{branch} now points at {}", to.get(..10).unwrap_or(to));
        }
        Some(Delivery::Refused {
            branch,
            reason,
            command,
        }) => {
            eprintln!(
                "{} {branch} was left alone: {reason}; to take the result: {command}",
                style::warn("note:")
            );
        }
        None => {}
    }
    match result.status {
        RunStatus::Failed => eprintln!(
            "see `baton report {0}` for what failed; `baton resume {0}` tries the failed tasks again",
            result.run
        ),
        RunStatus::Cancelled => eprintln!("`baton resume {}` continues it", result.run),
        RunStatus::AwaitingApproval => eprintln!(
            "paused: tasks wait for approval (see `baton approvals {0}`); `baton approve {0} \
             TASK` (or `baton reject {0} TASK --why ...`), then `baton resume {0}`",
            result.run
        ),
        RunStatus::Paused => eprintln!(
            "paused by `baton pause`; `baton resume {}` continues it",
            result.run
        ),
        RunStatus::NeedsHuman => eprintln!(
            "paused: tasks need a person (see `baton status {0}`); `baton retry {0} TASK` \
             [--agent A] [--prompt-file F], `baton skip`, `baton reassign` or `baton \
             force-complete`, then `baton resume {0}`",
            result.run
        ),
        RunStatus::BudgetExceeded => eprintln!(
            "paused: a budget would be exceeded (see `baton events {0}` and `baton budget \
             status`); `baton resume {0} --budget USD` raises the run's budget and continues",
            result.run
        ),
        _ => {}
    }
    Ok(())
}

/// `baton cancel RUN`.
pub async fn cancel(run: &str, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let outcome = engine.cancel(&run).await?;
    if json {
        let killed = match &outcome {
            CancelOutcome::MarkedCancelled { killed } => killed.clone(),
            CancelOutcome::StoppedByOwner => Vec::new(),
        };
        print_json(&serde_json::json!({
            "run": run,
            "status": "cancelled",
            "stopped_by_owner": outcome == CancelOutcome::StoppedByOwner,
            "killed": killed,
        }))?;
    } else {
        match outcome {
            CancelOutcome::StoppedByOwner => {
                eprintln!("run {run} cancelled; `baton resume {run}` continues it")
            }
            CancelOutcome::MarkedCancelled { killed } => {
                for line in killed {
                    eprintln!("{line}");
                }
                eprintln!(
                    "run {run} (no live owner) marked cancelled; `baton resume {run}` continues it"
                );
            }
        }
    }
    Ok(exit::OK)
}

/// `baton stop RUN TASK`.
pub async fn stop(run: &str, task: &str, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let outcome = engine
        .stop_attempt(&run, &baton_protocol::TaskId::new(task))
        .await?;
    if json {
        print_json(&outcome)?;
    } else {
        let next = match outcome.task_status {
            baton_protocol::TaskStatus::Pending => "it runs again",
            baton_protocol::TaskStatus::Failed => "it had no retries left and failed",
            _ => "",
        };
        eprintln!(
            "task {} attempt {} {}; {next}",
            outcome.task, outcome.attempt, outcome.attempt_status
        );
    }
    Ok(exit::OK)
}

/// `baton demo`: a sample repository, a plan of eight tasks, three lanes, the report.
pub async fn demo(dir: Option<PathBuf>, json: bool) -> Result<u8, Exit> {
    let dir = match dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            dir
        }
        None => tempfile::Builder::new()
            .prefix("baton-demo-")
            .tempdir()?
            .keep(),
    };
    let project = crate::demo::create_demo_project(&dir).await?;
    // The demo keeps its state beside the sample so it never touches the user's runs.
    let home = baton_engine::Home::new(dir.join("baton-home"));
    let engine = Engine::open(home).await?;
    let request = RunRequest {
        repo_dir: project.repo.clone(),
        plan_path: project.plan.clone(),
        lanes: Some(3),
        into: None,
    };
    let run = engine.create_run(&request).await?;
    let code = drive_and_report(&engine, &run, Mode::pick(json), false).await?;
    if json {
        print_json(&engine.report(&run).await?)?;
        return Ok(code);
    }
    println!("{}", engine.report(&run).await?.to_markdown());
    let git = baton_git::Git::discover(&project.repo).await?;
    let integration = format!("refs/heads/baton/{run}/integration");
    let base = engine.store().run(&run).await?.base_commit;
    println!("## Integration branch log (baton/{run}/integration)\n");
    for commit in git.commits(&format!("{base}..{integration}")).await? {
        let kind = if commit.parents.len() > 1 {
            "merge "
        } else {
            "      "
        };
        println!(
            "{} {kind}{}",
            commit.oid.as_str().get(..10).unwrap_or(commit.oid.as_str()),
            commit.subject
        );
    }
    println!(
        "\nsample repository: {}\nstate: BATON_HOME={} baton status {run}",
        project.repo.display(),
        dir.join("baton-home").display()
    );
    Ok(code)
}
