//! From a workflow template to a run: the facts its prompts see (`project`), the plan its
//! phases make (planned tasks with the implementer's settings, or one task per implementer
//! phase, then the verifier), and the settings it gives the run (reviews, escalation), kept
//! as the run's `template` artifact and applied each time the run is driven.

use crate::EngineError;
use crate::config_review::ReviewConfig;
use crate::templates::render_phase_text;
use baton_core::template::{OnFailure, Phase, Role, Template};
use baton_protocol::{GateDecl, PLAN_VERSION, PlanFile, TaskFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a template's prompts know about the repository (`project.*`); `--var KEY=VALUE`
/// overrides `test_command` and `test_paths` (comma-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectFacts {
    /// The repository directory's name.
    pub name: String,
    /// What its manifests say it is written in (`rust`, `python`, `javascript`, `go`).
    pub languages: Vec<String>,
    /// The command that runs its tests (empty when baton finds none).
    pub test_command: String,
    /// Globs of where its tests live.
    pub test_paths: Vec<String>,
}

/// Reads the facts of the repository at `root`.
pub fn project_facts(root: &Path, vars: &BTreeMap<String, String>) -> ProjectFacts {
    let has = |file: &str| root.join(file).is_file();
    let mut languages = Vec::new();
    let mut test_command = String::new();
    let mut test_paths: Vec<&str> = Vec::new();
    let mut found = |language: &str, command: &str, paths: &[&'static str]| {
        languages.push(language.to_owned());
        if test_command.is_empty() {
            test_command = command.to_owned();
        }
        for path in paths {
            if !test_paths.contains(path) {
                test_paths.push(path);
            }
        }
    };
    if has("Cargo.toml") {
        found("rust", "cargo test", &["tests/**"]);
    }
    if [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "pytest.ini",
        "requirements.txt",
    ]
    .iter()
    .any(|f| has(f))
    {
        found(
            "python",
            "python3 -m pytest -q",
            &["tests/**", "**/test_*.py", "**/*_test.py"],
        );
    }
    if has("package.json") {
        let scripted = std::fs::read_to_string(root.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .is_some_and(|json| json["scripts"]["test"].is_string());
        let command = if scripted { "npm test" } else { "" };
        found(
            "javascript",
            command,
            &[
                "test/**",
                "tests/**",
                "**/__tests__/**",
                "**/*.test.*",
                "**/*.spec.*",
            ],
        );
    }
    if has("go.mod") {
        found("go", "go test ./...", &["**/*_test.go"]);
    }
    if test_command.is_empty()
        && std::fs::read_to_string(root.join("Makefile"))
            .is_ok_and(|text| text.lines().any(|line| line.starts_with("test:")))
    {
        test_command = "make test".to_owned();
    }
    if test_paths.is_empty() {
        test_paths = vec!["tests/**", "test/**"];
    }
    let mut facts = ProjectFacts {
        name: root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        languages,
        test_command,
        test_paths: test_paths.into_iter().map(str::to_owned).collect(),
    };
    if let Some(command) = vars.get("test_command") {
        facts.test_command = command.trim().to_owned();
    }
    if let Some(paths) = vars.get("test_paths") {
        facts.test_paths = paths
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
    }
    facts
}

/// What a phase's texts see.
#[derive(Debug, Serialize)]
pub(crate) struct PhaseContext<'a> {
    pub goal: &'a str,
    pub phase: &'a str,
    pub project: &'a ProjectFacts,
    /// Earlier phases' outputs by name (`analysis`, `task_list`, ...).
    pub artifacts: &'a BTreeMap<String, String>,
    /// `--var KEY=VALUE` values.
    pub vars: &'a BTreeMap<String, String>,
    /// In an implementer's prompt: the task it is added to (a planned task, or the phase's
    /// own); undefined elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskContext>,
    /// The attempt the prompt is for: 1 when the plan is made, the attempt's number when an
    /// implementer's prompt is rendered again for a later attempt.
    pub iteration: u32,
}

