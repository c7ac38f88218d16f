//! How each real agent CLI baton drives is pointed at the scripted [`fake_llm`](crate::fake_llm)
//! server offline, and which script turns make it write a file.
//!
//! The end-to-end tests (`crates/baton-cli/tests/agents_*.rs`) and `baton demo --agents` share
//! this knowledge, so what the tests prove is what the demo does:
//!
//! | client | dialect | pointed at the server by | its key in | writes a file with |
//! | --- | --- | --- | --- | --- |
//! | Claude Code | Anthropic Messages | `ANTHROPIC_BASE_URL` | `ANTHROPIC_API_KEY` | its `Write` tool |
//! | Codex CLI | OpenAI Responses | a provider in `$CODEX_HOME/config.toml` | `FAKE_LLM_API_KEY` | its shell tool (`exec_command`) |
//! | Gemini CLI | Gemini | `GOOGLE_GEMINI_BASE_URL`, auth type in `~/.gemini/settings.json` | `GEMINI_API_KEY` | its `write_file` tool |
//! | OpenCode | Chat Completions | an openai-compatible provider in `OPENCODE_CONFIG` | `FAKE_LLM_API_KEY` | its `write` tool |
//! | Aider | Chat Completions | `AIDER_OPENAI_API_BASE`, `AIDER_MODEL_METADATA_FILE` | `OPENAI_API_KEY` | a SEARCH/REPLACE block in the reply |
//!
//! Every client also gets the variables that stop it phoning home (update checks, telemetry,
//! price and model downloads), so a run needs no network but 127.0.0.1.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use baton_testkit::agent_clients::{Client, FileWrite, Offline};
//! use baton_testkit::fake_llm::FakeLlm;
//! let write = FileWrite { path: "hello.txt", line: "hello from claude" };
//! let llm = FakeLlm::start(Client::Claude.script(&[write])?)?;
//! let tmp = tempfile::tempdir()?;
//! let env = Client::Claude.offline(&Offline {
//!     url: &llm.url(),
//!     key: "sk-ant-fake",
//!     home: &tmp.path().join("home"),
//!     scratch: tmp.path(),
//! })?;
//! // start `claude -p ...` with HOME set to the home above and `env` on top
//! # let _ = env;
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use crate::fake_llm::{Script, ScriptError};

/// The variable Codex's and OpenCode's provider configurations read their key from.
pub const FAKE_KEY_VAR: &str = "FAKE_LLM_API_KEY";

/// An agent CLI that runs against the fake LLM server offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    /// Claude Code (`claude`, npm `@anthropic-ai/claude-code`).
    Claude,
    /// Codex CLI (`codex`, npm `@openai/codex`).
    Codex,
    /// Gemini CLI (`gemini`, npm `@google/gemini-cli`).
    Gemini,
    /// OpenCode (`opencode`, npm `opencode-ai`).
    OpenCode,
    /// Aider (`aider`, PyPI `aider-chat`).
    Aider,
}

/// A file the scripted model makes a client write: one line and a newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileWrite<'a> {
    /// The path as the client's tool gets it: absolute, or relative to the client's working
    /// directory (Claude Code, Gemini CLI and OpenCode take both; Aider needs it relative to
    /// the repository, Codex's shell resolves it against its directory).
    pub path: &'a str,
    /// The file's only line, without its newline.
    pub line: &'a str,
}

/// Where one client's offline set-up goes.
#[derive(Debug, Clone, Copy)]
pub struct Offline<'a> {
    /// The fake server's base URL (`FakeLlm::url`, no `/v1`).
    pub url: &'a str,
    /// The fake API key to give the client (never a real one).
    pub key: &'a str,
    /// The HOME the client will run with: its state directories and settings go under it.
    pub home: &'a Path,
    /// A directory for configuration files that live outside HOME (OpenCode's config, Aider's
    /// model metadata).
    pub scratch: &'a Path,
}

/// A set-up file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing {path} for the offline agent client: {source}")]
pub struct SetupError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why it failed.
    pub source: std::io::Error,
}

/// `~/.gemini/settings.json`: the API-key auth selected (without it Gemini CLI exits 41), no
/// statistics, telemetry or update checks.
pub const GEMINI_SETTINGS: &str = r#"{
  "security": {"auth": {"selectedType": "gemini-api-key"}},
  "privacy": {"usageStatisticsEnabled": false},
  "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
  "telemetry": {"enabled": false}
}
"#;

