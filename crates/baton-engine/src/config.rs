//! `baton.toml` at the repository root: the repository's settings for baton. Optional; today
//! it holds the `[sandbox]`, `[output]`, `[agents.NAME]` and `[prompt]` tables (see
//! `docs/config.md`).

use crate::EngineError;
use baton_core::text::line_column;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The name of the configuration file at the repository root.
pub const CONFIG_FILE: &str = "baton.toml";

/// The environment variable that turns confinement off when set to `0` (for debugging).
pub const ENV_CONFINE: &str = "BATON_CONFINE";

/// The repository's configuration, with defaults for what `baton.toml` does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where agents and gates may write.
    pub sandbox: SandboxConfig,
    /// The most bytes one agent's or gate's log file may take (`[output] log_cap_mb`, default
    /// 256 MiB); past it the log says how much more was printed.
    pub log_cap: u64,
    /// `[agents.NAME]`: how each agent runs here and what routing knows about it.
    pub agents: std::collections::BTreeMap<String, crate::config_agents::AgentConfig>,
    /// `[prompt] template`: the prompt template to render instead of `.baton/prompt.md.j2` or
    /// the default one; absolute, relative paths taken from the repository root.
    pub prompt_template: Option<PathBuf>,
}

/// The default of `[output] log_cap_mb`.
pub const DEFAULT_LOG_CAP_MB: u64 = 256;

/// The `[sandbox]` table: how agent and gate processes are confined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Whether processes are confined (`confine`, default true; `BATON_CONFINE=0` forces false).
    pub confine: bool,
    /// Extra writable directories (`writable`), absolute: `~` expanded to `$HOME`, relative
    /// paths taken from the repository root.
    pub writable: Vec<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            confine: true,
            writable: Vec::new(),
        }
    }
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    sandbox: SandboxFile,
    #[serde(default)]
    output: OutputFile,
    #[serde(default)]
    agents: std::collections::BTreeMap<String, crate::config_agents::AgentConfig>,
    #[serde(default)]
    prompt: PromptFile,
}

/// The `[prompt]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptFile {
    template: Option<String>,
}

/// The `[output]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputFile {
    log_cap_mb: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sandbox: SandboxConfig::default(),
            log_cap: DEFAULT_LOG_CAP_MB * 1024 * 1024,
            agents: Default::default(),
            prompt_template: None,
        }
    }
}

/// The `[sandbox]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxFile {
    confine: Option<bool>,
    #[serde(default)]
    writable: Vec<String>,
}