/// An implementer's prompt kept with the run, so each attempt renders it with its own
/// `iteration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPrompt {
    /// The planner's prompt the phase's is added to (empty for a phase's own task).
    pub base: String,
    /// The phase's prompt (minijinja).
    pub template: String,
    /// What it was rendered with (`iteration` aside).
    pub context: serde_json::Value,
    /// The prompt written into the plan (iteration 1): a plan edited since keeps its own.
    pub first: String,
}

impl TaskPrompt {
    /// The prompt of attempt `number`, or `None` when the plan's prompt (`planned`) is no
    /// longer the one the template wrote (a person edited it).
    pub(crate) fn for_attempt(&self, planned: &str, number: u32) -> Option<Result<String, String>> {
        if planned.trim() != self.first.trim() {
            return None;
        }
        let mut context = self.context.clone();
        context["iteration"] = serde_json::json!(number);
        Some(
            crate::templates::render_kept_text(&self.template, &context).map(|extra| {
                match (self.base.is_empty(), extra.is_empty()) {
                    (true, _) => extra,
                    (false, true) => self.base.clone(),
                    (false, false) => format!("{}\n\n{extra}", self.base),
                }
            }),
        )
    }
}

/// `task` in an implementer phase's prompt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TaskContext {
    pub id: String,
    pub title: String,
    /// The planner's prompt for it (empty for a phase's own task).
    pub prompt: String,
}

/// What the template gives its run, kept as the run's `template` artifact (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSettings {
    /// The template's name.
    pub template: String,
    /// The reviews of every change, when the template has reviewer phases (they replace
    /// `[review]` for this run).
    pub review: Option<ReviewConfig>,
    /// `on_failure: pause`: a task out of attempts waits for a person.
    pub pause_on_failure: bool,
    /// Phases skipped (`can_skip`) and why.
    pub skipped: Vec<String>,
    /// Phases whose model failed, so their fallback answered, and why.
    #[serde(default)]
    pub fell_back: Vec<String>,
    /// Implementers' prompts by task, rendered again for each attempt.
    #[serde(default)]
    pub task_prompts: BTreeMap<String, TaskPrompt>,
}

/// The inputs of [`compile_plan`].
pub(crate) struct Compile<'a> {
    pub template: &'a Template,
    pub goal: &'a str,
    pub project: &'a ProjectFacts,
    pub vars: &'a BTreeMap<String, String>,
    pub artifacts: &'a BTreeMap<String, String>,
    /// The tasks a planner or the scanner made, when the template has such a phase.
    pub planned: Option<PlanFile>,
}

