//! baton's settings: `baton.toml` at the repository root, on top of the user's
//! `~/.config/baton/config.toml`. Both optional (see `docs/config.md`).

use crate::EngineError;
use baton_core::text::line_column;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The name of the configuration file at the repository root.
pub const CONFIG_FILE: &str = "baton.toml";

/// The environment variable that turns confinement off when set to `0` (for debugging).
pub const ENV_CONFINE: &str = "BATON_CONFINE";

/// The repository's configuration, with defaults for what `baton.toml` does not say.
#[derive(Debug, Clone, PartialEq)]
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
    /// `[budget] approval_threshold_usd`: an AI attempt estimated past it waits for a person's
    /// approval (`baton approve`).
    pub approval_threshold: Option<baton_core::Usd>,
    /// `[lanes]`: the ignored build and dependency directories a pooled lane keeps between
    /// tasks (`keep`, default [`baton_git::DEFAULT_KEEP`]; empty with `pristine = true`).
    pub lane_keep: Vec<String>,
    /// `[merge] batch`: how many queued items one merge gate run covers (default adaptive).
    pub merge_batch: baton_core::BatchPolicy,
    /// `[merge] lanes`: how many batches are gated at once, each on the one before it
    /// (speculation; default [`baton_core::DEFAULT_MERGE_LANES`]).
    pub merge_lanes: usize,
    /// `[merge] wait`: how long a round with room to spare waits for running tasks to finish
    /// and join it (default [`DEFAULT_MERGE_WAIT`]; `"0s"`: never waits).
    pub merge_wait: std::time::Duration,
    /// `[escalation] person`: a task out of attempts and fallbacks becomes `needs_human`
    /// (the run goes on without it) instead of `failed` (default false).
    pub escalate_to_person: bool,
    /// `[escalation] council` and `council_agents` (size 0: no council).
    pub council: crate::config_escalation::CouncilConfig,
    /// `[review]`: the model that reviews each task's change, when set.
    pub review: Option<crate::config_review::ReviewConfig>,
    /// `[risk]`: risk rules and the approval timeout (see `config_risk.rs`).
    pub risk: crate::config_risk::RiskConfig,
    /// `[planner]`: the provider and model that turn a goal into a plan.
    pub planner: crate::config_planner::PlannerConfig,
}

/// The default of `[merge] wait`.
pub const DEFAULT_MERGE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

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
    #[serde(default)]
    budget: BudgetFile,
    #[serde(default)]
    lanes: LanesFile,
    #[serde(default)]
    merge: MergeFile,
    #[serde(default)]
    escalation: crate::config_escalation::EscalationFile,
    review: Option<crate::config_review::ReviewFile>,
    #[serde(default)]
    risk: crate::config_risk::RiskFile,
    #[serde(default)]
    planner: crate::config_planner::PlannerFile,
}

/// The `[merge]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeFile {
    batch: Option<BatchFile>,
    lanes: Option<i64>,
    wait: Option<String>,
}

/// `[merge] batch`: `"adaptive"` or a size.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BatchFile {
    Size(i64),
    Word(String),
}

/// The `[lanes]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanesFile {
    keep: Option<Vec<String>>,
    pristine: Option<bool>,
}

/// The `[budget]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetFile {
    approval_threshold_usd: Option<f64>,
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
            approval_threshold: None,
            lane_keep: baton_git::DEFAULT_KEEP
                .iter()
                .map(|dir| (*dir).to_owned())
                .collect(),
            merge_batch: baton_core::BatchPolicy::Adaptive,
            merge_lanes: baton_core::DEFAULT_MERGE_LANES,
            merge_wait: DEFAULT_MERGE_WAIT,
            escalate_to_person: false,
            council: Default::default(),
            review: None,
            risk: Default::default(),
            planner: Default::default(),
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

