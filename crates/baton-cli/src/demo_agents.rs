//! `baton demo --agents`: baton drives the real agent CLIs found on PATH (Claude Code, Codex,
//! Gemini CLI, OpenCode, Aider) in parallel lanes, each against its own scripted model server
//! on 127.0.0.1 (`baton_testkit::fake_llm`): no real model, no key, no cost.
//!
//! The user's own set-up is never touched: the run is a child `baton run` with a throwaway
//! HOME and BATON_HOME in the demo's directory and an environment cleared down to a few
//! harmless variables (so no real key and no `XDG_*` or client configuration directory reaches
//! a client). Each client gets its offline configuration from `baton_testkit::agent_clients`,
//! the module the end-to-end tests use, through `[agents.NAME]` in an untracked `baton.toml` of
//! the sample repository, so each one sees only its own fake key and server.

use crate::commands::print_json;
use crate::{Exit, exit, style};
use anyhow::{Context, bail};
use baton_agents::detect::detect_agents;
use baton_engine::{Engine, Home, Report};
use baton_exec::{CommandSpec, run_captured};
use baton_git::Git;
use baton_protocol::RunId;
use baton_testkit::agent_clients::{Client, FileWrite, Offline};
use baton_testkit::fake_llm::FakeLlm;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the demo says first and last: the model is a script.
pub const BANNER: &str = "scripted model server: no real model, no cost";

/// Variables the run may inherit; everything else (keys, `XDG_*`, `CODEX_HOME`...) is dropped.
const KEPT_ENV: &[&str] = &[
    "PATH",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "USER",
    "LOGNAME",
    "SHELL",
    "BATON_CONFINE",
    "BATON_LOG",
];

/// One client the demo drove, as `--json` shows it.
#[derive(Debug, Serialize)]
struct DrivenClient {
    /// The agent's name, also its task's id.
    agent: &'static str,
    /// Where it was found on PATH.
    path: PathBuf,
    /// The file the script makes it write.
    file: String,
    /// The model the plan names (the scripted server answers whatever is asked).
    model: &'static str,
    /// Requests its scripted server answered.
    requests: usize,
    /// Its task's final status.
    status: String,
    /// Whether its file is on the integration branch with the scripted line.
    landed: bool,
}

/// A supported client that is not on PATH.
#[derive(Debug, Serialize)]
struct MissingClient {
    agent: &'static str,
    install: &'static str,
}

/// `baton demo --agents [--dir DIR]`.
pub async fn demo_agents(dir: Option<PathBuf>, json: bool) -> Result<u8, Exit> {
    if let Some(dir) = &dir {
        let repo = DemoDir::new(dir).repo();
        if std::fs::read_dir(&repo).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(Exit {
                code: exit::BAD_INPUT,
                error: anyhow::anyhow!(
                    "--dir {}: {} already exists and is not empty; choose another demo directory",
                    dir.display(),
                    repo.display()
                ),
            });
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cwd = std::env::current_dir()?;
    let infos = detect_agents(false, &cwd, &path).await;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for client in Client::ALL {
        match infos
            .iter()
            .find(|info| info.name == client.name())
            .and_then(|info| info.path.clone())
        {
            Some(path) => found.push((client, path)),
            None => missing.push(MissingClient {
                agent: client.name(),
                install: baton_agents::detect::install_command(client.name()),
            }),
        }
    }
    if found.is_empty() {
        return nothing_to_drive(&missing, json);
    }
    // The demo's directory: the user's (kept), or a temporary one removed at the end.
    let kept = dir.is_some();
    let (dir, _removed_on_drop) = match dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            (dir, None)
        }
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("baton-demo-agents-")
                .tempdir()?;
            (tmp.path().to_path_buf(), Some(tmp))
        }
    };
    if !json {
        eprintln!("{}", style::warn(&format!("baton demo --agents: {BANNER}")));
        let names: Vec<&str> = found.iter().map(|(client, _)| client.name()).collect();
        eprintln!(
            "driving {} in parallel lanes, each with a throwaway HOME and a fake key\n",
            names.join(", ")
        );
    }
    let demo = DemoDir::new(&dir);
    let servers = prepare(&demo, &found).await?;
    let code = run_child(&demo, json).await?;
    let engine = Engine::open(Home::new(demo.baton_home())).await?;
    let run = match engine.store().runs().await?.into_iter().next() {
        Some(row) => row.id,
        None => {
            return Err(anyhow::anyhow!(
                "the demo run did not start (exit code {code}); see the output above"
            )
            .into());
        }
    };
    let report = engine.report(&run).await?;
    let git = Git::discover(&demo.repo()).await?;
    let mut driven = Vec::new();
    for ((client, path), server) in found.iter().zip(&servers) {
        let file = file_of(*client);
        let landed = git
            .show_file(&format!("refs/heads/baton/{run}/integration"), &file)
            .await?
            .is_some_and(|bytes| bytes == format!("{}\n", line_of(*client)).as_bytes());
        driven.push(DrivenClient {
            agent: client.name(),
            path: path.clone(),
            file,
            model: client.model(),
            requests: server.requests().len(),
            status: report
                .tasks
                .iter()
                .find(|task| task.id == client.name())
                .map(|task| task.status.clone())
                .unwrap_or_default(),
            landed,
        });
    }
    drop(servers);
    if json {
        print_json(&serde_json::json!({
            "scripted": true,
            "banner": BANNER,
            "clients": driven,
            "missing": missing,
            "run": run,
            "status": report.status,
            "report": report,
        }))?;
    } else {
        print_summary(&run, &report, &driven, &missing);
        if kept {
            eprintln!(
                "sample repository: {}\nstate: BATON_HOME={} baton status {run}",
                demo.repo().display(),
                demo.baton_home().display()
            );
        } else {
            eprintln!(
                "the demo's repository, HOME and state are removed now (keep them with --dir DIR)"
            );
        }
    }
    Ok(code)
}

