//! Planning: from one sentence to a checked plan. The configured provider (`[planner]`) reads
//! the repository (see `planner_prompt`) and answers in a JSON schema; the answer is checked
//! by `baton_core::planner` and, when unusable, sent back once with every problem named. A
//! second unusable answer stops planning, with the raw output kept as an artifact.

use crate::config_planner::PlannerConfig;
use crate::planner_prompt::{system_prompt, user_prompt};
use crate::{Config, Engine, EngineError};
use baton_agents::keys::KeyStore;
use baton_agents::providers::{
    CompletionRequest, HttpProvider, Message, Provider, ProviderError, collect, find, settle_usage,
};
use baton_core::planner::{
    PlannerProblem, answer_to_plan, plan_file_yaml, read_answer, repair_request,
};
use baton_core::{CostBasis, Usd, parse_plan};
use baton_git::Git;
use baton_protocol::{ArtifactKind, PlanFile, PlannerAnswer, RunId, UsageTotals};
use baton_store::ArtifactRow;
use serde::Serialize;
use std::path::PathBuf;

/// How many answers the planner may give: the first, and one after a repair request.
const MAX_ANSWERS: u32 = 2;

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// A directory in the repository.
    pub repo_dir: PathBuf,
    /// The goal, in one sentence or a few.
    pub goal: String,
}

/// A plan the planner made and baton checked.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub goal: String,
    /// The planner's answer: tasks with their risk and checks, risks, open questions.
    pub answer: PlannerAnswer,
    /// The plan file made from it.
    pub plan: PlanFile,
    /// The plan file's text (passes `baton_core::parse_plan`).
    pub yaml: String,
    /// What the planning cost.
    pub planner: PlannerUse,
    /// The problems of the first answer, when a repair request was needed.
    pub repaired: Vec<String>,
}

/// Who planned and what it cost.
#[derive(Debug, Clone, Serialize)]
pub struct PlannerUse {
    pub provider: String,
    pub model: String,
    /// Calls made (2 after a repair request).
    pub calls: u32,
    /// Tokens of every call together.
    pub usage: UsageTotals,
    /// Dollars of every call; `None` when some call's price is unknown.
    pub cost: Option<Usd>,
    pub basis: CostBasis,
    /// The price table that priced it (for `priced`).
    pub price_version: Option<String>,
}

/// The ledger's task id for a run's planning: not a valid task id, so no task can share it.
pub const PLANNER_TASK: &str = "(planner)";

/// Why planning stopped.
#[derive(Debug, thiserror::Error)]
pub enum PlannerError {
    /// The request or the setup is the person's to fix: an empty goal, no `[planner]`, no key.
    #[error("{0}")]
    Setup(String),
    /// The repository, configuration or store failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The provider's call failed.
    #[error("the planner's call failed: {0}")]
    Provider(#[from] ProviderError),
    /// A workflow template's analyzer phase failed.
    #[error("template phase {phase} (analyzer) failed: {source}")]
    Analyzer {
        phase: String,
        source: Box<PlannerError>,
    },
    /// The answer was unusable twice; its raw output is kept as artifact `artifact`.
    #[error("{}", invalid_message(.problems, .artifact))]
    Invalid {
        problems: Vec<PlannerProblem>,
        artifact: String,
    },
}

fn invalid_message(problems: &[PlannerProblem], artifact: &str) -> String {
    format!(
        "the planner's answer is still unusable after one repair request ({} problem{}: {}); \
         its raw output is artifact {artifact} (`baton artifact show {artifact}`); try again, \
         or write the plan by hand (docs/plan.md)",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    )
}

impl PlannerError {
    /// True when the person must change their input or setup (exit 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            PlannerError::Analyzer { source, .. } => source.is_bad_input(),
            other => matches!(
                other,
                PlannerError::Setup(_)
                    | PlannerError::Invalid { .. }
                    | PlannerError::Provider(ProviderError::Config { .. })
            ),
        }
    }
}

