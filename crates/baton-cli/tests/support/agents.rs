//! Helpers of the end-to-end tests that drive real agent CLIs (installed by
//! `scripts/agent-clients.sh`) against the scripted fake LLM server: where a client is
//! installed, a `baton` command with the client on PATH and a HOME of its own, and a search
//! for leaked keys. How each client is pointed at the server offline, and which script turns
//! make it write a file, is `baton_testkit::agent_clients` (shared with `baton demo --agents`).

use super::{Baton, Finished};
// Kept for tests that write their own Codex set-up (none of today's binaries uses it).
#[allow(unused_imports)]
pub use baton_testkit::agent_clients::codex_config;
use baton_testkit::agent_clients::{Client, FileWrite, Offline, clients_cache};
use baton_testkit::fake_llm::{FakeLlm, Script};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `binary` of the npm client `name` (`scripts/agent-clients.sh` installs it).
pub fn client_bin(name: &str, binary: &str) -> PathBuf {
    installed(name, binary, cache().join(name).join("node_modules/.bin"))
}

/// The directory holding `binary` of the Python client `name`, in its venv
/// (`scripts/agent-clients.sh` installs it).
pub fn venv_client_bin(name: &str, binary: &str) -> PathBuf {
    installed(name, binary, cache().join(name).join("venv/bin"))
}

/// The directory holding `client`'s program, installed by `scripts/agent-clients.sh`.
pub fn installed_client_bin(client: Client) -> PathBuf {
    let bin = client.installed_bin(&cache());
    installed(client.name(), client.name(), bin)
}

/// Where `scripts/agent-clients.sh` installs the clients.
fn cache() -> PathBuf {
    clients_cache().expect("HOME or BATON_AGENT_CLIENTS names where the agent clients are")
}