impl Compile<'_> {
    fn context<'b>(&'b self, phase: &'b Phase, task: Option<TaskContext>) -> PhaseContext<'b> {
        PhaseContext {
            goal: self.goal,
            phase: &phase.name,
            project: self.project,
            artifacts: self.artifacts,
            vars: self.vars,
            task,
            iteration: 1,
        }
    }

    /// What `task`'s prompt is kept with, to render it again for each attempt.
    fn keep(
        &self,
        phase: &Phase,
        template: &str,
        base: &str,
        task: TaskContext,
        first: &str,
    ) -> TaskPrompt {
        TaskPrompt {
            base: base.to_owned(),
            template: template.to_owned(),
            context: serde_json::to_value(self.context(phase, Some(task))).unwrap_or_default(),
            first: first.to_owned(),
        }
    }

    /// Renders one of `phase`'s texts (`field` names it in errors), trimmed.
    pub(crate) fn render(
        &self,
        phase: &Phase,
        field: &str,
        text: &str,
    ) -> Result<String, EngineError> {
        render_phase_text(phase, field, text, &self.context(phase, None))
            .map(|rendered| rendered.trim().to_owned())
    }

    /// Renders an implementer's prompt for one task.
    fn render_for(
        &self,
        phase: &Phase,
        text: &str,
        task: TaskContext,
    ) -> Result<String, EngineError> {
        render_phase_text(phase, "prompt", text, &self.context(phase, Some(task)))
            .map(|rendered| rendered.trim().to_owned())
    }

    /// The gates of `phase`'s success criteria, named `PHASE-N`; an empty command is refused
    /// (or, for a phase that `can_skip`, the phase is skipped: `None`).
    fn gates(&self, phase: &Phase) -> Result<Option<Vec<GateDecl>>, EngineError> {
        let mut gates = Vec::new();
        for (n, criterion) in phase.success.iter().enumerate() {
            let command = self.render(phase, "success", &criterion.run)?;
            if command.is_empty() {
                if phase.can_skip {
                    return Ok(None);
                }
                return Err(EngineError::BadRequest(format!(
                    "template phase {:?}: success command {:?} renders empty (baton found no \
                     test command for project.test_command here: pass --var \
                     test_command=\"CMD\")",
                    phase.name, criterion.run
                )));
            }
            gates.push(GateDecl {
                name: format!("{}-{}", phase.name, n + 1),
                command,
                expect_failure: criterion.expect_fail,
            });
        }
        Ok(Some(gates))
    }
}

/// What [`compile_plan`] makes: the plan, the phases it skipped (with why), and the
/// implementers' prompts to render again for each attempt.
pub(crate) struct Compiled {
    pub plan: PlanFile,
    pub skipped: Vec<String>,
    pub prompts: BTreeMap<String, TaskPrompt>,
}