/// Who plans: a provider, its model, the output limit and the agent the tasks run on.
pub struct PlannerSetup<'a> {
    pub provider: &'a dyn Provider,
    pub model: String,
    pub max_tokens: u32,
    /// `auto` or an agent name.
    pub agent: String,
}

/// The goal without surrounding blanks; an empty one is refused before anything is paid for.
pub fn checked_goal(goal: &str) -> Result<&str, PlannerError> {
    let goal = goal.trim();
    if goal.is_empty() {
        return Err(PlannerError::Setup(
            "the goal is empty: say what to do, such as \"Add a --verbose flag\"".to_owned(),
        ));
    }
    Ok(goal)
}

/// What a model that reads the repository needs: the repository, the files git tracks in it,
/// and the prices its answer is paid at.
pub(crate) async fn repository_for_a_model(
    repo_dir: &std::path::Path,
) -> Result<(Git, Vec<String>, baton_core::PriceTable), EngineError> {
    let git = Git::discover(repo_dir).await?;
    let tree = git.tracked_files(git.root()).await?;
    let table =
        baton_agents::prices::price_table(baton_agents::prices::user_prices_path().as_deref())
            .map_err(|error| EngineError::Config(error.to_string()))?;
    Ok((git, tree, table))
}

/// The model a planner (or an analyzer) calls: a provider over HTTP, or an agent CLI in its
/// read-only mode, with the model and output limit.
pub(crate) struct ModelProvider {
    caller: Caller,
    pub model: String,
    pub max_tokens: u32,
}

enum Caller {
    Http(HttpProvider),
    Cli(crate::planner_cli::CliPlanner),
}

impl ModelProvider {
    /// The model `planner` names, in the repository around `repo_dir`.
    pub(crate) async fn of(
        planner: &PlannerConfig,
        config: &Config,
        repo_dir: &std::path::Path,
    ) -> Result<ModelProvider, PlannerError> {
        if let Some(name) = &planner.cli {
            let git = Git::discover(repo_dir).await.map_err(EngineError::from)?;
            // config_planner and templates check the name is one of PLANNER_CLIS.
            let cli =
                crate::planner_cli::CliPlanner::new(name, git.root().to_path_buf(), &config.agents);
            return Ok(ModelProvider {
                caller: Caller::Cli(cli),
                model: planner.model.clone().unwrap_or_default(),
                max_tokens: 0,
            });
        }
        let (http, model, max_tokens) = planner_provider(planner)?;
        Ok(ModelProvider {
            caller: Caller::Http(http),
            model,
            max_tokens,
        })
    }

    /// The provider to call.
    pub(crate) fn provider(&self) -> &dyn Provider {
        match &self.caller {
            Caller::Http(http) => http,
            Caller::Cli(cli) => cli,
        }
    }
}

/// The provider, model and output limit `planner` says, with its key.
fn planner_provider(planner: &PlannerConfig) -> Result<(HttpProvider, String, u32), PlannerError> {
    let Some(name) = planner.provider.as_deref() else {
        return Err(PlannerError::Setup(
            "no planner is configured: add [planner] with provider = \"anthropic\" (or openai, \
             ollama, ... see `baton providers`) and model = \"...\", or cli = \"claude\" \
             (Claude Code in plan mode), to baton.toml (see docs/config.md)"
                .to_owned(),
        ));
    };
    let spec = find(name)
        .ok_or_else(|| PlannerError::Setup(format!("planner.provider {name:?} is unknown")))?;
    let store = KeyStore::from_env().map_err(|e| PlannerError::Setup(e.to_string()))?;
    let provider = HttpProvider::from_env(spec, Some(&store))
        .map_err(|e| PlannerError::Setup(format!("[planner]: {e}")))?;
    let model = planner
        .model
        .clone()
        .or(spec.default_model.map(str::to_owned))
        .ok_or_else(|| {
            PlannerError::Setup(format!(
                "[planner] names {name}, which has no default model: add model = \"...\" \
                 (`baton providers detect` lists a local server's models)"
            ))
        })?;
    let max_tokens = planner
        .max_tokens
        .unwrap_or(crate::config_planner::DEFAULT_PLANNER_MAX_TOKENS);
    Ok((provider, model, max_tokens))
}

