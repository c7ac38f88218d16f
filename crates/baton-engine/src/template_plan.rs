//! Planning a run by a workflow template: its analyzer phases call a model (read-only) and
//! keep what it says for later prompts, its planner phase plans (or the scanner's tasks are
//! used), then the plan and the run settings are compiled (see `template_run.rs`).

use crate::config_planner::PlannerConfig;
use crate::planner::{
    ModelProvider, Planned, PlannerError, PlannerUse, add_usage, checked_goal,
    repository_for_a_model,
};
use crate::template_run::{
    Compile, PhaseContext, ProjectFacts, TemplateSettings, compile_plan, project_facts,
    run_settings,
};
use crate::templates::render_phase_text;
use crate::{Config, Engine, EngineError, PlanRequest};
use baton_agents::providers::{CompletionRequest, Message, collect, settle_usage};
use baton_core::template::{Phase, Role, Template};
use baton_core::{CostBasis, Usd};
use baton_git::Git;
use baton_protocol::{ArtifactKind, PlanFile, RunId, UsageTotals};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The ledger's task id for a template's analyzer phases.
pub const ANALYZER_TASK: &str = "(analyzer)";

/// What to plan with a template.
#[derive(Debug, Clone)]
pub struct TemplateRequest {
    /// A directory in the repository.
    pub repo_dir: PathBuf,
    pub goal: String,
    /// `--var KEY=VALUE`.
    pub vars: BTreeMap<String, String>,
    /// The scanner's plan, for a template whose analyzer has `tool: scan`.
    pub scanned: Option<PlanFile>,
}

/// What an analyzer phase said.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub phase: String,
    /// Its name for later prompts (`artifacts.NAME`).
    pub output: String,
    pub text: String,
    pub used: PlannerUse,
}

/// A plan a template made.
#[derive(Debug, Clone, Serialize)]
pub struct TemplatePlanned {
    pub template: String,
    pub goal: String,
    pub project: ProjectFacts,
    pub analyses: Vec<Analysis>,
    /// The planner phase's plan, when the template has one.
    pub planned: Option<Planned>,
    /// The plan to run.
    pub plan: PlanFile,
    pub yaml: String,
    pub settings: TemplateSettings,
}

/// The `[planner]` settings with a phase's provider, cli and model on top.
fn phase_planner(base: &PlannerConfig, phase: &Phase) -> PlannerConfig {
    let own = phase.provider.is_some() || phase.cli.is_some();
    PlannerConfig {
        provider: if own {
            phase.provider.clone()
        } else {
            base.provider.clone()
        },
        cli: if own {
            phase.cli.clone()
        } else {
            base.cli.clone()
        },
        model: phase
            .model
            .clone()
            .or_else(|| (!own).then(|| base.model.clone()).flatten()),
        max_tokens: base.max_tokens,
        agent: base.agent.clone(),
    }
}

/// The phase's fallback as planner settings, when it has one.
fn fallback_planner(base: &PlannerConfig, phase: &Phase) -> Option<PlannerConfig> {
    let fallback = phase.fallback.as_ref()?;
    Some(PlannerConfig {
        provider: fallback.provider.clone(),
        cli: fallback.cli.clone(),
        model: fallback.model.clone(),
        max_tokens: base.max_tokens,
        agent: base.agent.clone(),
    })
}

/// Runs `call`, a phase's model call, within the phase's `timeout` (when it has one).
async fn within<T>(
    phase: &Phase,
    call: impl std::future::Future<Output = Result<T, PlannerError>>,
) -> Result<T, PlannerError> {
    let Some(limit) = phase.timeout else {
        return call.await;
    };
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(PlannerError::Provider(
            baton_agents::providers::ProviderError::Timeout {
                provider: format!("template phase {}", phase.name),
                phase: "answer (the phase's timeout)",
                after: limit,
            },
        ))
    })
}

