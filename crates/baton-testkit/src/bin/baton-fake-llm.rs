//! `baton-fake-llm`: serves a fake LLM script on 127.0.0.1 for agent CLIs run as child
//! processes. Once listening it writes the port to `--port-file` (atomically, so a reader never
//! sees half a number) and prints `listening on http://127.0.0.1:PORT` on stdout; it serves
//! until SIGINT or SIGTERM.

use std::path::{Path, PathBuf};

use anyhow::Context;
use baton_testkit::fake_llm::{FakeLlm, FakeLlmOptions, Script};
use clap::Parser;

/// Serve a scripted fake LLM (Anthropic Messages, OpenAI Responses and Chat Completions,
/// Gemini) on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "baton-fake-llm")]
struct Args {
    /// The script: YAML or JSON, a list of turns or a mapping with `turns`.
    #[arg(long)]
    script: PathBuf,
    /// Where to write the port once the server listens.
    #[arg(long)]
    port_file: PathBuf,
    /// The port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A file to append every request to as a JSON line.
    #[arg(long)]
    log: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let script = Script::load(&args.script)?;
    let fake = FakeLlm::start_with(
        script,
        FakeLlmOptions {
            port: args.port,
            log: args.log,
        },
    )?;
    write_port_file(&args.port_file, fake.port())?;
    println!("listening on {}", fake.url());
    wait_for_a_stop_signal()?;
    fake.shutdown();
    Ok(())
}

/// Writes the port beside the file and renames it into place, so whoever polls the file
/// reads either nothing or the whole port.
fn write_port_file(path: &Path, port: u16) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, format!("{port}\n"))
        .with_context(|| format!("writing the port file {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("moving the port file into place at {}", path.display()))
}

fn wait_for_a_stop_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal runtime")?;
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("listening for SIGINT"),
            _ = terminate.recv() => Ok(()),
        }
    })
}