impl Config {
    /// Reads `baton.toml` at `repo_root` (defaults when there is none) and applies
    /// `BATON_CONFINE`. Errors name the file, line and column.
    pub fn load(repo_root: &Path) -> Result<Config, EngineError> {
        let path = repo_root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => {
                return Err(EngineError::Config(format!(
                    "{}: cannot read: {error}",
                    path.display()
                )));
            }
        };
        let mut config = Config::parse(&text, &path, repo_root, home_dir().as_deref())?;
        if std::env::var(ENV_CONFINE).is_ok_and(|v| is_off(&v)) {
            config.sandbox.confine = false;
        }
        Ok(config)
    }

    /// Parses the text of `path`, resolving `writable` against `repo_root` and `home`.
    fn parse(
        text: &str,
        path: &Path,
        repo_root: &Path,
        home: Option<&Path>,
    ) -> Result<Config, EngineError> {
        let file: ConfigFile = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            EngineError::Config(format!(
                "{}:{line}:{column}: {} (see docs/config.md)",
                path.display(),
                error.message().trim_end()
            ))
        })?;
        let mut writable = Vec::new();
        for entry in &file.sandbox.writable {
            let resolved = if entry == "~" || entry.starts_with("~/") {
                let Some(home) = home else {
                    return Err(EngineError::Config(format!(
                        "{}: sandbox.writable entry {entry:?} starts with `~` but HOME is not set",
                        path.display()
                    )));
                };
                home.join(entry.trim_start_matches('~').trim_start_matches('/'))
            } else {
                repo_root.join(entry)
            };
            writable.push(resolved);
        }
        crate::config_agents::check_agents(&file.agents).map_err(|why| {
            EngineError::Config(format!("{}: {why} (see docs/config.md)", path.display()))
        })?;
        if file
            .prompt
            .template
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(EngineError::Config(format!(
                "{}: prompt.template is empty; give the template's path (or remove the key to \
                 use .baton/prompt.md.j2 or the default)",
                path.display()
            )));
        }
        let log_cap_mb = file.output.log_cap_mb.unwrap_or(DEFAULT_LOG_CAP_MB);
        if log_cap_mb == 0 {
            return Err(EngineError::Config(format!(
                "{}: output.log_cap_mb must be at least 1 (MiB per agent or gate log)",
                path.display()
            )));
        }
        Ok(Config {
            sandbox: SandboxConfig {
                confine: file.sandbox.confine.unwrap_or(true),
                writable,
            },
            log_cap: log_cap_mb.saturating_mul(1024 * 1024),
            agents: file.agents,
            prompt_template: file.prompt.template.map(|path| repo_root.join(path)),
        })
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn is_off(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(
            text,
            Path::new("/repo/baton.toml"),
            Path::new("/repo"),
            Some(Path::new("/home/me")),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn no_file_means_confined_with_no_extra_writable_dirs() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert!(Config::default().sandbox.confine);
    }

    #[test]
    fn writable_dirs_expand_home_and_resolve_relative_paths_from_the_repository() {
        let config = parse(
            "[sandbox]\nconfine = true\nwritable = [\"~/.cargo\", \"~\", \"build/out\", \"/opt/cache\"]\n",
        )
        .unwrap();
        assert_eq!(
            config.sandbox.writable,
            [
                PathBuf::from("/home/me/.cargo"),
                PathBuf::from("/home/me"),
                PathBuf::from("/repo/build/out"),
                PathBuf::from("/opt/cache"),
            ]
        );
    }

    #[test]
    fn confine_false_turns_confinement_off() {
        assert!(
            !parse("[sandbox]\nconfine = false\n")
                .unwrap()
                .sandbox
                .confine
        );
    }

    #[test]
    fn an_unknown_field_is_named_with_file_line_and_column() {
        let error = parse("[sandbox]\nconfine = true\nwriteable = []\n").unwrap_err();
        assert!(error.starts_with("/repo/baton.toml:3:1: "), "{error}");
        assert!(error.contains("unknown field `writeable`"), "{error}");
    }

    #[test]
    fn a_wrong_type_is_named_with_file_line_and_column() {
        let error = parse("[sandbox]\nconfine = \"yes\"\n").unwrap_err();
        assert!(error.starts_with("/repo/baton.toml:2:11: "), "{error}");
        assert!(error.contains("bool"), "{error}");
    }

    #[test]
    fn an_unknown_table_is_refused() {
        let error = parse("[sandbx]\n").unwrap_err();
        assert!(error.contains("unknown field `sandbx`"), "{error}");
    }

    #[test]
    fn only_explicit_off_values_of_the_environment_variable_turn_confinement_off() {
        for off in ["0", "false", "off", "No"] {
            assert!(is_off(off), "{off}");
        }
        for on in ["1", "", "true", "yes"] {
            assert!(!is_off(on), "{on}");
        }
    }

    #[test]
    fn the_log_cap_is_read_in_mebibytes_and_zero_is_refused() {
        assert_eq!(
            parse("[output]\nlog_cap_mb = 2\n").unwrap().log_cap,
            2 * 1024 * 1024
        );
        assert_eq!(parse("").unwrap().log_cap, 256 * 1024 * 1024);
        let error = parse("[output]\nlog_cap_mb = 0\n").unwrap_err();
        assert!(error.contains("log_cap_mb must be at least 1"), "{error}");
    }

    #[test]
    fn the_prompt_template_is_taken_from_the_repository_root_and_an_empty_one_is_refused() {
        assert_eq!(
            parse("[prompt]\ntemplate = \"prompts/agent.j2\"\n")
                .unwrap()
                .prompt_template,
            Some(PathBuf::from("/repo/prompts/agent.j2"))
        );
        assert_eq!(parse("").unwrap().prompt_template, None);
        let error = parse("[prompt]\ntemplate = \" \"\n").unwrap_err();
        assert!(error.contains("prompt.template is empty"), "{error}");
        let error = parse("[prompt]\ntemplte = \"x\"\n").unwrap_err();
        assert!(error.starts_with("/repo/baton.toml:2:1: "), "{error}");
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        assert_eq!(line_column("ab\ncé\nx", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nx", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nx", 7), (3, 1));
    }
}