impl Engine {
    /// Runs `template`'s phases up to the plan for `request`: analyzers, then the planner or
    /// the scanner's tasks, then the plan and settings. A phase that `can_skip` and cannot run
    /// is skipped and said in `settings.skipped`.
    pub async fn plan_template(
        &self,
        request: &TemplateRequest,
        template: &Template,
    ) -> Result<TemplatePlanned, PlannerError> {
        let goal = checked_goal(&request.goal)?;
        let git = Git::discover(&request.repo_dir)
            .await
            .map_err(EngineError::from)?;
        let config = Config::load(git.root())?;
        let project = project_facts(git.root(), &request.vars);
        let mut artifacts = BTreeMap::new();
        let mut analyses = Vec::new();
        let mut skipped = Vec::new();
        let mut notes = Vec::new();
        let mut planned = None;
        for phase in &template.phases {
            let context = PhaseContext {
                goal,
                phase: &phase.name,
                project: &project,
                artifacts: &artifacts,
                vars: &request.vars,
                task: None,
                iteration: 1,
            };
            match phase.role {
                Role::Analyzer if phase.scan => {}
                Role::Analyzer => {
                    let prompt = render_phase_text(
                        phase,
                        "prompt",
                        phase.prompt.as_deref().unwrap_or_default(),
                        &context,
                    )?;
                    let planner = phase_planner(&config.planner, phase);
                    let call = self.analyze(request, &planner, &config, &prompt);
                    let mut answer = within(phase, call).await;
                    if let (Err(error), Some(fallback)) =
                        (&answer, fallback_planner(&config.planner, phase))
                    {
                        notes.push(format!("{}: {error}; asked its fallback", phase.name));
                        let call = self.analyze(request, &fallback, &config, &prompt);
                        answer = within(phase, call).await;
                    }
                    match answer {
                        Ok((text, used)) => {
                            let output = phase.output.clone().unwrap_or_else(|| phase.name.clone());
                            artifacts.insert(output.clone(), text.clone());
                            analyses.push(Analysis {
                                phase: phase.name.clone(),
                                output,
                                text,
                                used,
                            });
                        }
                        Err(error) if phase.can_skip => {
                            skipped.push(format!("{}: {error}", phase.name));
                        }
                        Err(error) => {
                            return Err(PlannerError::Analyzer {
                                phase: phase.name.clone(),
                                source: Box::new(error),
                            });
                        }
                    }
                }
                Role::Planner => {
                    let text = phase.prompt.as_deref().unwrap_or("{{ goal }}");
                    let prompt = render_phase_text(phase, "prompt", text, &context)?;
                    let mut planner = phase_planner(&config.planner, phase);
                    if let Some(agent) = template
                        .with_role(Role::Implementer)
                        .find_map(|p| p.agent.clone())
                    {
                        planner.agent = Some(agent);
                    }
                    let plan_request = PlanRequest {
                        repo_dir: request.repo_dir.clone(),
                        goal: prompt,
                    };
                    let call = self.plan_goal_as(&plan_request, &planner, &config);
                    let mut made = match within(phase, call).await {
                        Ok(made) => made,
                        // An answer that stays unusable is the plan's problem, not the model's.
                        Err(error @ PlannerError::Invalid { .. }) => return Err(error),
                        Err(error) => {
                            let Some(fallback) = fallback_planner(&planner, phase) else {
                                return Err(error);
                            };
                            notes.push(format!("{}: {error}; asked its fallback", phase.name));
                            let call = self.plan_goal_as(&plan_request, &fallback, &config);
                            within(phase, call).await?
                        }
                    };
                    // The plan is for the goal; the rendered prompt was how it was asked.
                    made.goal = goal.to_owned();
                    made.plan.goal = Some(goal.to_owned());
                    let list = serde_json::json!({
                        "summary": made.answer.summary,
                        "tasks": made.answer.tasks,
                        "risks": made.answer.risks,
                    });
                    let output = phase
                        .output
                        .clone()
                        .unwrap_or_else(|| "task_list".to_owned());
                    artifacts.insert(output, list.to_string());
                    planned = Some(made);
                }
                _ => {}
            }
        }
        let base_plan = match (&planned, template.phases.iter().any(|p| p.scan)) {
            (Some(made), _) => Some(made.plan.clone()),
            (None, true) => Some(request.scanned.clone().ok_or_else(|| {
                PlannerError::Setup(format!(
                    "template {} starts with the scanner, but no scan was made",
                    template.name
                ))
            })?),
            (None, false) => None,
        };
        let compile = Compile {
            template,
            goal,
            project: &project,
            vars: &request.vars,
            artifacts: &artifacts,
            planned: base_plan,
        };
        let compiled = compile_plan(&compile)?;
        let plan = compiled.plan;
        skipped.extend(compiled.skipped);
        let render = |phase: &Phase, text: &str| compile.render(phase, "prompt", text);
        let mut settings = run_settings(template, config.review.as_ref(), &render, skipped)?;
        settings.fell_back = notes;
        settings.task_prompts = compiled.prompts;
        let yaml = baton_core::planner::plan_file_yaml(&plan);
        // What baton writes, baton must read.
        if let Err(errors) = baton_core::parse_plan(&yaml, "plan.yaml") {
            return Err(PlannerError::Setup(format!(
                "template {} made a plan baton cannot run: {errors}",
                template.name
            )));
        }
        Ok(TemplatePlanned {
            template: template.name.clone(),
            goal: goal.to_owned(),
            project,
            analyses,
            planned,
            plan,
            yaml,
            settings,
        })
    }

