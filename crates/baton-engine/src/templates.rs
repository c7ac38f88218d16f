//! Where workflow templates live and how they are found, checked, rendered, imported and
//! exported: built into the binary, in the user's `~/.config/baton/templates/`, and in the
//! repository's `.baton/templates/` (each shadowing the one before it by name). The default
//! template of `baton run "GOAL"` is named by a `default` file beside them.

use crate::EngineError;
use crate::artifacts::write_atomically;
use baton_core::template::{BUILT_IN, Phase, Template, parse_template};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The repository's templates, relative to its root.
pub const REPO_TEMPLATES: &str = ".baton/templates";

/// The file beside the templates that names the default one.
pub const DEFAULT_FILE: &str = "default";

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateScope {
    BuiltIn,
    User,
    Repo,
}

impl TemplateScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateScope::BuiltIn => "built-in",
            TemplateScope::User => "user",
            TemplateScope::Repo => "repo",
        }
    }
}

/// One template file found.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateEntry {
    pub name: String,
    pub scope: TemplateScope,
    /// The file (none for built-ins).
    pub path: Option<PathBuf>,
    /// The file's text.
    #[serde(skip)]
    pub text: String,
    /// The description, or the file's first problem when it does not parse.
    pub description: String,
    /// Whether it parses and checks.
    pub valid: bool,
    /// Whether a template of the same name in a later scope hides it.
    pub shadowed: bool,
    /// Whether `baton run "GOAL"` uses it.
    pub default: bool,
}

/// The user's templates directory (`~/.config/baton/templates`).
pub fn user_templates_dir() -> Option<PathBuf> {
    Some(baton_agents::user_config_dir()?.join("templates"))
}

/// The repository's templates directory.
pub fn repo_templates_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(REPO_TEMPLATES)
}

fn dir_of(scope: TemplateScope, repo_root: &Path) -> Result<PathBuf, EngineError> {
    match scope {
        TemplateScope::Repo => Ok(repo_templates_dir(repo_root)),
        TemplateScope::User => user_templates_dir().ok_or_else(|| {
            EngineError::BadRequest(
                "no user configuration directory: set HOME or XDG_CONFIG_HOME, or use --repo"
                    .into(),
            )
        }),
        TemplateScope::BuiltIn => Err(EngineError::BadRequest(
            "built-in templates are part of baton and cannot be written".into(),
        )),
    }
}

