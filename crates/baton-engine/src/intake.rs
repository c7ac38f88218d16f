//! Turning a plan file and a repository into a run: every check happens before anything is
//! written, so a bad plan leaves no trace.

use crate::{Engine, EngineError};
use baton_core::{Plan, parse_plan};
use baton_git::Git;
use baton_protocol::RunId;
use baton_store::NewRun;
use std::path::{Path, PathBuf};

/// What `baton run` asks for.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// A directory inside the repository.
    pub repo_dir: PathBuf,
    /// The plan file.
    pub plan_path: PathBuf,
    /// Overrides the plan's `lanes`.
    pub lanes: Option<u32>,
    /// Move this branch to the integration head when the run completes.
    pub into: Option<String>,
}

/// A plan checked against its repository.
#[derive(Debug, Clone)]
pub struct ValidatedPlan {
    pub plan: Plan,
    pub source: String,
    pub origin: String,
    pub git: Git,
    pub base: String,
    pub base_commit: baton_git::Oid,
}

/// Reads and validates a plan against the repository around `repo_dir`.
pub async fn validate_plan(
    repo_dir: &Path,
    plan_path: &Path,
) -> Result<ValidatedPlan, EngineError> {
    let source = tokio::fs::read_to_string(plan_path)
        .await
        .map_err(|source| EngineError::ReadPlan {
            path: plan_path.to_path_buf(),
            source,
        })?;
    let origin = plan_path.display().to_string();
    let plan = parse_plan(&source, &origin).map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
    if !repo_dir.is_dir() {
        return Err(EngineError::Repository(format!(
            "{} is not a directory",
            repo_dir.display()
        )));
    }
    baton_git::Git::check_version().await?;
    let git = Git::discover(repo_dir).await?;
    crate::Config::load(git.root())?;
    let base = match &plan.base {
        Some(base) => base.clone(),
        None => git.current_branch().await?.ok_or_else(|| {
            EngineError::Repository(format!(
                "{origin}: no `base` in the plan and {} is on a detached HEAD; \
                 add `base: <branch>` to the plan",
                git.root().display()
            ))
        })?,
    };
    let base_commit = git.resolve_commit(&base).await?.ok_or_else(|| {
        EngineError::InvalidPlan(format!(
            "{origin}: base branch {base:?} does not exist in {} (see `git branch`)",
            git.root().display()
        ))
    })?;
    Ok(ValidatedPlan {
        plan,
        source,
        origin,
        git,
        base,
        base_commit,
    })
}

/// Before a run is created: every AI agent the plan names is installed (else how to install
/// it), `agent: auto` finds at least one, and every `prompt_file` can be read.
pub(crate) fn check_agents_can_run(checked: &ValidatedPlan) -> Result<(), EngineError> {
    // The prices the run will use: a broken price file is refused now, not mid-run.
    baton_agents::prices::price_table(baton_agents::prices::user_prices_path().as_deref())
        .map_err(|error| EngineError::Config(error.to_string()))?;
    let config = crate::Config::load(checked.git.root())?;
    let mut problems = Vec::new();
    for task in &checked.plan.tasks {
        if !task.agent.is_ai() {
            continue;
        }
        if task.agent == baton_core::AgentKind::Auto {
            if let Err(why) = crate::routing::choose_adapter(
                task,
                &crate::routing::Avoid::default(),
                &config.agents,
                &crate::routing::installed,
            ) {
                problems.push(format!("task \"{}\": {why}", task.id));
            }
        } else if let Some(adapter) = baton_agents::adapter(task.agent.as_str()) {
            let program = crate::routing::program_of(adapter, &config.agents);
            if !crate::routing::installed(program) {
                problems.push(format!(
                    "task \"{}\" uses agent {}, but `{program}` is not installed; install it: {}",
                    task.id,
                    task.agent,
                    baton_agents::detect::install_command(adapter.name())
                ));
            }
        }
        if let Some(baton_core::Prompt::File(_)) = &task.prompt
            && let Err(why) = crate::prompt::prompt_text_of(&checked.origin, task)
        {
            problems.push(format!("task \"{}\": {why}", task.id));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EngineError::InvalidPlan(format!(
            "{}: {}",
            checked.origin,
            problems.join(&format!("\n{}: ", checked.origin))
        )))
    }
}

/// A new run id: time of creation plus randomness, safe in a ref name and sortable.
pub(crate) fn new_run_id() -> RunId {
    let now = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let suffix: u16 = rand::random();
    RunId::new(format!("{now}-{suffix:04x}"))
}

/// A request whose plan, repository, lanes and `--into` branch were all checked; made by
/// [`RunRequest::check`] before anything is opened or written, so a refused request leaves no
/// trace (not even `$BATON_HOME`).
#[derive(Debug, Clone)]
pub struct CheckedRequest {
    checked: ValidatedPlan,
    lanes: u32,
    into: Option<String>,
    into_expected: Option<String>,
}

impl RunRequest {
    /// Checks everything about the request that needs no database: the plan, the repository,
    /// the base branch, `--lanes` and `--into`.
    pub async fn check(&self) -> Result<CheckedRequest, EngineError> {
        let checked = validate_plan(&self.repo_dir, &self.plan_path).await?;
        check_agents_can_run(&checked)?;
        crate::prompt::check_template(&checked)?;
        let lanes = self.lanes.unwrap_or(checked.plan.lanes);
        if lanes < 1 {
            return Err(EngineError::InvalidPlan(
                "--lanes must be at least 1".to_string(),
            ));
        }
        let into_expected = match &self.into {
            Some(branch) => Some(
                checked
                    .git
                    .resolve_commit(&format!("refs/heads/{branch}"))
                    .await?
                    .ok_or_else(|| {
                        EngineError::Repository(format!(
                            "--into {branch}: no such branch in {}",
                            checked.git.root().display()
                        ))
                    })?
                    .to_string(),
            ),
            None => None,
        };
        Ok(CheckedRequest {
            checked,
            lanes,
            into: self.into.clone(),
            into_expected,
        })
    }
}

impl Engine {
    /// Validates the request and creates a pending run with its integration branch at the
    /// base commit.
    pub async fn create_run(&self, request: &RunRequest) -> Result<RunId, EngineError> {
        let checked = request.check().await?;
        self.create_checked_run(&checked).await
    }

    /// Creates a pending run from a request checked by [`RunRequest::check`], with its
    /// integration branch at the base commit.
    pub async fn create_checked_run(&self, request: &CheckedRequest) -> Result<RunId, EngineError> {
        let checked = &request.checked;
        let id = new_run_id();
        let integration_ref = format!("refs/heads/baton/{id}/integration");
        let new = NewRun {
            id: id.clone(),
            repo: checked.git.root().to_string_lossy().into_owned(),
            goal: checked.plan.goal.clone(),
            plan_origin: checked.origin.clone(),
            plan_source: checked.source.clone(),
            base_ref: checked.base.clone(),
            base_commit: checked.base_commit.to_string(),
            integration_ref: integration_ref.clone(),
            lanes: request.lanes,
            into_branch: request.into.clone(),
            into_expected: request.into_expected.clone(),
            tasks: checked
                .plan
                .tasks
                .iter()
                .map(|t| (t.id.clone(), t.title.clone(), t.retries + 1))
                .collect(),
        };
        let event = self.store.create_run(&new).await?;
        self.bus.emit([event]);
        checked
            .git
            .update_ref(&integration_ref, &checked.base_commit, None)
            .await?;
        Ok(id)
    }
}
