//! The template baton renders an agent's prompt from: the default one shipped in the binary, or
//! the repository's own (`[prompt] template` in `baton.toml`, else `.baton/prompt.md.j2`).
//! Rendered with minijinja, strict about undefined variables, so a typo in a user template is
//! an error that names the file and line instead of a silently empty prompt part.

use crate::EngineError;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The default template, shipped in the binary.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/prompt.md.j2");

/// Where a repository overrides the default template, relative to its root.
pub const OVERRIDE_PATH: &str = ".baton/prompt.md.j2";

/// How many changed files of one dependency the prompt lists; the rest are counted.
pub const MAX_DEPENDENCY_FILES: usize = 50;

/// What a prompt template sees: a documented, stable set of variables (docs/agents.md, "The
/// prompt"). Adding a variable is compatible; renaming or removing one breaks user templates.
#[derive(Debug, Clone, Serialize)]
pub struct PromptContext {
    /// The run's goal (the plan's `goal`).
    pub goal: String,
    /// The task the agent works on.
    pub task: TaskVars,
    /// The gates that will judge the task, in order.
    pub gates: Vec<GateVars>,
    /// The task's dependencies, in plan order.
    pub dependencies: Vec<DependencyVars>,
    /// The attempt's number, from 1.
    pub attempt: u32,
    /// Why the previous attempt failed, on a retry; `none` on a first attempt.
    pub failure: Option<String>,
    /// The run's id; `none` for `baton prompt`, which renders before any run exists.
    pub run: Option<String>,
    /// The task's briefing: where the run stands and what runs beside it; `none` for `baton
    /// prompt`.
    pub briefing: Option<BriefingVars>,
}

/// `briefing` in a prompt template: the facts of `baton brief`, for one task.
#[derive(Debug, Clone, Serialize)]
pub struct BriefingVars {
    /// Tasks of the run merged (or declared done) so far.
    pub done: usize,
    /// Tasks in the run.
    pub tasks: usize,
    /// The other tasks running now, each in its own lane: their changes are not in the working
    /// copy, and their paths are theirs.
    pub running: Vec<RunningVars>,
    /// The most dollars this attempt may still spend (the tightest budget), else `none`.
    pub budget_left: Option<String>,
}

/// One of `briefing.running`.
#[derive(Debug, Clone, Serialize)]
pub struct RunningVars {
    pub id: String,
    pub title: String,
    /// The paths it may change (`["**"]` when it claims everything).
    pub claims: Vec<String>,
}

/// `task` in a prompt template.
#[derive(Debug, Clone, Serialize)]
pub struct TaskVars {
    pub id: String,
    pub title: String,
    /// The plan's `prompt` (or the text of its `prompt_file`).
    pub prompt: String,
    /// The paths it may change, as written in the plan (`["**"]` when it claims everything).
    pub claims: Vec<String>,
    /// True when the task may change any path (no `claims` in the plan).
    pub claims_everything: bool,
    /// 1 to 10 when the plan says, else `none`.
    pub complexity: Option<u32>,
    pub capabilities: Vec<String>,
    /// The agent the plan names (`claude`, ..., or `auto`).
    pub agent: String,
    /// The model the plan names, else `none`.
    pub model: Option<String>,
    /// The steps of the work, in order (`steps:` of the plan); empty when it gives none.
    pub steps: Vec<String>,
}

/// One of `gates` in a prompt template.
#[derive(Debug, Clone, Serialize)]
pub struct GateVars {
    pub name: String,
    pub command: String,
}

/// One of `dependencies` in a prompt template.
#[derive(Debug, Clone, Serialize)]
pub struct DependencyVars {
    pub id: String,
    pub title: String,
    /// The dependency's status in the run (`merged`, ...), or `not run yet`.
    pub status: String,
    /// True when its change is on the integration branch the task starts from.
    pub merged: bool,
    /// The files its merged attempt changed: the first [`MAX_DEPENDENCY_FILES`].
    pub changed_files: Vec<String>,
    /// How many more files it changed than `changed_files` lists.
    pub more_files: usize,
}