fn read_dir(dir: &Path, scope: TemplateScope) -> Result<Vec<TemplateEntry>, EngineError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(EngineError::Io {
                path: dir.to_path_buf(),
                source: error,
            });
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })?;
        found.push(entry_of(name, scope, Some(path.clone()), text));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn entry_of(
    name: &str,
    scope: TemplateScope,
    path: Option<PathBuf>,
    text: String,
) -> TemplateEntry {
    let origin = path
        .as_ref()
        .map_or_else(|| name.to_owned(), |p| p.display().to_string());
    let (valid, description) = match check_text(&text, &origin, Some(name)) {
        Ok(template) => (true, template.description),
        Err(error) => (
            false,
            error
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
    };
    TemplateEntry {
        name: name.to_owned(),
        scope,
        path,
        text,
        description,
        valid,
        shadowed: false,
        default: false,
    }
}

/// Every template, built-ins first, then the user's, then the repository's; each marked when
/// a later one of the same name hides it, and the default marked.
pub fn list_templates(repo_root: &Path) -> Result<Vec<TemplateEntry>, EngineError> {
    let mut all: Vec<TemplateEntry> = BUILT_IN
        .iter()
        .map(|(name, text)| entry_of(name, TemplateScope::BuiltIn, None, (*text).to_owned()))
        .collect();
    if let Some(dir) = user_templates_dir() {
        all.extend(read_dir(&dir, TemplateScope::User)?);
    }
    all.extend(read_dir(
        &repo_templates_dir(repo_root),
        TemplateScope::Repo,
    )?);
    for index in 0..all.len() {
        let name = all[index].name.clone();
        all[index].shadowed = all[index + 1..].iter().any(|later| later.name == name);
    }
    if let Some((name, _)) = default_template(repo_root)? {
        for entry in all.iter_mut().filter(|e| e.name == name && !e.shadowed) {
            entry.default = true;
        }
    }
    Ok(all)
}

/// The template named `name` (the repository's, else the user's, else the built-in one).
pub fn find_template(repo_root: &Path, name: &str) -> Result<TemplateEntry, EngineError> {
    let all = list_templates(repo_root)?;
    if let Some(entry) = all.iter().find(|e| e.name == name && !e.shadowed) {
        return Ok(entry.clone());
    }
    let names: Vec<&str> = all
        .iter()
        .filter(|e| !e.shadowed)
        .map(|e| e.name.as_str())
        .collect();
    let hint = baton_core::plan::did_you_mean(name, names.iter().copied())
        .map(|n| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default();
    Err(EngineError::BadRequest(format!(
        "unknown template {name:?}{hint}; the templates are: {} (`baton template list`)",
        names.join(", ")
    )))
}

/// Loads and checks the template named `name`.
pub fn load_template(
    repo_root: &Path,
    name: &str,
) -> Result<(Template, TemplateEntry), EngineError> {
    let entry = find_template(repo_root, name)?;
    let origin = entry.path.as_ref().map_or_else(
        || format!("built-in template {name}"),
        |p| p.display().to_string(),
    );
    let template = check_text(&entry.text, &origin, Some(name))?;
    Ok((template, entry))
}

/// The default template's name and the file that names it, when one is set (the
/// repository's `default` file, else the user's).
pub fn default_template(repo_root: &Path) -> Result<Option<(String, PathBuf)>, EngineError> {
    let dirs = [Some(repo_templates_dir(repo_root)), user_templates_dir()];
    for dir in dirs.into_iter().flatten() {
        let path = dir.join(DEFAULT_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let name = text.trim().to_owned();
                if !name.is_empty() {
                    return Ok(Some((name, path)));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::Io { path, source }),
        }
    }
    Ok(None)
}

/// Makes `name` (which must exist and be valid) the default of `scope`; returns the file
/// written.
pub fn set_default_template(
    repo_root: &Path,
    name: &str,
    scope: TemplateScope,
) -> Result<PathBuf, EngineError> {
    load_template(repo_root, name)?;
    let path = dir_of(scope, repo_root)?.join(DEFAULT_FILE);
    write_atomically(&path, format!("{name}\n").as_bytes())?;
    Ok(path)
}

/// Checks the template file at `file` and copies it into `scope` as `NAME.yaml` (its
/// `name`); an existing template of that scope is replaced only with `force`. Returns the
/// template and the file written.
pub fn import_template(
    repo_root: &Path,
    file: &Path,
    scope: TemplateScope,
    force: bool,
) -> Result<(Template, PathBuf), EngineError> {
    let text = std::fs::read_to_string(file).map_err(|error| {
        EngineError::BadRequest(format!("cannot read {}: {error}", file.display()))
    })?;
    let template = check_text(&text, &file.display().to_string(), None)?;
    let path = dir_of(scope, repo_root)?.join(format!("{}.yaml", template.name));
    if path.exists() && !force {
        return Err(EngineError::BadRequest(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    write_atomically(&path, text.as_bytes())?;
    Ok((template, path))
}

/// Parses `text` and checks what the core cannot: agent and provider names, and that every
/// prompt and command is a valid minijinja template. With `name`, the template's own `name`
/// must match it (the file is found by that name).
pub fn check_text(text: &str, origin: &str, name: Option<&str>) -> Result<Template, EngineError> {
    let template = parse_template(text, origin)
        .map_err(|errors| EngineError::BadRequest(errors.to_string()))?;
    let mut problems = Vec::new();
    if let Some(name) = name
        && template.name != name
    {
        problems.push(format!(
            "{origin}: the template says name: {:?}, but it is found as {name:?}; make them \
             the same",
            template.name
        ));
    }
    for phase in &template.phases {
        let at = format!(
            "{origin}:{}:{}: phase {:?}",
            phase.line, phase.column, phase.name
        );
        check_phase_names(phase, &at, &mut problems);
        for (field, source) in phase_texts(phase) {
            if let Err(error) = environment().template_from_str(&source) {
                problems.push(format!("{at}: {field} is not a valid template: {error}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(template)
    } else {
        Err(EngineError::BadRequest(problems.join("\n")))
    }
}

fn check_phase_names(phase: &Phase, at: &str, problems: &mut Vec<String>) {
    if let Some(fallback) = &phase.fallback {
        let as_phase = Phase {
            provider: fallback.provider.clone(),
            cli: fallback.cli.clone(),
            model: fallback.model.clone(),
            agent: None,
            fallback: None,
            ..phase.clone()
        };
        check_phase_names(&as_phase, &format!("{at} (fallback)"), problems);
    }
    if let Some(agent) = &phase.agent {
        match baton_core::AgentKind::parse(agent) {
            None => problems.push(format!(
                "{at}: agent {agent:?} is not an agent baton knows (see `baton agents`)"
            )),
            Some(kind) if phase.run.is_some() && kind.is_ai() => {
                problems.push(format!("{at}: run: is for agent: exec, not {agent}"))
            }
            Some(_) => {}
        }
    }
    if let Some(cli) = &phase.cli
        && !crate::planner_cli::PLANNER_CLIS.contains(&cli.as_str())
    {
        problems.push(format!(
            "{at}: cli {cli:?} cannot work read-only for baton; the CLIs that can: {}",
            crate::planner_cli::PLANNER_CLIS.join(", ")
        ));
    }
    if phase.cli.is_some() && phase.provider.is_some() {
        problems.push(format!("{at}: cli and provider are exclusive; keep one"));
    }
    if let Some(provider) = &phase.provider
        && baton_agents::providers::find(provider).is_none()
    {
        problems.push(format!(
            "{at}: provider {provider:?} is not a provider baton knows (`baton providers`)"
        ));
    }
}

/// The texts of a phase that are rendered: (field, text).
fn phase_texts(phase: &Phase) -> Vec<(&'static str, String)> {
    let mut texts = Vec::new();
    if let Some(prompt) = &phase.prompt {
        texts.push(("prompt", prompt.clone()));
    }
    if let Some(run) = &phase.run {
        texts.push(("run", run.clone()));
    }
    for claim in &phase.claims {
        texts.push(("claims", claim.clone()));
    }
    for criterion in &phase.success {
        texts.push(("success", criterion.run.clone()));
    }
    texts
}

/// The minijinja environment of template phases: strict about undefined variables (a typo
/// is an error naming the phase, not an empty part), no escaping (prompts and commands are
/// plain text).
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env
}

/// Renders a phase's text kept for later (an implementer's prompt, again for each attempt).
pub(crate) fn render_kept_text(source: &str, context: &impl Serialize) -> Result<String, String> {
    environment()
        .render_str(source, context)
        .map(|text| text.trim().to_owned())
        .map_err(|error| format!("the template's prompt cannot be rendered: {error}"))
}

/// Renders one of `phase`'s texts (`field` names it in errors) with `context`.
pub fn render_phase_text(
    phase: &Phase,
    field: &str,
    source: &str,
    context: &impl Serialize,
) -> Result<String, EngineError> {
    environment().render_str(source, context).map_err(|error| {
        EngineError::BadRequest(format!(
            "template phase {:?} ({}): {field} cannot be rendered: {error}",
            phase.name, phase.role
        ))
    })
}