/// No supported client on PATH: say which ones the demo drives and how to install them. It is
/// not an error (exit 0): nothing was asked that could fail, and `baton demo` needs none.
fn nothing_to_drive(missing: &[MissingClient], json: bool) -> Result<u8, Exit> {
    if json {
        print_json(&serde_json::json!({
            "scripted": true,
            "banner": BANNER,
            "clients": [],
            "missing": missing,
            "run": null,
            "message": "no supported agent CLI on PATH; nothing was run",
        }))?;
        return Ok(exit::OK);
    }
    let mut text = String::from(
        "baton demo --agents drives the agent CLIs it finds on PATH against a scripted model \
         server (no real model, no cost), but none of them is on PATH. Supported, and how to \
         install them:\n",
    );
    for client in missing {
        let _ = writeln!(text, "  {:<9} {}", client.agent, client.install);
    }
    text.push_str(
        "Install one (or put it on PATH) and run `baton demo --agents` again; `baton agents` \
         lists every agent baton drives. `baton demo` runs without any.",
    );
    println!("{text}");
    Ok(exit::OK)
}

/// The demo's directory layout.
struct DemoDir {
    root: PathBuf,
}

impl DemoDir {
    fn new(root: &Path) -> DemoDir {
        DemoDir {
            root: root.to_path_buf(),
        }
    }

    /// The sample repository.
    fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }

    /// The plan, beside the repository.
    fn plan(&self) -> PathBuf {
        self.root.join("plan.yaml")
    }

    /// The HOME the clients run with.
    fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// The run's BATON_HOME.
    fn baton_home(&self) -> PathBuf {
        self.root.join("baton-home")
    }

    /// Client configuration that lives outside HOME.
    fn config(&self) -> PathBuf {
        self.root.join("client-config")
    }
}

/// The file `client`'s task writes.
fn file_of(client: Client) -> String {
    format!("hello-{}.txt", client.name())
}

/// The line the script makes `client` write.
fn line_of(client: Client) -> String {
    format!("hello from {}", client.name())
}

/// Creates the sample repository, starts one scripted server per client, and writes the
/// clients' offline configuration, `baton.toml` and the plan.
async fn prepare(demo: &DemoDir, found: &[(Client, PathBuf)]) -> anyhow::Result<Vec<FakeLlm>> {
    let repo = demo.repo();
    let git = Git::init(&repo, crate::demo::DEMO_BRANCH)
        .await
        .with_context(|| format!("creating the sample repository in {}", repo.display()))?;
    let root = git.root().to_path_buf();
    // Aider writes a placeholder identity into the repository's config when git has none, and
    // the sandbox refuses that write; the throwaway HOME has no ~/.gitconfig.
    for (key, value) in [
        ("user.name", "baton demo"),
        ("user.email", "demo@baton.invalid"),
    ] {
        let out = run_captured(CommandSpec::new("git", &root).args(["config", key, value]))
            .await
            .context("setting the sample repository's git identity")?;
        if !out.success() {
            bail!("git config {key} failed: {}", out.stderr.trim());
        }
    }
    std::fs::write(
        root.join("README.md"),
        "# baton demo --agents\n\nEach agent CLI found on PATH writes its own hello file here.\n",
    )?;
    git.commit_all(&root, "the sample repository of baton demo --agents")
        .await
        .context("committing the sample repository")?;
    let mut servers = Vec::new();
    let mut config = String::from(
        "# Written by `baton demo --agents`: each client talks to its own scripted server.\n",
    );
    for (client, _) in found {
        let file = file_of(*client);
        let line = line_of(*client);
        let script = client.script(&[FileWrite {
            path: &file,
            line: &line,
        }])?;
        let server = FakeLlm::start(script)?;
        let env = client.offline(&Offline {
            url: &server.url(),
            key: client.fake_key(),
            home: &demo.home(),
            scratch: &demo.config(),
        })?;
        let _ = writeln!(config, "\n[agents.{}.env]", client.name());
        for (name, value) in env {
            // A JSON string is a TOML basic string.
            let _ = writeln!(config, "{name} = {}", serde_json::Value::String(value));
        }
        servers.push(server);
    }
    std::fs::write(root.join(baton_engine::config::CONFIG_FILE), config)?;
    // Untracked and ignored, so the repository stays clean for the run.
    let exclude = root.join(".git/info/exclude");
    std::fs::create_dir_all(root.join(".git/info"))?;
    let mut ignored = std::fs::read_to_string(&exclude).unwrap_or_default();
    ignored.push_str("/baton.toml\n");
    std::fs::write(&exclude, ignored)?;
    std::fs::write(demo.plan(), plan_yaml(found))?;
    Ok(servers)
}

