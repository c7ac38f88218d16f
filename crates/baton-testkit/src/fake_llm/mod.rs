//! A scripted fake LLM server speaking the four wire dialects real coding-agent clients use,
//! so agent adapters run end to end offline.
//!
//! | dialect | routes | client |
//! | --- | --- | --- |
//! | Anthropic Messages | `POST /v1/messages` (`?beta=true` too), `POST /v1/messages/count_tokens`, `HEAD`/`GET /` | Claude Code |
//! | OpenAI Responses | `POST /v1/responses` | Codex |
//! | OpenAI Chat Completions | `POST /v1/chat/completions`, `GET /v1/models`, Ollama's `GET /api/tags` | OpenCode, Aider, baton's providers |
//! | Gemini | `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, `:generateContent`, `:countTokens` | Gemini CLI |
//!
//! Streams are SSE in each dialect's own event names and shapes, ending with its usage; a
//! request that does not ask for a stream (`"stream"` absent or false, Gemini's
//! `:generateContent`) gets one JSON body.
//!
//! # The script
//!
//! YAML or JSON: a mapping with `turns` (and optionally `models` and `when_exhausted`), or just
//! the list of turns. Every model request, whatever its dialect, takes the next turn; probes,
//! model lists and token counts take none. Once the turns are used up every model request gets
//! `when_exhausted` (a plain text `done` unless the script says otherwise).
//!
//! ```yaml
//! models: [fake-model]            # what GET /v1/models lists (default: fake-model)
//! turns:
//!   - text: "I will write the file."
//!     tool_call:                  # rendered as tool_use / function_call / tool_calls / functionCall
//!       name: Write
//!       input: {file_path: /tmp/work/hello.txt, content: "hello\n"}
//!     usage: {input: 1200, output: 40, cached: 200, reasoning: 0}
//!   - tool_calls:                 # several calls in one reply
//!       - {name: apply_patch, input: "*** Begin Patch\n...\n*** End Patch\n"}
//!   - error: {status: 429, retry_after: 2, body: "slow down"}
//!   - error: {status: 500}
//!   - delay_ms: 200               # wait, then answer; combines with text and tool calls
//!     text: "late but here"
//!   - hang: true                  # take the request and never answer it
//!   - text: "Done."
//! aside:                          # side requests: answered first, take no turn, repeat
//!   - when: {has_tools: false, last_user_contains: "title"}
//!     text: "Create hello.txt"
//! when_exhausted: {text: "nothing more to do"}
//! ```
//!
//! * `aside` entries exist because clients send side requests beside the conversation:
//!   OpenCode's recorded run starts with a request offering no tools (a session title, by its
//!   shape) and Aider ends with an unstreamed one (its commit message). As turns they would
//!   shift the script, and if a client sends them concurrently, race it. `when` takes `dialect` (`anthropic_messages`, `openai_responses`,
//!   `openai_chat`, `gemini`), `has_tools`, `stream` and `last_user_contains`; every condition
//!   given must hold, and the first matching aside answers.
//! * `usage` numbers left out are derived: input is a quarter of the request body's bytes,
//!   output a quarter of the reply's characters, nothing cached, no reasoning. `input` counts
//!   cached tokens (as OpenAI and Gemini report it); the Anthropic dialect reports
//!   `input - cached` as `input_tokens` and `cached` as `cache_read_input_tokens`.
//! * In the Responses dialect a call to `apply_patch` becomes a `custom_tool_call` whose
//!   `input` is the patch text (the `input` string, or an object's `input` string), as Codex's
//!   freeform tool expects, unless the client offered `apply_patch` as a JSON function.
//! * An `error` body that is a JSON object is sent verbatim; other text becomes the message of
//!   the dialect's error envelope. `retry_after` sets a `retry-after` header, in seconds, or
//!   as an HTTP date that many seconds ahead with `retry_after_as_date: true`. With
//!   `in_stream: true` the error comes as the first event of a 200 stream instead.
//! * Strings are used as written: put absolute paths in the script (Claude Code's tools want
//!   them).
//!
//! # The request log
//!
//! Every request becomes a [`LoggedRequest`] (method, path, dialect, model, body keys, tools
//! offered, message roles, the last user text, the turn or aside that answered, the credentials
//! it carried), kept in memory for
//! [`FakeLlm::requests`] and appended as JSONL to the log file when one is given.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use baton_testkit::fake_llm::{FakeLlm, Script};
//! let script = Script::parse("- text: hello\n- error: {status: 429, retry_after: 1}\n")?;
//! let fake = FakeLlm::start(script)?;
//! // point ANTHROPIC_BASE_URL (or OPENAI_BASE_URL = url + "/v1", ...) at fake.url()
//! let asked = fake.requests();
//! fake.shutdown();
//! # let _ = asked;
//! # Ok(())
//! # }
//! ```
//!
//! The server runs on its own thread with its own tokio runtime, so it serves sync tests,
//! async tests of either runtime flavour and child processes alike. The `baton-fake-llm`
//! binary serves the same from a script file.

