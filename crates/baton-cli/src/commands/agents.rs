//! `baton agents [--check]`: the agent CLIs baton can drive, found or not, with what the
//! configuration (`~/.config/baton/config.toml` and the repository's `baton.toml`) says of each.

use super::print_json;
use crate::{Exit, exit, style};
use baton_agents::detect::{AgentInfo, detect_program};
use baton_engine::config_agents::AgentConfig;
use serde::Serialize;

/// One agent as `baton agents` shows it: what was found, and its settings (the names of its
/// extra environment variables only: their values may be secrets).
#[derive(Debug, Serialize)]
struct AgentView {
    #[serde(flatten)]
    found: AgentInfo,
    /// The model when a task names none (`None`: the client's own default).
    model: Option<String>,
    capabilities: Vec<String>,
    complexity: Option<[u32; 2]>,
    fallback: Vec<String>,
    max_concurrency: Option<u32>,
    cost_hint: Option<f64>,
    /// Names of the variables `[agents.NAME.env]` sets.
    env: Vec<String>,
    /// A rate or usage limit it reported that has not lifted yet: routing avoids it until then.
    limited: Option<baton_store::AgentLimit>,
}

/// `baton agents`.
pub async fn agents(check: bool, json: bool) -> Result<u8, Exit> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cwd = std::env::current_dir()?;
    // Inside a repository its baton.toml counts too; elsewhere the user's file alone.
    let root = match baton_git::Git::discover(&cwd).await {
        Ok(git) => git.root().to_path_buf(),
        Err(_) => cwd.clone(),
    };
    let config = baton_engine::Config::load(&root)?;
    // Limits reported in earlier runs; a machine without a database has none (and gets none).
    let home = baton_engine::Home::from_env();
    let limits = if home.database().exists() {
        baton_engine::Engine::open(home)
            .await?
            .agent_limits()
            .await?
    } else {
        Vec::new()
    };
    let mut views = Vec::new();
    for adapter in baton_agents::ADAPTERS {
        let settings = config
            .agents
            .get(adapter.name())
            .cloned()
            .unwrap_or_default();
        let program = settings
            .command
            .clone()
            .unwrap_or_else(|| adapter.binary().to_owned());
        let found = detect_program(adapter, &program, check, &cwd, &path).await;
        let limited = limits.iter().find(|l| l.agent == adapter.name()).cloned();
        views.push(view(found, settings, limited));
    }
    if json {
        print_json(&views)?;
        return Ok(exit::OK);
    }
    println!(
        "{:<9} {:<13} {:<10} {:<20} WHERE / HOW TO INSTALL",
        "AGENT", "BINARY", "VERSION", "MODEL"
    );
    for view in &views {
        let info = &view.found;
        let version = info.version.clone().unwrap_or_else(|| "-".into());
        let model = view.model.clone().unwrap_or_else(|| "(client's)".into());
        let place = match (&info.path, info.healthy) {
            (Some(path), Some(false)) => format!(
                "{} {} ({})",
                path.display(),
                style::warn("does not answer"),
                info.problem.clone().unwrap_or_default()
            ),
            (Some(path), _) => path.display().to_string(),
            (None, _) if info.name == "exec" => "built in".to_owned(),
            (None, _) if info.binary.contains('/') => {
                format!("configured command {} does not exist", info.binary)
            }
            (None, _) => format!("not installed: {}", info.install),
        };
        let binary = std::path::Path::new(&info.binary)
            .file_name()
            .map_or_else(|| info.binary.clone(), |n| n.to_string_lossy().into_owned());
        println!(
            "{:<9} {:<13} {:<10} {:<20} {place}",
            info.name, binary, version, model
        );
        let routing = routing_line(view);
        if !routing.is_empty() {
            println!("{:<9} {}", "", style::dim(&routing));
        }
    }
    if !check {
        println!("\n`baton agents --check` also asks each one found for its version.");
    }
    Ok(exit::OK)
}

fn view(
    found: AgentInfo,
    settings: AgentConfig,
    limited: Option<baton_store::AgentLimit>,
) -> AgentView {
    AgentView {
        found,
        model: settings.model,
        capabilities: settings.capabilities,
        complexity: settings.complexity,
        fallback: settings.fallback,
        max_concurrency: settings.max_concurrency,
        cost_hint: settings.cost_hint,
        env: settings.env.into_keys().collect(),
        limited,
    }
}

/// What routing knows of an agent, on one line (empty when nothing is configured).
fn routing_line(view: &AgentView) -> String {
    let mut parts = Vec::new();
    if let Some(limit) = &view.limited {
        parts.push(format!(
            "{} limit until {}{}",
            limit.kind,
            limit.until,
            limit
                .reset_at
                .as_deref()
                .map(|said| format!(" (it said: resets {said})"))
                .unwrap_or_default()
        ));
    }
    if !view.capabilities.is_empty() {
        parts.push(format!("capabilities {}", view.capabilities.join(", ")));
    }
    if let Some([low, high]) = view.complexity {
        parts.push(format!("complexity {low}-{high}"));
    }
    if let Some(hint) = view.cost_hint {
        parts.push(format!("about ${hint:.2} a task"));
    }
    if let Some(max) = view.max_concurrency {
        parts.push(format!("at most {max} at once"));
    }
    if !view.fallback.is_empty() {
        parts.push(format!("falls back to {}", view.fallback.join(", ")));
    }
    if !view.env.is_empty() {
        parts.push(format!("env {}", view.env.join(", ")));
    }
    parts.join("; ")
}
