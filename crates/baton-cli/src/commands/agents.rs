//! `baton agents [--check]`: the agent CLIs baton can drive, found or not.

use super::print_json;
use crate::{Exit, exit, style};
use baton_agents::detect::detect_agents;

/// `baton agents`.
pub async fn agents(check: bool, json: bool) -> Result<u8, Exit> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cwd = std::env::current_dir()?;
    let infos = detect_agents(check, &cwd, &path).await;
    if json {
        print_json(&infos)?;
        return Ok(exit::OK);
    }
    println!(
        "{:<9} {:<13} {:<10} WHERE / HOW TO INSTALL",
        "AGENT", "BINARY", "VERSION"
    );
    for info in &infos {
        let version = info.version.clone().unwrap_or_else(|| "-".into());
        let place = match (&info.path, info.healthy) {
            (Some(path), Some(false)) => format!(
                "{} {} ({})",
                path.display(),
                style::warn("does not answer"),
                info.problem.clone().unwrap_or_default()
            ),
            (Some(path), _) => path.display().to_string(),
            (None, _) if info.name == "exec" => "built in".to_owned(),
            (None, _) => format!("not installed: {}", info.install),
        };
        println!(
            "{:<9} {:<13} {:<10} {place}",
            info.name, info.binary, version
        );
    }
    if !check {
        println!("\n`baton agents --check` also asks each one found for its version.");
    }
    Ok(exit::OK)
}