pub(crate) fn add_usage(totals: &mut UsageTotals, usage: &baton_protocol::Usage) {
    totals.input_tokens += usage.input_tokens;
    totals.cached_input_tokens += usage.cached_input_tokens;
    totals.cache_write_tokens += usage.cache_write_tokens;
    totals.output_tokens += usage.output_tokens;
    totals.reasoning_tokens += usage.reasoning_tokens;
    totals.model = usage.model.clone().or(totals.model.take());
    totals.reports += 1;
}

/// The answer's text checked, made into a plan file, and that file read back by the plan
/// parser (what baton writes, baton must read).
fn usable(
    text: &str,
    tree: &[String],
    goal: &str,
    agent: &str,
) -> Result<(PlannerAnswer, PlanFile, String), Vec<PlannerProblem>> {
    let answer = read_answer(text, tree)?;
    let plan = answer_to_plan(&answer, goal, agent);
    let yaml = plan_file_yaml(&plan);
    if let Err(errors) = parse_plan(&yaml, "plan.yaml") {
        return Err(vec![PlannerProblem {
            task: None,
            field: "tasks".to_owned(),
            message: format!("the plan made from the answer is invalid: {errors}"),
        }]);
    }
    Ok((answer, plan, yaml))
}

impl Engine {
    /// Plans `request.goal` with the `[planner]` provider. An unusable answer gets one repair
    /// request; a second one is kept as a `planner_output` artifact and fails.
    pub async fn plan_goal(&self, request: &PlanRequest) -> Result<Planned, PlannerError> {
        let git = Git::discover(&request.repo_dir)
            .await
            .map_err(EngineError::from)?;
        let config = Config::load(git.root())?;
        self.plan_goal_as(request, &config.planner, &config).await
    }

    /// Plans `request.goal` with `planner` (`[planner]`, or a template phase's settings on
    /// top of it).
    pub async fn plan_goal_as(
        &self,
        request: &PlanRequest,
        planner: &PlannerConfig,
        config: &Config,
    ) -> Result<Planned, PlannerError> {
        let agent = planner.agent().to_owned();
        let model_provider = ModelProvider::of(planner, config, &request.repo_dir).await?;
        let setup = PlannerSetup {
            provider: model_provider.provider(),
            model: model_provider.model.clone(),
            max_tokens: model_provider.max_tokens,
            agent,
        };
        self.plan_with(request, &setup).await
    }