/// What one configuration file says, resolved, before the files are layered.
#[derive(Debug, Default)]
struct Layer {
    /// `[lanes]`: `Some(list)` when the file says what to keep (`pristine = true`: nothing).
    lane_keep: Option<Vec<String>>,
    merge_batch: Option<baton_core::BatchPolicy>,
    merge_lanes: Option<usize>,
    merge_wait: Option<std::time::Duration>,
    escalate_to_person: Option<bool>,
    council: Option<crate::config_escalation::CouncilConfig>,
    review: Option<crate::config_review::ReviewConfig>,
    prompt_template: Option<PathBuf>,
    approval_threshold: Option<baton_core::Usd>,
    confine: Option<bool>,
    writable: Vec<PathBuf>,
    log_cap_mb: Option<u64>,
    agents: std::collections::BTreeMap<String, crate::config_agents::AgentConfig>,
    risk: crate::config_risk::RiskLayer,
    planner: crate::config_planner::PlannerConfig,
}

/// Where the user's own configuration lives: `$BATON_CONFIG` when set, else
/// `~/.config/baton/config.toml` (under `$XDG_CONFIG_HOME` when set).
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(ENV_USER_CONFIG).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Some(baton_agents::user_config_dir()?.join(USER_CONFIG_FILE))
}

/// The environment variable naming the user's configuration file instead of the default.
pub const ENV_USER_CONFIG: &str = "BATON_CONFIG";

/// The user's configuration file's name in baton's configuration directory.
pub const USER_CONFIG_FILE: &str = "config.toml";

/// The text of `path`, or `None` when there is no such file.
fn read_optional(path: &Path) -> Result<Option<String>, EngineError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        // A path under a file (`ENOTDIR`) has no file either.
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(EngineError::Config(format!(
            "{}: cannot read: {error}",
            path.display()
        ))),
    }
}

impl Config {
    /// Reads the user's configuration (see [`user_config_path`]) and `baton.toml` at
    /// `repo_root` on top of it (defaults for what neither says), and applies `BATON_CONFINE`.
    /// Errors name the file, line and column.
    pub fn load(repo_root: &Path) -> Result<Config, EngineError> {
        let home = home_dir();
        let mut layers = Vec::new();
        if let Some(path) = user_config_path()
            && let Some(text) = read_optional(&path)?
        {
            layers.push(Layer::parse(&text, &path, None, home.as_deref())?);
        }
        let path = repo_root.join(CONFIG_FILE);
        if let Some(text) = read_optional(&path)? {
            layers.push(Layer::parse(
                &text,
                &path,
                Some(repo_root),
                home.as_deref(),
            )?);
        }
        let mut config = Config::layered(layers);
        if std::env::var(ENV_CONFINE).is_ok_and(|v| is_off(&v)) {
            config.sandbox.confine = false;
        }
        Ok(config)
    }

    /// Parses the text of the repository's `path` alone (tests).
    #[cfg(test)]
    fn parse(
        text: &str,
        path: &Path,
        repo_root: &Path,
        home: Option<&Path>,
    ) -> Result<Config, EngineError> {
        Ok(Config::layered(vec![Layer::parse(
            text,
            path,
            Some(repo_root),
            home,
        )?]))
    }