/// Aider's model metadata for its main and weak models: without it Aider downloads litellm's
/// price file from GitHub (`LITELLM_LOCAL_MODEL_COST_MAP` stops only litellm's own download).
/// It has no prices, so Aider prints no cost and baton prices the tokens.
pub const AIDER_MODEL_METADATA: &str = r#"{
  "openai/gpt-4.1": {"max_input_tokens": 1000000, "max_output_tokens": 32768, "litellm_provider": "openai", "mode": "chat"},
  "openai/gpt-4.1-mini": {"max_input_tokens": 1000000, "max_output_tokens": 32768, "litellm_provider": "openai", "mode": "chat"}
}
"#;

impl Client {
    /// Every client, in the order `baton agents` lists them.
    pub const ALL: [Client; 5] = [
        Client::Claude,
        Client::Codex,
        Client::Gemini,
        Client::OpenCode,
        Client::Aider,
    ];

    /// The agent's name in plans (`agent: claude`), which is also its program's name.
    pub fn name(self) -> &'static str {
        match self {
            Client::Claude => "claude",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
            Client::OpenCode => "opencode",
            Client::Aider => "aider",
        }
    }

    /// The client named `name` in plans, if it is one of these.
    pub fn from_name(name: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|client| client.name() == name)
    }

    /// The model a plan names for it: one the client accepts offline and baton's price table
    /// knows, so the usage gets a price.
    pub fn model(self) -> &'static str {
        match self {
            Client::Claude => "claude-sonnet-4-5",
            // Codex 0.169 has no metadata for `gpt-5`, so it offers no `apply_patch` and edits
            // through its shell tool.
            Client::Codex => "gpt-5",
            Client::Gemini => "gemini-2.5-flash",
            // The provider of `OPENCODE_CONFIG`, and a model of it.
            Client::OpenCode => "fake/gpt-4.1",
            Client::Aider => "openai/gpt-4.1",
        }
    }

    /// An API key that is plainly fake, in the shape the client expects (for runs against the
    /// fake server that need no particular key).
    pub fn fake_key(self) -> &'static str {
        match self {
            Client::Claude => "sk-ant-fake-scripted-model",
            Client::Gemini => "AIza-fake-scripted-model",
            Client::Codex | Client::OpenCode | Client::Aider => "sk-fake-scripted-model",
        }
    }

    /// Where `scripts/agent-clients.sh` puts the directory holding its program, under the
    /// clients' cache ([`clients_cache`]).
    pub fn installed_bin(self, cache: &Path) -> PathBuf {
        match self {
            Client::Aider => cache.join(self.name()).join("venv/bin"),
            _ => cache.join(self.name()).join("node_modules/.bin"),
        }
    }

    /// The script turns (YAML list entries, indented under `turns:`) in which the model makes
    /// this client write `write.line` to `write.path`, then says it is done. Each turn reports
    /// fixed usage: 1000 input and 20 output tokens for the write, 1100 and 5 for the end
    /// (Aider's single turn, 1000 and 30).
    pub fn write_turns(self, write: &FileWrite<'_>) -> String {
        let path = yaml_string(write.path);
        let content = yaml_string(&format!("{}\n", write.line));
        let call = |name: &str, input: String| {
            format!(
                "  - text: \"Writing it.\"\n    tool_call:\n      name: {name}\n      input: {input}\n    usage: {{input: 1000, output: 20}}\n  - text: \"Done.\"\n    usage: {{input: 1100, output: 5}}\n"
            )
        };
        match self {
            Client::Claude => call(
                "Write",
                format!("{{file_path: {path}, content: {content}}}"),
            ),
            Client::Codex => {
                let command = format!(
                    "echo {} > {}",
                    shell_quote(write.line),
                    shell_quote(write.path)
                );
                call(
                    "exec_command",
                    format!("{{cmd: {}}}", yaml_string(&command)),
                )
            }
            Client::Gemini => call(
                "write_file",
                format!("{{file_path: {path}, content: {content}}}"),
            ),
            Client::OpenCode => call("write", format!("{{filePath: {path}, content: {content}}}")),
            // Aider has no tools: it applies the reply's edit block, an empty SEARCH creating
            // the file.
            Client::Aider => {
                let reply = format!(
                    "I will create {0}.\n\n{0}\n```\n<<<<<<< SEARCH\n=======\n{1}\n>>>>>>> REPLACE\n```\n",
                    write.path, write.line
                );
                format!(
                    "  - text: {}\n    usage: {{input: 1000, output: 30}}\n",
                    yaml_string(&reply)
                )
            }
        }
    }

    /// The script's `aside` and `when_exhausted` sections this client needs (YAML, possibly
    /// empty): side requests that must take no turn.
    pub fn script_tail(self) -> &'static str {
        match self {
            // Its title request offers no tools, whenever it comes.
            Client::OpenCode => "aside:\n  - when: {has_tools: false}\n    text: \"Greeting\"\n",
            // Its commit message or summary requests are not streamed; after its edit it may
            // ask again.
            Client::Aider => {
                "aside:\n  - when: {stream: false}\n    text: \"add greeting\"\nwhen_exhausted: {text: \"Done.\"}\n"
            }
            Client::Claude | Client::Codex | Client::Gemini => "",
        }
    }

    /// The whole script (YAML) for one attempt per write, in order.
    pub fn script_yaml(self, writes: &[FileWrite<'_>]) -> String {
        let turns: String = writes.iter().map(|write| self.write_turns(write)).collect();
        format!("turns:\n{turns}{}", self.script_tail())
    }

    /// [`Client::script_yaml`], parsed.
    pub fn script(self, writes: &[FileWrite<'_>]) -> Result<Script, ScriptError> {
        Script::parse(&self.script_yaml(writes))
    }

    /// Writes the client's offline configuration (under `setup.home` and `setup.scratch`,
    /// creating the state directories a confined client needs there) and returns the
    /// environment to start it with, on top of `HOME = setup.home`.
    pub fn offline(self, setup: &Offline<'_>) -> Result<Vec<(String, String)>, SetupError> {
        let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect()
        };
        match self {
            Client::Claude => Ok(pairs(&[
                ("ANTHROPIC_BASE_URL", setup.url),
                ("ANTHROPIC_API_KEY", setup.key),
                ("CLAUDE_CODE_MAX_RETRIES", "1"),
                ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
                ("DISABLE_AUTOUPDATER", "1"),
                ("DISABLE_TELEMETRY", "1"),
                ("DISABLE_ERROR_REPORTING", "1"),
            ])),
            Client::Codex => {
                // Codex keeps its state in $CODEX_HOME; under HOME it is among the directories
                // baton lets it write.
                let codex_home = setup.home.join(".codex");
                write_file(
                    &codex_home.join("config.toml"),
                    &codex_config(setup.url, FAKE_KEY_VAR),
                )?;
                let codex_home = codex_home.to_string_lossy();
                Ok(pairs(&[
                    ("CODEX_HOME", &codex_home),
                    (FAKE_KEY_VAR, setup.key),
                ]))
            }
            Client::Gemini => {
                write_file(&setup.home.join(".gemini/settings.json"), GEMINI_SETTINGS)?;
                Ok(pairs(&[
                    ("GEMINI_API_KEY", setup.key),
                    ("GOOGLE_GEMINI_BASE_URL", setup.url),
                ]))
            }
            Client::OpenCode => {
                // Landlock grants only directories that exist: a HOME where OpenCode ran
                // before has these.
                for dir in [
                    ".local/share/opencode",
                    ".config/opencode",
                    ".cache/opencode",
                    ".local/state/opencode",
                ] {
                    create_dir(&setup.home.join(dir))?;
                }
                let config = setup.scratch.join("opencode.json");
                write_file(&config, &opencode_config(setup.url, FAKE_KEY_VAR))?;
                let config = config.to_string_lossy();
                Ok(pairs(&[
                    ("OPENCODE_CONFIG", &config),
                    (FAKE_KEY_VAR, setup.key),
                    ("OPENCODE_DISABLE_MODELS_FETCH", "1"),
                    ("OPENCODE_DISABLE_AUTOUPDATE", "1"),
                    ("OPENCODE_DISABLE_SHARE", "1"),
                    ("OPENCODE_DISABLE_LSP_DOWNLOAD", "1"),
                ]))
            }
            Client::Aider => {
                // Its install record and caches; without the directory Aider only warns.
                create_dir(&setup.home.join(".aider"))?;
                let metadata = setup.scratch.join("aider-model-metadata.json");
                write_file(&metadata, AIDER_MODEL_METADATA)?;
                let metadata = metadata.to_string_lossy();
                let base = format!("{}/v1", setup.url);
                Ok(pairs(&[
                    ("OPENAI_API_KEY", setup.key),
                    ("AIDER_MODEL_METADATA_FILE", &metadata),
                    ("AIDER_OPENAI_API_BASE", &base),
                    // litellm would fetch its price file otherwise.
                    ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
                ]))
            }
        }
    }
}