    /// One read-only call of an analyzer phase: its rendered prompt with the repository
    /// overview the planner also gets; the answer is its text.
    async fn analyze(
        &self,
        request: &TemplateRequest,
        planner: &PlannerConfig,
        config: &Config,
        prompt: &str,
    ) -> Result<(String, PlannerUse), PlannerError> {
        let caller = ModelProvider::of(planner, config, &request.repo_dir).await?;
        let (git, tree, table) = repository_for_a_model(&request.repo_dir).await?;
        let call = CompletionRequest {
            model: caller.model.clone(),
            system: "You analyze a repository for the colleagues who will plan and implement a \
                     change in it. You do not change files. Answer in short Markdown."
                .to_owned(),
            messages: vec![Message::user(format!(
                "{prompt}\n\n{}",
                crate::planner_prompt::repository_overview(git.root(), &tree)
            ))],
            max_output_tokens: caller.max_tokens,
            temperature: None,
        };
        let provider = caller.provider();
        let stream = provider.stream(&call).await?;
        let completion = collect(provider.name(), stream, |_| {}).await?;
        let mut usage = UsageTotals::default();
        add_usage(&mut usage, &completion.usage);
        let (cost, basis) = settle_usage(&completion.usage, &caller.model, &table);
        let used = PlannerUse {
            provider: provider.name().to_owned(),
            model: completion.model,
            calls: 1,
            usage,
            cost: cost.or((basis == CostBasis::Priced).then_some(Usd::ZERO)),
            basis,
            price_version: (basis == CostBasis::Priced).then(|| table.version.clone()),
        };
        Ok((completion.text.trim().to_owned(), used))
    }

    /// Keeps what `planned` made as artifacts of no run yet: the template's settings, each
    /// analysis, the plan and (after a planner) the task list. Returns their ids, the plan's
    /// first.
    pub async fn save_template_planned(
        &self,
        planned: &TemplatePlanned,
    ) -> Result<Vec<String>, EngineError> {
        let plan = self
            .save_artifact(None, None, ArtifactKind::Plan, &planned.yaml)
            .await?;
        let mut ids = vec![plan.id];
        if let Some(made) = &planned.planned {
            ids.push(self.save_task_list(None, made).await?.id);
        }
        for analysis in &planned.analyses {
            let kept = self
                .save_artifact(None, None, ArtifactKind::Analysis, &analysis.text)
                .await?;
            ids.push(kept.id);
        }
        let settings = serde_json::to_string_pretty(&planned.settings).map_err(|error| {
            EngineError::BadRequest(format!("cannot write the template's settings: {error}"))
        })?;
        let kept = self
            .save_artifact(None, None, ArtifactKind::Template, &settings)
            .await?;
        ids.push(kept.id);
        Ok(ids)
    }

    /// Records what the template's model calls cost in `run`'s ledger.
    pub async fn record_template_usage(
        &self,
        run: &RunId,
        planned: &TemplatePlanned,
    ) -> Result<(), EngineError> {
        if let Some(made) = &planned.planned {
            self.record_planner_usage(run, made).await?;
        }
        for analysis in &planned.analyses {
            self.record_model_usage(run, ANALYZER_TASK, "analyzer", &analysis.used)
                .await?;
        }
        Ok(())
    }

    /// The settings of the template `run` follows, if any (its `template` artifact).
    pub(crate) async fn template_settings(
        &self,
        run: &RunId,
    ) -> Result<Option<TemplateSettings>, EngineError> {
        let kept = self
            .store()
            .artifacts(Some(run))
            .await?
            .into_iter()
            .rev()
            .find(|a| a.kind == ArtifactKind::Template);
        let Some(kept) = kept else {
            return Ok(None);
        };
        serde_json::from_str(&kept.content)
            .map(Some)
            .map_err(|error| EngineError::Inconsistent {
                run: run.clone(),
                what: format!("its template artifact {} is unreadable: {error}", kept.id),
            })
    }
}