/// The plan: one task per client, each writing its own file, all in parallel.
fn plan_yaml(found: &[(Client, PathBuf)]) -> String {
    let mut plan = format!(
        "version: 1\ngoal: \"Show baton driving the agent CLIs on PATH ({BANNER})\"\nbase: {}\nlanes: {}\ngates:\n",
        crate::demo::DEMO_BRANCH,
        found.len()
    );
    for (client, _) in found {
        let _ = writeln!(
            plan,
            "  {0}-wrote: \"grep -qx '{1}' {2}\"",
            client.name(),
            line_of(*client),
            file_of(*client)
        );
    }
    plan.push_str("merge_gates: []\ntasks:\n");
    for (client, _) in found {
        let file = file_of(*client);
        let _ = write!(
            plan,
            "  - id: {0}\n    title: \"{0} writes {file}\"\n    agent: {0}\n    model: {1}\n    prompt: \"Write {file} saying hello.\"\n    claims: [\"{file}\"]\n    gates: [{0}-wrote]\n",
            client.name(),
            client.model(),
        );
    }
    plan
}

/// Runs `baton run --plan PLAN` as a child with the throwaway HOME and BATON_HOME and a cleared
/// environment; returns its exit code. Ctrl-C reaches the child from the terminal and cancels
/// its run; this process waits for it so the demo's servers and directory go away after it.
async fn run_child(demo: &DemoDir, json: bool) -> anyhow::Result<u8> {
    let home = demo.home();
    std::fs::create_dir_all(&home)?;
    let baton = std::env::current_exe().context("finding the baton binary")?;
    let mut command = tokio::process::Command::new(&baton);
    command
        .arg("run")
        .arg("--plan")
        .arg(demo.plan())
        .current_dir(demo.repo())
        .env_clear()
        .envs(
            KEPT_ENV
                .iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (*name, value))),
        )
        .env("HOME", &home)
        .env("BATON_HOME", demo.baton_home())
        .stdin(std::process::Stdio::null());
    if json {
        // `baton run --json` streams events; the demo prints one document instead, and the
        // events stay in the run's store.
        command.arg("--json").stdout(std::process::Stdio::null());
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", baton.display()))?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .unwrap_or(exit::FAILED))
}

/// Per client: its task, its file, its scripted requests, its tokens and what they would cost.
fn print_summary(run: &RunId, report: &Report, driven: &[DrivenClient], missing: &[MissingClient]) {
    println!("## baton demo --agents ({BANNER})\n");
    println!("| agent | task | file landed | requests | tokens in / out | cost if real |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for client in driven {
        let usage = report.usage.by_agent.get(client.agent);
        let tokens = usage
            .map(|line| format!("{} / {}", line.tokens.input, line.tokens.output))
            .unwrap_or_else(|| "-".to_owned());
        let cost = usage
            .map(|line| line.cost_text())
            .unwrap_or_else(|| "-".to_owned());
        println!(
            "| {} | {} | {} | {} | {tokens} | {cost} |",
            client.agent,
            style::status(&client.status),
            if client.landed {
                client.file.clone()
            } else {
                format!("no ({})", client.file)
            },
            client.requests,
        );
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|client| client.agent).collect();
        println!(
            "\nnot on PATH: {} (`baton agents` says how to install them)",
            names.join(", ")
        );
    }
    eprintln!(
        "\n{}: the costs above are what run {run}'s scripted tokens would cost at real \
         prices; nothing was charged.",
        style::warn(BANNER)
    );
}