/// The plan a template makes for its goal.
pub(crate) fn compile_plan(input: &Compile<'_>) -> Result<Compiled, EngineError> {
    let template = input.template;
    let mut skipped = Vec::new();
    let mut prompts = BTreeMap::new();
    let mut gates: Vec<GateDecl> = Vec::new();
    let mut tasks: Vec<TaskFile> = Vec::new();
    let implementers: Vec<&Phase> = template.with_role(Role::Implementer).collect();
    if let Some(planned) = &input.planned {
        // The planned tasks, with the implementer phase's settings.
        let phase = implementers.first().copied();
        let phase_gates = match phase {
            Some(phase) => input.gates(phase)?.unwrap_or_default(),
            None => Vec::new(),
        };
        for task in &planned.tasks {
            let mut task = task.clone();
            let ai = task.agent.as_deref().is_some_and(|a| a != "exec");
            if let (Some(phase), true) = (phase, ai) {
                if let Some(agent) = &phase.agent {
                    task.agent = Some(agent.clone());
                }
                if phase.model.is_some() {
                    task.model = phase.model.clone();
                }
                if let Some(text) = &phase.prompt {
                    let prompt = task.prompt.take().unwrap_or_default();
                    let about = TaskContext {
                        id: task.id.clone(),
                        title: task.title.clone().unwrap_or_else(|| task.id.clone()),
                        prompt: prompt.clone(),
                    };
                    let extra = input.render_for(phase, text, about.clone())?;
                    let first = match extra.is_empty() {
                        true => prompt.clone(),
                        false => format!("{prompt}\n\n{extra}"),
                    };
                    let kept = input.keep(phase, text, &prompt, about, &first);
                    prompts.insert(task.id.clone(), kept);
                    task.prompt = Some(first);
                }
            }
            if let Some(phase) = phase {
                task.retries = phase.max_retries.or(task.retries);
                if let Some(timeout) = phase.timeout {
                    task.timeout = Some(baton_core::duration::format_duration(timeout));
                }
            }
            task.gates
                .extend(phase_gates.iter().map(|g| g.name.clone()));
            tasks.push(task);
        }
        gates.extend(planned.gates.iter().cloned());
        gates.extend(phase_gates);
    } else {
        let waits = template.waits_for();
        for phase in &implementers {
            let index = template
                .phases
                .iter()
                .position(|p| p.name == phase.name)
                .unwrap_or_default();
            let phase_gates = input.gates(phase)?.unwrap_or_default();
            let exec = phase.run.is_some();
            let mut claims = Vec::new();
            for claim in &phase.claims {
                let rendered = input.render(phase, "claims", claim)?;
                claims.extend(
                    rendered
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                );
            }
            tasks.push(TaskFile {
                id: phase.name.clone(),
                title: Some(format!("{} ({})", phase.name, phase.role)),
                agent: Some(match (&phase.agent, exec) {
                    (_, true) => "exec".to_owned(),
                    (Some(agent), false) => agent.clone(),
                    (None, false) => "auto".to_owned(),
                }),
                run: match &phase.run {
                    Some(run) => Some(input.render(phase, "run", run)?),
                    None => None,
                },
                prompt: match &phase.prompt {
                    Some(prompt) => {
                        let own = TaskContext {
                            id: phase.name.clone(),
                            title: format!("{} ({})", phase.name, phase.role),
                            prompt: String::new(),
                        };
                        let first = input.render_for(phase, prompt, own.clone())?;
                        let kept = input.keep(phase, prompt, "", own, &first);
                        prompts.insert(phase.name.clone(), kept);
                        Some(first)
                    }
                    None => None,
                },
                model: phase.model.clone(),
                claims,
                deps: implementer_deps(template, &waits, index),
                gates: phase_gates.iter().map(|g| g.name.clone()).collect(),
                retries: phase.max_retries,
                timeout: phase.timeout.map(baton_core::duration::format_duration),
                ..TaskFile::default()
            });
            gates.extend(phase_gates);
        }
    }
    if let Some(verifier) = template.with_role(Role::Verifier).next() {
        match verifier_task(input, verifier, &tasks)? {
            Some((task, verify_gates)) => {
                tasks.push(task);
                gates.extend(verify_gates);
            }
            None => skipped.push(format!(
                "{}: its check renders empty (no test command found; --var test_command=CMD)",
                verifier.name
            )),
        }
    }
    let plan = PlanFile {
        version: Some(PLAN_VERSION),
        goal: Some(input.goal.to_owned()),
        gates,
        // Each task's gates judge it in its lane and the verifier judges the integrated
        // result: a merge gate would run a red gate (or tests that are red on purpose until
        // the green task merges) on every merge.
        merge_gates: Some(Vec::new()),
        tasks,
        ..planned_settings(input.planned.as_ref())
    };
    Ok(Compiled {
        plan,
        skipped,
        prompts,
    })
}

/// What a planned (or scanned) plan says beyond its tasks and gates.
fn planned_settings(planned: Option<&PlanFile>) -> PlanFile {
    planned
        .map(|p| PlanFile {
            lanes: p.lanes,
            base: p.base.clone(),
            approval_threshold_usd: p.approval_threshold_usd,
            merge: p.merge.clone(),
            ..PlanFile::default()
        })
        .unwrap_or_default()
}

/// The implementer phases the implementer at `index` waits for, through any other phases
/// between them.
fn implementer_deps(template: &Template, waits: &[Vec<usize>], index: usize) -> Vec<String> {
    let mut deps = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = waits[index].clone();
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        if template.phases[next].role == Role::Implementer {
            deps.insert(template.phases[next].name.clone());
        } else {
            stack.extend(waits[next].iter().copied());
        }
    }
    deps.into_iter().collect()
}

