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
    let (dir, path, edited) = super::editor::edit_copy(&row.name, &row.content)?;
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
        let _ = dir.keep();
        return Err(bad_input(format!(
            "the edited plan is not valid; nothing was saved (your edit is in {}):\n{errors}",
            path.display()
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