impl DependencyVars {
    /// A dependency whose change is merged, with the files it changed (capped).
    pub fn merged(id: String, title: String, mut files: Vec<String>) -> DependencyVars {
        let more_files = files.len().saturating_sub(MAX_DEPENDENCY_FILES);
        files.truncate(MAX_DEPENDENCY_FILES);
        DependencyVars {
            id,
            title,
            status: "merged".to_owned(),
            merged: true,
            changed_files: files,
            more_files,
        }
    }

    /// A dependency that is not merged (yet): `status` says where it is.
    pub fn pending(id: String, title: String, status: String) -> DependencyVars {
        DependencyVars {
            id,
            title,
            status,
            merged: false,
            changed_files: Vec::new(),
            more_files: 0,
        }
    }
}

/// A parsed prompt template and where it came from.
pub struct PromptTemplate {
    env: Environment<'static>,
    /// The file it was read from; `None` for the default one.
    pub origin: Option<PathBuf>,
}

impl std::fmt::Debug for PromptTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptTemplate")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The name of the one template in the environment.
const NAME: &str = "prompt";

impl PromptTemplate {
    /// The template for the repository at `repo_root`: `configured` (`[prompt] template`,
    /// absolute) when given, else `.baton/prompt.md.j2` when it exists, else the default.
    /// A file that cannot be read or does not parse is a configuration error naming it.
    pub fn load(
        repo_root: &Path,
        configured: Option<&Path>,
    ) -> Result<PromptTemplate, EngineError> {
        let (path, configured) = match configured {
            Some(path) => (path.to_path_buf(), true),
            None => (repo_root.join(OVERRIDE_PATH), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(source) => PromptTemplate::parse(source, Some(path)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && !configured => {
                PromptTemplate::parse(DEFAULT_TEMPLATE.to_owned(), None)
            }
            Err(error) => Err(EngineError::Config(format!(
                "{}: cannot read the prompt template: {error}",
                path.display()
            ))),
        }
    }

    /// Parses `source`, read from `origin` (`None`: the default template).
    pub fn parse(source: String, origin: Option<PathBuf>) -> Result<PromptTemplate, EngineError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Errors carry the template's source (to quote the failing line) in release builds too.
        env.set_debug(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Block tags on lines of their own leave no blank lines, and the file's last newline
        // stays: templates read like the prompt they make.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        let mut template = PromptTemplate { env, origin };
        let added = template.env.add_template_owned(NAME, source);
        added.map_err(|error| EngineError::Config(template.describe(&error)))?;
        Ok(template)
    }

    /// The prompt for `context`; the error names the template file and line.
    pub fn render(&self, context: &PromptContext) -> Result<String, String> {
        let rendered = self
            .env
            .get_template(NAME)
            .and_then(|template| template.render(context));
        rendered.map_err(|error| self.describe(&error))
    }

    /// What the template is called in messages: its file, or the default's name.
    pub fn name(&self) -> String {
        match &self.origin {
            Some(path) => path.display().to_string(),
            None => "the default prompt template (templates/prompt.md.j2)".to_owned(),
        }
    }

    /// `FILE:LINE: what minijinja says`, with the docs to read.
    fn describe(&self, error: &minijinja::Error) -> String {
        let place = match error.line() {
            Some(line) => format!("{}:{line}", self.name()),
            None => self.name(),
        };
        let what = match error.detail() {
            Some(detail) => format!("{}: {detail}", error.kind()),
            None => error.kind().to_string(),
        };
        // minijinja does not name an undefined variable: quote the line that uses it.
        let quoted = error
            .line()
            .zip(error.template_source())
            .and_then(|(line, source)| source.lines().nth(line.saturating_sub(1)))
            .map(|text| format!(", in `{}`", text.trim()))
            .unwrap_or_default();
        format!("{place}: {what}{quoted} (the variables a prompt template may use: docs/agents.md)")
    }
}

#[cfg(test)]
#[path = "prompt_template_tests.rs"]
mod tests;