/// The verifier as an exec task after every other task (its lane holds the integrated
/// result), its checks as gates; `None` when it is skipped.
fn verifier_task(
    input: &Compile<'_>,
    verifier: &Phase,
    tasks: &[TaskFile],
) -> Result<Option<(TaskFile, Vec<GateDecl>)>, EngineError> {
    let Some(gates) = input.gates(verifier)? else {
        return Ok(None);
    };
    let run = match &verifier.run {
        Some(run) => input.render(verifier, "run", run)?,
        None => "true".to_owned(),
    };
    let mut id = verifier.name.clone();
    while tasks.iter().any(|t| t.id == id) {
        id.push_str("-final");
    }
    Ok(Some((
        TaskFile {
            id,
            title: Some(format!("{} (verifier)", verifier.name)),
            agent: Some("exec".to_owned()),
            run: Some(run),
            deps: tasks.iter().map(|t| t.id.clone()).collect(),
            gates: gates.iter().map(|g| g.name.clone()).collect(),
            timeout: verifier.timeout.map(baton_core::duration::format_duration),
            ..TaskFile::default()
        },
        gates,
    )))
}

/// The run settings of `template`: its reviewer phases (each phase's reviewer, else
/// `[review]`'s) and what a failed task becomes. A reviewer phase nobody can run is skipped
/// when it `can_skip`, else refused.
pub(crate) fn run_settings(
    template: &Template,
    configured: Option<&ReviewConfig>,
    render: &dyn Fn(&Phase, &str) -> Result<String, EngineError>,
    mut skipped: Vec<String>,
) -> Result<TemplateSettings, EngineError> {
    let mut review: Option<ReviewConfig> = None;
    // Reviews of one change run together with one reviewer: the one a reviewer phase names
    // (the core checks they agree), else `[review]`'s.
    let named = template
        .reviewers()
        .find(|phase| phase.provider.is_some() || phase.cli.is_some());
    for phase in template.reviewers() {
        let Some(kind) = phase.role.review_kind() else {
            continue;
        };
        let reviewer = match named {
            Some(named) => ReviewConfig::named(
                named.provider.clone(),
                named.cli.clone(),
                named.model.clone(),
            )
            .map_err(|why| format!("{why} (template phase {:?})", named.name)),
            None => configured.cloned().ok_or_else(|| {
                "no reviewer: no reviewer phase names a provider or cli, and baton.toml has no \
                 [review]"
                    .to_owned()
            }),
        };
        let mut reviewer = match reviewer {
            Ok(reviewer) => reviewer,
            Err(why) if phase.can_skip => {
                skipped.push(format!("{}: {why}", phase.name));
                continue;
            }
            Err(why) => {
                return Err(EngineError::BadRequest(format!(
                    "template {}: phase {:?} cannot review: {why}",
                    template.name, phase.name
                )));
            }
        };
        let fallback = match &phase.fallback {
            Some(f) => Some(Box::new(
                ReviewConfig::named(f.provider.clone(), f.cli.clone(), f.model.clone()).map_err(
                    |why| {
                        EngineError::BadRequest(format!(
                            "template {}: phase {:?}: fallback: {why}",
                            template.name, phase.name
                        ))
                    },
                )?,
            )),
            None => None,
        };
        let review = review.get_or_insert_with(|| {
            reviewer.kinds.clear();
            reviewer.criteria.clear();
            reviewer.pause_on_rejection = template.pause_on_rejection;
            reviewer.fallback = fallback;
            // Whether the whole run's change is reviewed too is `[review] final`'s to say.
            reviewer.whole_run = configured.is_none_or(|c| c.whole_run);
            reviewer.max_iterations = if phase.can_iterate {
                template.max_iterations.unwrap_or(reviewer.max_iterations)
            } else {
                // A rejection fails the attempt at once.
                0
            };
            reviewer
        });
        review.kinds.push(kind);
        if let Some(prompt) = &phase.prompt {
            review.criteria.insert(kind, render(phase, prompt)?);
        }
    }
    Ok(TemplateSettings {
        template: template.name.clone(),
        review,
        pause_on_failure: template.on_failure == OnFailure::Pause,
        skipped,
        fell_back: Vec::new(),
        task_prompts: BTreeMap::new(),
    })
}

#[cfg(test)]
#[path = "template_run_tests.rs"]
mod tests;