/// `$CODEX_HOME/config.toml`: one provider (the fake server at `url`) whose key is in the
/// variable `key_var`, no retries, nothing phoned home.
pub fn codex_config(url: &str, key_var: &str) -> String {
    format!(
        r#"model_provider = "fake"
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false

[model_providers.fake]
name = "Fake LLM"
base_url = "{url}/v1"
env_key = "{key_var}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"#
    )
}

/// The file `OPENCODE_CONFIG` names: one openai-compatible provider `fake`, the server at
/// `url`, its key in the variable `key_var` (OpenCode's `{env:VAR}`, so the key stays in the
/// environment), with a model baton's price table knows and no prices of its own (so OpenCode
/// reports cost 0 and baton prices the tokens).
pub fn opencode_config(url: &str, key_var: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://opencode.ai/config.json",
  "autoupdate": false,
  "share": "disabled",
  "provider": {{
    "fake": {{
      "npm": "@ai-sdk/openai-compatible",
      "name": "Fake LLM",
      "options": {{"baseURL": "{url}/v1", "apiKey": "{{env:{key_var}}}"}},
      "models": {{"gpt-4.1": {{"name": "GPT-4.1 (fake)", "tool_call": true}}}}
    }}
  }}
}}
"#
    )
}

/// Where `scripts/agent-clients.sh` installs the clients: `$BATON_AGENT_CLIENTS`, else
/// `~/.cache/baton-agent-clients`; `None` when neither variable is set.
pub fn clients_cache() -> Option<PathBuf> {
    std::env::var_os("BATON_AGENT_CLIENTS")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".cache/baton-agent-clients"))
        })
}

