//! `baton pause|skip|retry|reassign|force-complete|reset`, and the undoing of a pause by
//! `baton resume`: each sends one engine command and prints what it did.

use super::{known_run, open_engine, print_json};
use crate::cli_controls::ControlCommand;
use crate::{Exit, exit, style};
use anyhow::Context;
use baton_engine::{ControlOutcome, Engine};
use baton_protocol::{Control, ControlRequest, RunId, TaskId};

/// Runs one control command.
pub async fn control(command: ControlCommand, json: bool) -> Result<u8, Exit> {
    let (run, control, why) = match command {
        ControlCommand::Pause { run, why } => (run, Control::Pause, why),
        ControlCommand::Skip { run, task, why } => (
            run,
            Control::Skip {
                task: TaskId::new(task),
            },
            why,
        ),
        ControlCommand::Retry {
            run,
            task,
            agent,
            prompt_file,
            why,
        } => {
            let prompt = match prompt_file {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|error| Exit {
                    code: exit::BAD_INPUT,
                    error: anyhow::anyhow!("--prompt-file {}: {error}", path.display()),
                })?),
                None => None,
            };
            let task = TaskId::new(task);
            (
                run,
                Control::Retry {
                    task,
                    agent,
                    prompt,
                },
                why,
            )
        }
        ControlCommand::Reassign {
            run,
            task,
            agent,
            why,
        } => (
            run,
            Control::Reassign {
                task: TaskId::new(task),
                agent,
            },
            why,
        ),
        ControlCommand::ForceComplete { run, task, why } => (
            run,
            Control::ForceComplete {
                task: TaskId::new(task),
            },
            Some(why),
        ),
        ControlCommand::Reset { run, task, why } => (
            run,
            Control::Reset {
                task: TaskId::new(task),
            },
            why,
        ),
    };
    let engine = open_engine().await?;
    let run = known_run(&engine, &run).await?;
    let outcome = send(&engine, &run, control, why).await?;
    print_outcome(&outcome, json)?;
    Ok(exit::OK)
}

/// Sends `control` on `run` as this terminal's user.
pub async fn send(
    engine: &Engine,
    run: &RunId,
    control: Control,
    why: Option<String>,
) -> Result<ControlOutcome, Exit> {
    let request = ControlRequest {
        run: run.clone(),
        control,
        who: baton_engine::os_user(),
        why,
    };
    engine
        .control(&request)
        .await
        .with_context(|| format!("baton {}", request.control.name()))
        .map_err(|error| {
            let code = error
                .downcast_ref::<baton_engine::EngineError>()
                .map_or(exit::FAILED, super::exit_code_of);
            Exit { code, error }
        })
}

/// Prints what a control did: JSON, or a sentence, the tasks it moved and what comes next.
pub fn print_outcome(outcome: &ControlOutcome, json: bool) -> Result<(), Exit> {
    if json {
        return print_json(outcome);
    }
    println!("run {}: {}", outcome.run, outcome.effect);
    for (task, from, to) in &outcome.moved {
        println!(
            "  {task}: {} -> {}",
            style::status(from.as_str()),
            style::status(to.as_str())
        );
    }
    let resumes = outcome.command != "pause" && outcome.command != "resume";
    if resumes && !outcome.live {
        println!("`baton resume {}` continues the run", outcome.run);
    }
    Ok(())
}
