//! Which agent CLIs this machine has: found on PATH or not, their version, whether they answer,
//! and for one that is missing, the command that installs it.

use crate::{ADAPTERS, AgentAdapter};
use baton_exec::run_captured;
use serde::Serialize;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `--version` may take in a health check.
const CHECK_LIMIT: Duration = Duration::from_secs(15);

/// One agent as `baton agents` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    /// The name plans use (`agent: claude`).
    pub name: String,
    /// The program baton starts.
    pub binary: String,
    /// Where it was found on PATH.
    pub path: Option<PathBuf>,
    /// Its version, when checked.
    pub version: Option<String>,
    /// Whether it answered `--version` (only with a check; `None` when not checked or missing).
    pub healthy: Option<bool>,
    /// What went wrong in the check.
    pub problem: Option<String>,
    /// The command that installs it.
    pub install: String,
}

/// The command that installs an agent CLI.
pub fn install_command(agent: &str) -> &'static str {
    match agent {
        "claude" => "npm install -g @anthropic-ai/claude-code",
        "codex" => "npm install -g @openai/codex",
        "gemini" => "npm install -g @google/gemini-cli",
        "qwen" => "npm install -g @qwen-code/qwen-code",
        "opencode" => "npm install -g opencode-ai",
        "aider" => "python3 -m pip install aider-chat (or: pipx install aider-chat)",
        "goose" => "see block.github.io/goose/docs/getting-started/installation",
        "cursor" => "see cursor.com/cli (installs `cursor-agent`)",
        _ => "part of baton (runs `sh -c`)",
    }
}

/// The first executable named `program` in the directories of `path` (a PATH value).
pub fn find_on_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// Every known agent, looked up in `path` (a PATH value); with `check`, each one found is asked
/// for its version (in `cwd`).
pub async fn detect_agents(check: bool, cwd: &Path, path: &OsStr) -> Vec<AgentInfo> {
    let mut infos = Vec::new();
    for adapter in ADAPTERS {
        infos.push(detect(adapter, check, cwd, path).await);
    }
    infos
}

async fn detect(adapter: &dyn AgentAdapter, check: bool, cwd: &Path, path: &OsStr) -> AgentInfo {
    detect_program(adapter, adapter.binary(), check, cwd, path).await
}

/// One agent, started as `program` (its binary, or a configured command: a path, or a name
/// looked up in `path`); with `check`, asked for its version.
pub async fn detect_program(
    adapter: &dyn AgentAdapter,
    program: &str,
    check: bool,
    cwd: &Path,
    path: &OsStr,
) -> AgentInfo {
    let path = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        find_on_path(program, path)
    };
    let mut info = AgentInfo {
        name: adapter.name().to_owned(),
        binary: program.to_owned(),
        path: path.clone(),
        version: None,
        healthy: None,
        problem: None,
        install: install_command(adapter.name()).to_owned(),
    };
    let Some(path) = path.filter(|_| check) else {
        return info;
    };
    if adapter.name() == "exec" {
        // The shell: nothing to ask (dash has no --version).
        info.healthy = Some(true);
        return info;
    }
    match check_health(adapter, &path.to_string_lossy(), cwd).await {
        Ok(version) => {
            info.version = version;
            info.healthy = Some(true);
        }
        Err(problem) => {
            info.healthy = Some(false);
            info.problem = Some(problem);
        }
    }
    info
}

/// The health check of an agent CLI: `program --version` (in `cwd`) answers within its limit.
/// Returns the version it gave, or the problem in words.
pub async fn check_health(
    adapter: &dyn AgentAdapter,
    program: &str,
    cwd: &Path,
) -> Result<Option<String>, String> {
    let detect = adapter.detect();
    let spec = detect.command(program, cwd).deadline(CHECK_LIMIT);
    match run_captured(spec).await {
        Ok(out) if out.success() => {
            let text = format!("{}\n{}", out.stdout_text(), out.stderr);
            Ok((detect.parse)(&text))
        }
        Ok(out) => {
            let said = out.stderr.lines().next().unwrap_or("").trim().to_owned();
            Err(format!(
                "`{} --version` {}: {said}",
                adapter.binary(),
                out.status
            ))
        }
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_agent_on_path_is_found_and_its_version_read_and_a_missing_one_says_how_to_install()
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("claude");
        std::fs::write(&fake, "#!/bin/sh\necho '2.1.197 (Claude Code)'\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let broken = dir.path().join("codex");
        std::fs::write(&broken, "#!/bin/sh\necho 'cannot start' >&2; exit 3\n").unwrap();
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().as_os_str();
        let infos = detect_agents(true, dir.path(), path).await;
        let by = |name: &str| infos.iter().find(|i| i.name == name).unwrap().clone();
        let claude = by("claude");
        assert_eq!(claude.path.as_deref(), Some(fake.as_path()));
        assert_eq!(claude.version.as_deref(), Some("2.1.197"));
        assert_eq!(claude.healthy, Some(true));
        let codex = by("codex");
        assert_eq!(codex.healthy, Some(false));
        assert!(codex.problem.unwrap().contains("cannot start"));
        let unchecked = detect_agents(false, dir.path(), path).await;
        assert!(unchecked.iter().all(|i| i.healthy.is_none()));
        assert_eq!(infos.len(), ADAPTERS.len());
        let gemini = by("gemini");
        assert_eq!(gemini.path, None);
        assert_eq!(gemini.healthy, None);
        assert_eq!(gemini.install, "npm install -g @google/gemini-cli");
    }
}