    /// Plans `request.goal` with `setup` (see [`Engine::plan_goal`]).
    pub async fn plan_with(
        &self,
        request: &PlanRequest,
        setup: &PlannerSetup<'_>,
    ) -> Result<Planned, PlannerError> {
        let goal = checked_goal(&request.goal)?;
        let (provider, model, max_tokens) = (setup.provider, &setup.model, setup.max_tokens);
        let (git, tree, table) = repository_for_a_model(&request.repo_dir).await?;
        let mut messages = vec![Message::user(user_prompt(goal, git.root(), &tree))];
        let mut usage = UsageTotals::default();
        let mut cost = Some(Usd::ZERO);
        let mut basis = CostBasis::Priced;
        let mut repaired = Vec::new();
        let mut calls = 0;
        loop {
            let call = CompletionRequest {
                model: model.clone(),
                system: system_prompt(),
                messages: messages.clone(),
                max_output_tokens: max_tokens,
                temperature: None,
            };
            let stream = provider.stream(&call).await?;
            let completion = collect(provider.name(), stream, |_| {}).await?;
            calls += 1;
            add_usage(&mut usage, &completion.usage);
            let (dollars, how) = settle_usage(&completion.usage, model, &table);
            cost = cost.zip(dollars).map(|(a, b)| a.saturating_add(b));
            if how != CostBasis::Priced {
                basis = how;
            }
            match usable(&completion.text, &tree, goal, &setup.agent) {
                Ok((answer, plan, yaml)) => {
                    return Ok(Planned {
                        goal: goal.to_owned(),
                        answer,
                        plan,
                        yaml,
                        planner: PlannerUse {
                            provider: provider.name().to_owned(),
                            model: completion.model,
                            calls,
                            usage,
                            cost,
                            basis,
                            price_version: (basis == CostBasis::Priced)
                                .then(|| table.version.clone()),
                        },
                        repaired,
                    });
                }
                Err(problems) if calls < MAX_ANSWERS => {
                    repaired = problems.iter().map(ToString::to_string).collect();
                    messages.push(Message::assistant(completion.text));
                    messages.push(Message::user(repair_request(&problems)));
                }
                Err(problems) => {
                    let kept = self
                        .save_artifact(None, None, ArtifactKind::PlannerOutput, &completion.text)
                        .await?;
                    return Err(PlannerError::Invalid {
                        problems,
                        artifact: kept.id,
                    });
                }
            }
        }
    }

    /// Records what planning `planned` cost in `run`'s ledger (task [`PLANNER_TASK`], agent
    /// `planner`), so budgets and the run's usage report count it.
    pub async fn record_planner_usage(
        &self,
        run: &RunId,
        planned: &Planned,
    ) -> Result<(), EngineError> {
        self.record_model_usage(run, PLANNER_TASK, "planner", &planned.planner)
            .await
    }

    /// Records a model call's cost (`used`) in `run`'s ledger under the pseudo-task `task`.
    pub(crate) async fn record_model_usage(
        &self,
        run: &RunId,
        task: &str,
        agent: &str,
        used: &PlannerUse,
    ) -> Result<(), EngineError> {
        self.store()
            .record_usage(&baton_store::LedgerEntry {
                run_id: run.clone(),
                task_id: baton_protocol::TaskId::new(task),
                attempt: 0,
                agent: agent.to_owned(),
                model: Some(format!("{}/{}", used.provider, used.model)),
                tokens: baton_core::Tokens::from(&used.usage),
                cost: used.cost,
                basis: used.basis,
                price_version: used.price_version.clone(),
            })
            .await?;
        Ok(())
    }

    /// Keeps a plan's file and its task list (the planner's answer with risks, checks, open
    /// questions and what planning cost) as artifacts of `run`, or of no run yet.
    pub async fn save_planned(
        &self,
        run: Option<&RunId>,
        planned: &Planned,
    ) -> Result<(ArtifactRow, ArtifactRow), EngineError> {
        let plan = self
            .save_artifact(run, None, ArtifactKind::Plan, &planned.yaml)
            .await?;
        let list = self.save_task_list(run, planned).await?;
        Ok((plan, list))
    }

    /// Keeps the planner's answer (tasks with risks, checks, open questions, what planning
    /// cost) as a `task_list` artifact of `run`, or of no run yet.
    pub async fn save_task_list(
        &self,
        run: Option<&RunId>,
        planned: &Planned,
    ) -> Result<ArtifactRow, EngineError> {
        let list = serde_json::json!({
            "goal": planned.goal,
            "summary": planned.answer.summary,
            "tasks": planned.answer.tasks,
            "risks": planned.answer.risks,
            "open_questions": planned.answer.open_questions,
            "planner": planned.planner,
            "repaired": planned.repaired,
        });
        let text = serde_json::to_string_pretty(&list).map_err(|error| {
            EngineError::BadRequest(format!("cannot write the task list: {error}"))
        })?;
        self.save_artifact(run, None, ArtifactKind::TaskList, &text)
            .await
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