/// `bin`, once `binary` of the client `name` is found in it.
fn installed(name: &str, binary: &str, bin: PathBuf) -> PathBuf {
    assert!(
        bin.join(binary).is_file(),
        "{name} is not installed in {}: run scripts/agent-clients.sh (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// Where the run's first lane will be: scripts whose tool calls need absolute paths use it.
pub fn first_lane(baton: &Baton) -> PathBuf {
    let root = std::fs::canonicalize(baton.path()).unwrap();
    baton
        .home
        .join("lanes")
        .join(baton_engine::repo_key(&root))
        .join("lane-1")
}

/// The HOME the agent runs with, in the test's temporary directory (clients write state there).
pub fn agent_home(baton: &Baton) -> PathBuf {
    let home = baton.repo.tmp().join("agent-home");
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// `baton ARGS` with the client's `bin` directory first on PATH, HOME set to
/// [`agent_home`], git's user configuration ignored, and `env` on top.
pub fn baton_with_agent(
    baton: &Baton,
    bin: &Path,
    env: &[(&str, String)],
    args: &[&str],
) -> Finished {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .current_dir(baton.path())
        .env("BATON_HOME", &baton.home)
        .env("HOME", agent_home(baton))
        .env("PATH", path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("BATON_FAILPOINT")
        .env_remove("GIT_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    super::run_with_deadline(
        command,
        format!("baton {}", args.join(" ")),
        &baton.repo.tmp().join("output"),
    )
}

/// The environment that points `client` at `llm` offline with the fake `key`, its files
/// written under [`agent_home`] and the test's temporary directory.
pub fn offline_env(
    baton: &Baton,
    client: Client,
    llm: &FakeLlm,
    key: &str,
) -> Vec<(String, String)> {
    client
        .offline(&Offline {
            url: &llm.url(),
            key,
            home: &agent_home(baton),
            scratch: baton.repo.tmp(),
        })
        .unwrap()
}

/// `baton ARGS` with the real `client` first on PATH, pointed at `llm` with the fake `key`
/// ([`offline_env`]), in [`agent_home`].
pub fn baton_with_client(
    baton: &Baton,
    client: Client,
    llm: &FakeLlm,
    key: &str,
    args: &[&str],
) -> Finished {
    let env = offline_env(baton, client, llm, key);
    let env: Vec<(&str, String)> = env.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    baton_with_agent(baton, &installed_client_bin(client), &env, args)
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && std::fs::read(&path)
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The key is in no file baton wrote, no commit, nothing baton printed.
pub fn assert_key_leaks_nowhere(baton: &Baton, run: &Finished, key: &str) {
    let leaks = files_containing(&baton.home, key.as_bytes());
    assert!(leaks.is_empty(), "the API key leaked into {leaks:?}");
    let history = baton.git(&["log", "-p", "--all"]);
    assert!(!history.contains(key), "the API key is in a commit");
    assert!(!run.stdout.contains(key) && !run.stderr.contains(key));
}

/// The run's only attempt: `file` on the integration branch holds `content`, the task `greet`
/// took one attempt; returns the run's report.
pub fn assert_one_attempt_landed(
    baton: &Baton,
    id: &str,
    file: &str,
    content: &str,
) -> serde_json::Value {
    assert_eq!(
        baton.read_at(&baton.integration(id), file).as_deref(),
        Some(content)
    );
    let report = baton.report(id);
    let attempts = super::task(&report, "greet")["attempts"]
        .as_array()
        .unwrap();
    assert_eq!(attempts.len(), 1, "{report:#}");
    report
}

/// One attempt's usage with a known, non-zero cost and input tokens charged to `agent`.
pub fn assert_one_costed_attempt(report: &serde_json::Value, agent: &str) {
    let usage = &report["usage"];
    assert_eq!(usage["total"]["attempts"], 1, "{usage:#}");
    assert_eq!(usage["total"]["unknown_cost_attempts"], 0, "{usage:#}");
    assert!(usage["total"]["cost"].as_u64().unwrap() > 0, "{usage:#}");
    assert!(
        usage["by_agent"][agent]["tokens"]["input"]
            .as_u64()
            .unwrap()
            > 0,
        "{usage:#}"
    );
}

/// `baton ARGS` with several real clients first on PATH at once, each pointed at its own fake
/// LLM server (a server plays its turns in order, so clients running at the same time need one
/// each), with `extra` variables on top.
pub fn baton_with_clients(
    baton: &Baton,
    servers: &[(Client, &FakeLlm)],
    extra: &[(&str, &str)],
    args: &[&str],
) -> Finished {
    let bins: Vec<PathBuf> = servers
        .iter()
        .map(|(client, _)| installed_client_bin(*client))
        .collect();
    let mut path: Vec<String> = bins.iter().map(|b| b.display().to_string()).collect();
    path.push(std::env::var("PATH").unwrap_or_default());
    let mut env = Vec::new();
    for (client, llm) in servers {
        env.extend(offline_env(baton, *client, llm, client.fake_key()));
    }
    env.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    env.push(("PATH".to_string(), path.join(":")));
    let env: Vec<(&str, String)> = env.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    baton_with_agent(baton, &bins[0], &env, args)
}

/// A stand-in Claude Code in `bin`: answers `--version`, prints Claude's stream and writes
/// `line` (shell words: `$BATON_ATTEMPT` expands) to `$BATON_TASK_ID.txt` in its lane.
pub fn stand_in_claude(bin: &Path, line: &str) {
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo '2.0.0 (Claude Code)'; exit 0; fi
echo '{{"type":"system","subtype":"init","session_id":"s-1","model":"m","tools":[]}}'
echo "{line}" > "$BATON_TASK_ID.txt"
echo '{{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","total_cost_usd":0.01,"usage":{{"input_tokens":10,"output_tokens":2}}}}'
"#
    );
    super::write_program(&bin.join("claude"), script);
}

/// A fake LLM server on which `client` writes each of `lines` to greeting.txt, one attempt
/// each, in order.
pub fn greeting_server(client: Client, lines: &[&str]) -> FakeLlm {
    let writes: Vec<FileWrite> = lines
        .iter()
        .map(|line| FileWrite {
            path: "greeting.txt",
            line,
        })
        .collect();
    FakeLlm::start(Script::parse(&client.script_yaml(&writes)).expect("a script"))
        .expect("the fake LLM server starts")
}