    /// The configuration the layers say, later ones winning: a value set in a later file
    /// replaces the earlier one; `writable` lists add up; an agent's table is merged field by
    /// field (see [`AgentConfig::overlay`](crate::config_agents::AgentConfig::overlay)).
    fn layered(layers: Vec<Layer>) -> Config {
        let mut config = Config::default();
        let mut log_cap_mb = DEFAULT_LOG_CAP_MB;
        for layer in layers {
            if let Some(confine) = layer.confine {
                config.sandbox.confine = confine;
            }
            config.sandbox.writable.extend(layer.writable);
            if let Some(cap) = layer.log_cap_mb {
                log_cap_mb = cap;
            }
            if let Some(keep) = layer.lane_keep {
                config.lane_keep = keep;
            }
            if let Some(batch) = layer.merge_batch {
                config.merge_batch = batch;
            }
            if let Some(lanes) = layer.merge_lanes {
                config.merge_lanes = lanes;
            }
            if let Some(wait) = layer.merge_wait {
                config.merge_wait = wait;
            }
            if let Some(person) = layer.escalate_to_person {
                config.escalate_to_person = person;
            }
            if let Some(council) = layer.council {
                config.council = council;
            }
            if layer.review.is_some() {
                config.review = layer.review;
            }
            if layer.prompt_template.is_some() {
                config.prompt_template = layer.prompt_template;
            }
            config.risk.overlay(layer.risk);
            if layer.approval_threshold.is_some() {
                config.approval_threshold = layer.approval_threshold;
            }
            config.planner = std::mem::take(&mut config.planner).overlay(layer.planner);
            for (name, agent) in layer.agents {
                let merged = match config.agents.remove(&name) {
                    Some(earlier) => earlier.overlay(agent),
                    None => agent,
                };
                config.agents.insert(name, merged);
            }
        }
        config.log_cap = log_cap_mb.saturating_mul(1024 * 1024);
        config
    }
}

impl Layer {
    /// Parses the text of `path`, resolving `writable` against `repo_root` (a relative path in
    /// the user's file, which has no repository, is refused) and `home`.
    fn parse(
        text: &str,
        path: &Path,
        repo_root: Option<&Path>,
        home: Option<&Path>,
    ) -> Result<Layer, EngineError> {
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
            writable.push(resolve_path(
                entry,
                path,
                repo_root,
                home,
                "sandbox.writable entry",
            )?);
        }
        let review = match file.review {
            Some(review) => Some(review.resolve().map_err(|why| {
                EngineError::Config(format!("{}: {why} (see docs/config.md)", path.display()))
            })?),
            None => None,
        };
        crate::config_agents::check_agents(&file.agents).map_err(|why| {
            EngineError::Config(format!("{}: {why} (see docs/config.md)", path.display()))
        })?;
        let prompt_template = match file.prompt.template.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(EngineError::Config(format!(
                    "{}: prompt.template is empty; give the template's path (or remove the key \
                     to use .baton/prompt.md.j2 or the default)",
                    path.display()
                )));
            }
            Some(template) => Some(resolve_path(
                template,
                path,
                repo_root,
                home,
                "prompt.template",
            )?),
        };
        let approval_threshold = match file.budget.approval_threshold_usd {
            None => None,
            Some(dollars) => Some(baton_core::Usd::from_dollars(dollars).ok_or_else(|| {
                EngineError::Config(format!(
                    "{}: budget.approval_threshold_usd = {dollars}: write the dollars (0 or more) \
                     past which an attempt waits for approval",
                    path.display()
                ))
            })?),
        };
        let lane_keep = match (file.lanes.pristine, file.lanes.keep) {
            (Some(true), _) => Some(Vec::new()),
            (_, Some(keep)) => {
                for dir in &keep {
                    let name = dir.trim_end_matches('/');
                    if name.is_empty() || name.starts_with('!') || name.contains(['\n', '*']) {
                        return Err(EngineError::Config(format!(
                            "{}: lanes.keep entry {dir:?}: write a directory name such as \
                             \"target\" or a path such as \"web/node_modules\" (no globs)",
                            path.display()
                        )));
                    }
                }
                Some(keep)
            }
            (_, None) => None,
        };
        if file.output.log_cap_mb == Some(0) {
            return Err(EngineError::Config(format!(
                "{}: output.log_cap_mb must be at least 1 (MiB per agent or gate log)",
                path.display()
            )));
        }
        let (merge_batch, merge_lanes) = merge_settings(&file.merge)
            .map_err(|why| EngineError::Config(format!("{}: {why}", path.display())))?;
        let merge_wait = match &file.merge.wait {
            None => None,
            Some(text) => Some(baton_core::parse_duration(text).map_err(|why| {
                EngineError::Config(format!(
                    "{}: merge.wait = {text:?}: {why}; write a duration such as \"1s\" or \
                     \"0s\"",
                    path.display()
                ))
            })?),
        };
        let risk = file.risk.resolve(text, path)?;
        let council = file.escalation.council().map_err(|why| {
            EngineError::Config(format!("{}: {why} (see docs/config.md)", path.display()))
        })?;
        Ok(Layer {
            council,
            risk,
            lane_keep,
            merge_batch,
            merge_lanes,
            merge_wait,
            escalate_to_person: file.escalation.person,
            review,
            prompt_template,
            approval_threshold,
            confine: file.sandbox.confine,
            writable,
            log_cap_mb: file.output.log_cap_mb,
            agents: file.agents,
            planner: file.planner.resolve(text, path)?,
        })
    }
}