mod anthropic;
mod chat;
mod gemini;
mod log;
mod responses;
mod script;
mod server;
mod wire;

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

pub use log::{Dialect, LoggedRequest};
pub use script::{
    Action, DEFAULT_EXHAUSTED_TEXT, DEFAULT_MODEL, ErrorReply, Script, ScriptError, ToolCall, Turn,
    Usage, UsageSpec,
};

use server::Shared;

/// How long a stopping server waits for open connections before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Why a fake LLM server could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeLlmError {
    /// The port on 127.0.0.1 could not be bound.
    #[error("binding the fake LLM server to 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for (0: any free port).
        port: u16,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The request log file could not be opened for appending.
    #[error("opening the fake LLM request log {path}: {source}")]
    LogFile {
        /// The log's path.
        path: String,
        /// Why it could not be opened.
        source: std::io::Error,
    },
    /// The server's runtime or thread could not be started.
    #[error("starting the fake LLM server: {0}")]
    Start(std::io::Error),
}

/// Where a fake LLM server listens and logs.
#[derive(Debug, Clone, Default)]
pub struct FakeLlmOptions {
    /// The port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// A file to append every request to as a JSON line.
    pub log: Option<PathBuf>,
}

/// A running fake LLM server on 127.0.0.1; stops when shut down or dropped.
#[derive(Debug)]
pub struct FakeLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeLlm {
    /// Serves `script` on a free port of 127.0.0.1, logging in memory only.
    pub fn start(script: Script) -> Result<FakeLlm, FakeLlmError> {
        FakeLlm::start_with(script, FakeLlmOptions::default())
    }

    /// Serves `script` as `options` say. Returns once the port is bound, so requests made
    /// right after are served.
    pub fn start_with(script: Script, options: FakeLlmOptions) -> Result<FakeLlm, FakeLlmError> {
        let log_file = options.log.as_ref().map(open_log).transpose()?;
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).map_err(|source| {
                FakeLlmError::Bind {
                    port: options.port,
                    source,
                }
            })?;
        let bind_error = |source| FakeLlmError::Bind {
            port: options.port,
            source,
        };
        let addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(FakeLlmError::Start)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(bind_error)?
        };
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(script, log_file, stop_rx.clone()));
        let app = server::router(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name(format!("fake-llm-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut graceful = stop_rx.clone();
                    let mut hard = stop_rx;
                    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                        let _ = graceful.wait_for(|stopped| *stopped).await;
                    });
                    tokio::select! {
                        served = serve => {
                            if let Err(err) = served {
                                eprintln!("baton-fake-llm: serving stopped: {err}");
                            }
                        }
                        () = async move {
                            let _ = hard.wait_for(|stopped| *stopped).await;
                            tokio::time::sleep(SHUTDOWN_GRACE).await;
                        } => {}
                    }
                });
            })
            .map_err(FakeLlmError::Start)?;
        Ok(FakeLlm {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash or `/v1`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.requests()
    }

    /// Resolves once at least `count` requests have been logged (each is logged when it
    /// arrives, before any delay or hang), so a test can wait on a request instead of a clock.
    pub async fn wait_for_requests(&self, count: usize) {
        let mut seen = self.shared.seen();
        // The sender lives in `self.shared`, so it cannot be dropped while we wait.
        let _ = seen.wait_for(|logged| *logged >= count).await;
    }

    /// Stops serving: hanging and delayed requests get a 503, open connections get a short
    /// grace, then the server's thread ends.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            eprintln!("baton-fake-llm: the server thread panicked");
        }
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn open_log(path: &PathBuf) -> Result<File, FakeLlmError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| FakeLlmError::LogFile {
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_example_in_this_module_documentation_parses() -> Result<(), ScriptError> {
        let source = include_str!("mod.rs");
        let yaml: String = source
            .lines()
            .skip_while(|line| *line != "//! ```yaml")
            .skip(1)
            .take_while(|line| *line != "//! ```")
            .map(|line| {
                format!(
                    "{}\n",
                    line.trim_start_matches("//!")
                        .strip_prefix(' ')
                        .unwrap_or("")
                )
            })
            .collect();
        let script = Script::parse(&yaml)?;
        assert_eq!(script.turns.len(), 7);
        assert_eq!(script.aside.len(), 1);
        assert_eq!(script.when_exhausted, Turn::text("nothing more to do"));
        Ok(())
    }
}
