//! `baton artifacts [RUN]` and `baton artifact show|edit|export ID`: what runs and the planner
//! kept.

use super::{bad_input, open_engine, print_json};
use crate::cli::ArtifactCommand;
use crate::{Exit, exit, style};
use baton_protocol::{ArtifactView, RunId};
use std::path::PathBuf;

/// `baton artifacts [RUN]`.
pub async fn list(run: Option<&str>, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = run.map(RunId::new);
    let rows = engine.artifacts(run.as_ref()).await?;
    let views: Vec<ArtifactView> = rows.iter().map(|row| row.view()).collect();
    if json {
        print_json(&views)?;
        return Ok(exit::OK);
    }
    if views.is_empty() {
        println!("no artifacts");
        return Ok(exit::OK);
    }
    println!(
        "{:<30} {:<16} {:<14} {:>8}  {:<24} NAME",
        "ID", "RUN", "KIND", "BYTES", "CREATED"
    );
    for view in &views {
        println!(
            "{:<30} {:<16} {:<14} {:>8}  {:<24} {}",
            view.id,
            view.run_id.as_deref().unwrap_or("-"),
            view.kind.as_str(),
            view.size,
            view.created_at,
            view.name
        );
    }
    println!(
        "\n{}",
        style::dim(
            "`baton artifact show ID` prints one; `baton artifact export ID -o FILE` writes it"
        )
    );
    Ok(exit::OK)
}

/// `baton artifact show|export ID`.
pub async fn artifact(command: ArtifactCommand, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let (id, export) = match &command {
        ArtifactCommand::Show { id } => (id, None),
        ArtifactCommand::Edit { id } => return edit(&engine, id, json).await,
        ArtifactCommand::Export { id, output, force } => (id, Some((output, *force))),
    };
    let row = engine.artifact(id).await?;
    match export {
        None => {
            if json {
                let mut doc = serde_json::to_value(row.view())?;
                doc["content"] = serde_json::json!(row.content);
                print_json(&doc)?;
            } else {
                print!("{}", row.content);
                if !row.content.ends_with('\n') {
                    println!();
                }
            }
        }
        Some((output, force)) => {
            let path = output.clone().unwrap_or_else(|| PathBuf::from(&row.name));
            if !force && (path.exists() || path.is_symlink()) {
                return Err(bad_input(format!(
                    "{} already exists; baton artifact export does not overwrite it (--force \
                     does, or -o another file)",
                    path.display()
                )));
            }
            super::write_file(&path, row.content.as_bytes(), force)?;
            if json {
                print_json(&serde_json::json!({ "id": row.id, "written": path }))?;
            } else {
                println!("{} {} to {}", style::good("wrote"), row.id, path.display());
            }
        }
    }
    Ok(exit::OK)
}

/// `baton artifact edit ID`: the person's editor on a copy; a changed plan is validated, then
/// kept as a new artifact.
async fn edit(engine: &baton_engine::Engine, id: &str, json: bool) -> Result<u8, Exit> {
    let row = engine.artifact(id).await?;
    let dir = tempfile::Builder::new()
        .prefix("baton-edit-")
        .tempdir()
        .map_err(|e| bad_input(format!("cannot make a directory to edit in: {e}")))?;
    let path = dir.path().join(&row.name);
    std::fs::write(&path, &row.content)
        .map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    // The editor is the person's own program, run here with the terminal: it is not a task.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| bad_input(format!("cannot start the editor {editor:?}: {e}")))?;
    if !status.success() {
        return Err(Exit {
            code: exit::FAILED,
            error: anyhow::anyhow!("the editor {editor:?} exited with {status}; nothing was saved"),
        });
    }
    let edited = std::fs::read_to_string(&path)
        .map_err(|e| bad_input(format!("cannot read the edited {}: {e}", path.display())))?;
    if edited == row.content {
        if json {
            print_json(&serde_json::json!({ "id": row.id, "changed": false }))?;
        } else {
            println!("no change; nothing was saved");
        }
        return Ok(exit::OK);
    }
    if row.kind == baton_protocol::ArtifactKind::Plan
        && let Err(errors) = baton_core::parse_plan(&edited, &row.name)
    {
        // Keep the person's work where they can find it.
        let kept = dir.keep().join(&row.name);
        return Err(bad_input(format!(
            "the edited plan is not valid; nothing was saved (your edit is in {}):\n{errors}",
            kept.display()
        )));
    }
    let saved = engine
        .save_artifact(row.run_id.as_ref(), row.task_id.as_ref(), row.kind, &edited)
        .await?;
    if json {
        print_json(&serde_json::json!({ "id": saved.id, "from": row.id, "changed": true }))?;
    } else {
        println!(
            "{} the edit of {} as {} (the original stays)",
            style::good("kept"),
            row.id,
            saved.id
        );
    }
    Ok(exit::OK)
}