/// The `[merge]` table's settings, or what is wrong with them.
fn merge_settings(
    file: &MergeFile,
) -> Result<(Option<baton_core::BatchPolicy>, Option<usize>), String> {
    let batch = match &file.batch {
        None => None,
        Some(BatchFile::Word(word)) if word == "adaptive" => {
            Some(baton_core::BatchPolicy::Adaptive)
        }
        Some(BatchFile::Size(n)) if (1..=baton_core::MAX_BATCH as i64).contains(n) => Some(
            baton_core::BatchPolicy::Fixed(usize::try_from(*n).map_err(|e| e.to_string())?),
        ),
        Some(BatchFile::Word(word)) => {
            return Err(format!(
                "merge.batch = {word:?}: write \"adaptive\" or a size from 1 to {}",
                baton_core::MAX_BATCH
            ));
        }
        Some(BatchFile::Size(n)) => {
            return Err(format!(
                "merge.batch = {n}: write a size from 1 (one item per gate run) to {}, or \
                 \"adaptive\"",
                baton_core::MAX_BATCH
            ));
        }
    };
    let lanes = match file.lanes {
        None => None,
        Some(n) if (1..=baton_core::MAX_MERGE_LANES as i64).contains(&n) => {
            Some(usize::try_from(n).map_err(|e| e.to_string())?)
        }
        Some(n) => {
            return Err(format!(
                "merge.lanes = {n}: write how many batches may be gated at once, from 1 (no \
                 speculation) to {}",
                baton_core::MAX_MERGE_LANES
            ));
        }
    };
    Ok((batch, lanes))
}