/// `text` as a YAML double-quoted scalar (JSON's string syntax is YAML's).
fn yaml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn create_dir(dir: &Path) -> Result<(), SetupError> {
    std::fs::create_dir_all(dir).map_err(|source| SetupError {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_file(path: &Path, content: &str) -> Result<(), SetupError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    std::fs::write(path, content).map_err(|source| SetupError {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_llm::Action;

    #[test]
    fn every_clients_script_parses_into_one_write_turn_and_an_end_per_file() {
        let write = FileWrite {
            path: "dir/it's here.txt",
            line: "hello \"there\"",
        };
        for client in Client::ALL {
            let script = client.script(&[write, write]).unwrap();
            let per_write = if client == Client::Aider { 1 } else { 2 };
            assert_eq!(script.turns.len(), 2 * per_write, "{client:?}");
            let Action::Reply { text, tool_calls } = &script.turns[0].action else {
                panic!("{client:?}: the first turn is not a reply");
            };
            let said = format!("{text}{:?}", tool_calls);
            assert!(said.contains("hello"), "{client:?}: {said}");
            assert_eq!(Client::from_name(client.name()), Some(client));
        }
        assert_eq!(Client::from_name("cursor"), None);
    }

    #[test]
    fn codexs_command_quotes_the_line_and_the_path_for_the_shell() {
        let turns = Client::Codex.write_turns(&FileWrite {
            path: "a b.txt",
            line: "it's",
        });
        let script = Script::parse(&format!("turns:\n{turns}")).unwrap();
        let Action::Reply { tool_calls, .. } = &script.turns[0].action else {
            panic!("not a reply");
        };
        assert_eq!(tool_calls[0].input["cmd"], r#"echo 'it'\''s' > 'a b.txt'"#);
    }

    #[test]
    fn offline_set_up_writes_each_clients_files_and_gives_the_fake_key_and_url() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let setup = Offline {
            url: "http://127.0.0.1:9",
            key: "sk-fake-1",
            home: &home,
            scratch: tmp.path(),
        };
        for client in Client::ALL {
            let env = client.offline(&setup).unwrap();
            assert!(
                env.iter().any(|(_, value)| value == "sk-fake-1"),
                "{client:?}: {env:?}"
            );
        }
        let codex = std::fs::read_to_string(home.join(".codex/config.toml")).unwrap();
        assert!(
            codex.contains("base_url = \"http://127.0.0.1:9/v1\""),
            "{codex}"
        );
        assert!(home.join(".gemini/settings.json").is_file());
        assert!(home.join(".config/opencode").is_dir());
        let opencode = std::fs::read_to_string(tmp.path().join("opencode.json")).unwrap();
        assert!(opencode.contains("{env:FAKE_LLM_API_KEY}"), "{opencode}");
        assert!(
            !opencode.contains("sk-fake-1"),
            "the key stays in the environment"
        );
        assert!(tmp.path().join("aider-model-metadata.json").is_file());
    }
}
