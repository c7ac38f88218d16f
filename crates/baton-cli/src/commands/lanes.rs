//! `baton lanes` and `baton lanes prune`.

use super::{open_engine, print_json};
use crate::cli::LanesCommand;
use crate::{Exit, exit};

/// `baton lanes [prune]`.
pub async fn lanes(command: Option<LanesCommand>, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    match command {
        None => {
            let lanes = engine.lanes().await?;
            if json {
                let rows: Vec<_> = lanes
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "repo": l.repo,
                            "name": l.name,
                            "path": l.path,
                            "run": l.run_id,
                            "task": l.task_id,
                            "purpose": l.purpose,
                        })
                    })
                    .collect();
                print_json(&rows)?;
            } else if lanes.is_empty() {
                println!("no lanes");
            } else {
                println!("{:<9} {:<34} PATH", "LANE", "HELD BY");
                for lane in lanes {
                    let held = match (&lane.run_id, &lane.task_id) {
                        (Some(run), Some(task)) => format!("{run}/{task}"),
                        (Some(run), None) => run.to_string(),
                        _ => "free".into(),
                    };
                    println!("{:<9} {:<34} {}", lane.name, held, lane.path);
                }
            }
        }
        Some(LanesCommand::Prune) => {
            let removed = engine.prune_lanes().await?;
            if json {
                print_json(&serde_json::json!({ "removed": removed }))?;
            } else if removed.is_empty() {
                println!("nothing to prune");
            } else {
                for path in &removed {
                    println!("removed {path}");
                }
            }
        }
    }
    Ok(exit::OK)
}