/// A path written in the configuration file `path`: `~` is `home`, a relative path is taken
/// from `repo_root` (and refused in the user's file, which has no repository). `what` names
/// the setting in the error.
fn resolve_path(
    entry: &str,
    path: &Path,
    repo_root: Option<&Path>,
    home: Option<&Path>,
    what: &str,
) -> Result<PathBuf, EngineError> {
    if entry == "~" || entry.starts_with("~/") {
        let Some(home) = home else {
            return Err(EngineError::Config(format!(
                "{}: {what} {entry:?} starts with `~` but HOME is not set",
                path.display()
            )));
        };
        return Ok(home.join(entry.trim_start_matches('~').trim_start_matches('/')));
    }
    if Path::new(entry).is_absolute() {
        return Ok(PathBuf::from(entry));
    }
    match repo_root {
        Some(root) => Ok(root.join(entry)),
        None => Err(EngineError::Config(format!(
            "{}: {what} {entry:?} is relative; in the user's configuration write an absolute \
             path or one starting with `~/`",
            path.display()
        ))),
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
    fn merge_batch_and_lanes_are_read_and_bad_values_named() {
        let config = parse("[merge]\nbatch = 1\nlanes = 3\n").unwrap();
        assert_eq!(config.merge_batch, baton_core::BatchPolicy::Fixed(1));
        assert_eq!(config.merge_lanes, 3);
        let default = parse("").unwrap();
        assert_eq!(default.merge_batch, baton_core::BatchPolicy::Adaptive);
        assert_eq!(default.merge_lanes, 2);
        let error = parse("[merge]\nbatch = 17\n").unwrap_err();
        assert!(
            error.starts_with("/repo/baton.toml: merge.batch = 17: write a size from 1"),
            "{error}"
        );
        let error = parse("[merge]\nbatch = \"big\"\n").unwrap_err();
        assert!(
            error.contains("merge.batch = \"big\": write \"adaptive\""),
            "{error}"
        );
        let error = parse("[merge]\nlanes = 0\n").unwrap_err();
        assert!(error.contains("merge.lanes = 0"), "{error}");
        let config = parse("[merge]\nwait = \"250ms\"\n").unwrap();
        assert_eq!(config.merge_wait, std::time::Duration::from_millis(250));
        assert_eq!(default.merge_wait, DEFAULT_MERGE_WAIT);
        let error = parse("[merge]\nwait = \"soon\"\n").unwrap_err();
        assert!(error.contains("merge.wait = \"soon\""), "{error}");
        let error = parse("[merge]\nbatches = 2\n").unwrap_err();
        assert!(error.contains("/repo/baton.toml:2:1"), "{error}");
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
    fn the_repository_file_goes_on_top_of_the_users_field_by_field() {
        let home = Some(Path::new("/home/me"));
        let user = Layer::parse(
            "[sandbox]\nconfine = false\nwritable = [\"~/.cache/sccache\"]\n[output]\nlog_cap_mb = 9\n\
             [agents.claude]\nmodel = \"claude-opus-4-1\"\nmax_concurrency = 2\ncost_hint = 1.5\n\
             [agents.claude.env]\nA = \"user\"\nB = \"user\"\n",
            Path::new("/home/me/.config/baton/config.toml"),
            None,
            home,
        )
        .unwrap();
        let repo = Layer::parse(
            "[sandbox]\nwritable = [\"out\"]\n[agents.claude]\nmax_concurrency = 1\n\
             [agents.claude.env]\nB = \"repo\"\n",
            Path::new("/repo/baton.toml"),
            Some(Path::new("/repo")),
            home,
        )
        .unwrap();
        let config = Config::layered(vec![user, repo]);
        assert!(
            !config.sandbox.confine,
            "the user's value stays when the repo says none"
        );
        assert_eq!(
            config.sandbox.writable,
            [
                PathBuf::from("/home/me/.cache/sccache"),
                PathBuf::from("/repo/out")
            ]
        );
        assert_eq!(config.log_cap, 9 * 1024 * 1024);
        let claude = &config.agents["claude"];
        assert_eq!(claude.model.as_deref(), Some("claude-opus-4-1"));
        assert_eq!(claude.max_concurrency, Some(1), "the repository's wins");
        assert_eq!(claude.cost_hint, Some(1.5));
        assert_eq!(claude.env["A"], "user");
        assert_eq!(claude.env["B"], "repo");
    }

    #[test]
    fn a_relative_writable_path_in_the_users_file_is_refused_naming_it() {
        let error = Layer::parse(
            "[sandbox]\nwritable = [\"build\"]\n",
            Path::new("/home/me/.config/baton/config.toml"),
            None,
            Some(Path::new("/home/me")),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("/home/me/.config/baton/config.toml: "),
            "{error}"
        );
        assert!(error.contains("\"build\" is relative"), "{error}");
    }

    #[test]
    fn zero_concurrency_and_negative_cost_hints_are_refused() {
        let error = parse("[agents.codex]\nmax_concurrency = 0\n").unwrap_err();
        assert!(
            error.contains("[agents.codex] max_concurrency = 0"),
            "{error}"
        );
        let error = parse("[agents.codex]\ncost_hint = -1.0\n").unwrap_err();
        assert!(error.contains("[agents.codex] cost_hint = -1"), "{error}");
        let error = parse("[agents.codex]\nmax_concurrency = \"two\"\n").unwrap_err();
        assert!(error.starts_with("/repo/baton.toml:2:19: "), "{error}");
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        assert_eq!(line_column("ab\ncé\nx", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nx", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nx", 7), (3, 1));
    }
}
