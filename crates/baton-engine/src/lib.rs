//! The baton engine: how does a plan of tasks become integrated, gate-passed work?
//!
//! It runs a plan's tasks in parallel git lanes (one worktree per running task, claims kept
//! apart), checks each result with the plan's gates, integrates results one at a time through a
//! merge queue that only moves the integration branch to gate-passed commits, and survives
//! `kill -9` at any point: the next engine reconciles the database with git, the lanes and the
//! live processes, then resumes.
//!
//! Frontends drive it through [`Engine`]: create a run, drive it (start or resume), cancel it,
//! read its state and events, and watch live events on the [`Bus`].

mod agent_run;
mod answer;
mod approval_risk;
mod approve;
mod artifacts;
mod attempt;
pub mod brief;
pub mod budget;
mod budget_guard;
mod candidate;
pub mod config;
pub mod config_agents;
pub mod config_escalation;
pub mod config_planner;
pub mod config_review;
pub mod config_risk;
mod conflict;
mod context;
mod controls;
mod council;
mod deliver;
mod driver;
mod error;
mod escalation;
pub mod failpoint;
mod gates;
mod guard;
mod home;
mod intake;
mod lanes;
mod lease;
mod merge_chain;
mod merge_queue;
mod plan_edit;
mod planner;
mod planner_cli;
mod planner_prompt;
mod prompt;
pub use prompt::first_prompt;
pub mod prompt_template;
mod reconcile;
mod report;
mod report_councils;
mod report_reviews;
mod report_usage;
mod review;
mod routing;
mod sandbox;
pub mod stats;
mod stop;
mod supervise;
mod template_plan;
pub mod template_run;
pub mod templates;

pub use approve::{DecisionRequest, UNKNOWN_DECIDER, os_user};
pub use brief::Brief;
pub use config::{Config, SandboxConfig};
pub use context::Bus;
pub use controls::ControlOutcome;
pub use deliver::Delivery;
pub use error::EngineError;
pub use home::{Home, repo_key};
pub use intake::{RunRequest, ValidatedPlan, validate_plan};
pub use plan_edit::PlanEdited;
pub use planner::{
    PLANNER_TASK, PlanRequest, Planned, PlannerError, PlannerSetup, PlannerUse, checked_goal,
};
pub use report::{AttemptReport, Efficiency, GateReport, MergeReport, Report, TaskReport};
pub use report_councils::{CouncilReport, EscalationLine};
pub use report_usage::{UsageLine, UsageReport};
pub use stop::StopOutcome;
pub use template_plan::{ANALYZER_TASK, Analysis, TemplatePlanned, TemplateRequest};

use baton_core::parse_plan;
use baton_git::{Git, LanePool};
use baton_protocol::{RunId, RunStatus, TaskStatus};
use baton_store::{LaneRow, Store};
use context::RunCtx;
use driver::{LoopEnd, run_loop};
use sandbox::Sandbox;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The row of `task` among `rows` (the tasks of `run`); a task the run does not have is the
/// person's to fix, and the error lists the ones it has.
pub(crate) fn task_in<'a>(
    rows: &'a [baton_store::TaskRow],
    run: &RunId,
    task: &baton_protocol::TaskId,
) -> Result<&'a baton_store::TaskRow, EngineError> {
    rows.iter().find(|t| &t.id == task).ok_or_else(|| {
        let known: Vec<String> = rows.iter().map(|t| t.id.to_string()).collect();
        EngineError::BadRequest(format!(
            "run {run} has no task {task} (its tasks: {})",
            known.join(", ")
        ))
    })
}

/// How a drive of a run ended.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub run: RunId,
    pub status: RunStatus,
    /// What happened to `--into`, for a completed run.
    pub delivery: Option<Delivery>,
}

/// How `cancel` stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The live engine that owns the run stopped it.
    StoppedByOwner,
    /// No engine owned it; survivors were killed and the run marked cancelled here.
    MarkedCancelled { killed: Vec<String> },
}

/// The engine: one per process, shared by every run it drives.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    home: Home,
    bus: Bus,
}

impl Engine {
    /// Opens the engine on `home` (creating the database if needed).
    pub async fn open(home: Home) -> Result<Engine, EngineError> {
        let store = Store::open(&home.database()).await?;
        Ok(Engine {
            store,
            home,
            bus: Bus::new(),
        })
    }

    /// The store, for reading runs, tasks, attempts, merge items and events.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The files' layout.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Live events, published after they are stored.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Starts or resumes a run and drives it until it completes, fails or is cancelled through
    /// `cancel` (Ctrl-C) or `baton cancel`. Refuses a run a live engine owns.
    pub async fn drive(
        &self,
        run_id: &RunId,
        cancel: CancellationToken,
    ) -> Result<RunResult, EngineError> {
        let run = self.store.run(run_id).await?;
        if run.status == RunStatus::Completed {
            return Err(EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: "it is already complete; there is nothing to resume".into(),
            });
        }
        if run.status == RunStatus::AwaitingInput {
            return Err(EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: format!(
                    "the planner's open questions are not answered yet; `baton answer {}` \
                     answers them and starts the run",
                    run.id
                ),
            });
        }
        let plan = parse_plan(&run.plan_source, &run.plan_origin)
            .map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
        let git = Git::discover(&PathBuf::from(&run.repo)).await?;
        let config = Config::load(git.root())?;
        let lease = lease::acquire(&self.store, &run).await?;
        let heartbeat = lease::keep(
            self.store.clone(),
            run.id.clone(),
            lease.token.clone(),
            cancel.clone(),
        );
        self.store.clear_cancel(&run.id).await?;
        self.store.clear_pause(&run.id).await?;
        let lane_repo = git.root().to_string_lossy().into_owned();
        let pool = LanePool::new(git.clone(), self.home.lanes_dir(&repo_key(git.root())))
            .keep(config.lane_keep.clone());
        let dag = plan.dag();
        let log_cap = config.log_cap;
        // The plan's merge settings, else the configuration's.
        let (plan_merge_batch, plan_merge_lanes) = (plan.merge_batch, plan.merge_lanes);
        // The plan's threshold, else the configuration's.
        let approval_threshold = plan.approval_threshold.or(config.approval_threshold);
        let agents = config.agents.clone();
        let risk = config.risk.rules()?;
        let (approval_timeout, on_timeout) = (config.risk.approval_timeout, config.risk.on_timeout);
        let prices =
            baton_agents::prices::price_table(baton_agents::prices::user_prices_path().as_deref())
                .map_err(|error| EngineError::Config(error.to_string()))?;
        let sandbox = Sandbox::new(config.sandbox, &git, &self.home, &run.id);
        // A run made from a workflow template follows its reviews and escalation.
        let template = self.template_settings(&run.id).await?;
        let review = match &template {
            Some(settings) if settings.review.is_some() => settings.review.clone(),
            _ => config.review.clone(),
        };
        let escalate_to_person =
            config.escalate_to_person || template.as_ref().is_some_and(|t| t.pause_on_failure);
        let template_prompts = template
            .as_ref()
            .map(|t| t.task_prompts.clone())
            .unwrap_or_default();
        // Limits agents reported in earlier runs that have not lifted yet.
        let limited = self
            .store
            .active_agent_limits()
            .await?
            .into_iter()
            .map(|limit| (limit.agent, limit.until))
            .collect();
        let ctx = Arc::new(RunCtx {
            store: self.store.clone(),
            bus: self.bus.clone(),
            home: self.home.clone(),
            git,
            pool,
            lane_repo,
            run,
            plan,
            dag,
            sandbox,
            cancel: cancel.clone(),
            integration_head: std::sync::Mutex::new(None),
            ref_lock: tokio::sync::Mutex::new(()),
            tamper_blame: std::sync::Mutex::new(Default::default()),
            cleaned_refs: std::sync::Mutex::new(Default::default()),
            attempt_stops: Default::default(),
            limited: std::sync::Mutex::new(limited),
            unhealthy: Default::default(),
            agent_slots: Default::default(),
            approval_threshold,
            budget_pause: Default::default(),
            budget_warned: Default::default(),
            agents_running: Default::default(),
            agents,
            log_cap,
            prices,
            merge_batch: plan_merge_batch.unwrap_or(config.merge_batch),
            merge_lanes: plan_merge_lanes.unwrap_or(config.merge_lanes),
            merge_wait: config.merge_wait,
            escalate_to_person,
            template_prompts,
            council: config.council.clone(),
            review,
            track_records: Arc::new(self.track_records().await?),
            risk,
            approval_timeout,
            on_timeout,
            timeout_warned: Default::default(),
        });
        let result = self.drive_owned(&ctx).await;
        let lost = heartbeat.stop().await;
        self.store.release_lease(ctx.id(), &lease.token).await?;
        if lost {
            return Err(EngineError::Inconsistent {
                run: ctx.id().clone(),
                what: "another process took the run over while this one drove it".into(),
            });
        }
        result
    }

    async fn drive_owned(&self, ctx: &Arc<RunCtx>) -> Result<RunResult, EngineError> {
        let continuing = reconcile::reconcile(ctx).await?;
        let status = self.store.run(ctx.id()).await?.status;
        match status {
            RunStatus::Pending
            | RunStatus::Cancelled
            | RunStatus::BudgetExceeded
            | RunStatus::AwaitingApproval
            | RunStatus::Paused
            | RunStatus::NeedsHuman
            | RunStatus::AwaitingInput => {
                let event = self
                    .store
                    .transition_run(ctx.id(), status, RunStatus::Running, None)
                    .await?;
                ctx.emit([event]);
            }
            RunStatus::Failed => {
                self.reopen_failed(ctx).await?;
            }
            RunStatus::Running | RunStatus::Completed => {}
        }
        if let Some(message) = ctx.sandbox.warning() {
            ctx.warn(message).await?;
        }
        let end = run_loop(Arc::clone(ctx), continuing).await?;
        if end == LoopEnd::Cancelled {
            let event = self
                .store
                .transition_run(
                    ctx.id(),
                    RunStatus::Running,
                    RunStatus::Cancelled,
                    Some("cancelled; `baton resume` continues it".into()),
                )
                .await?;
            ctx.emit([event]);
            return Ok(RunResult {
                run: ctx.id().clone(),
                status: RunStatus::Cancelled,
                delivery: None,
            });
        }
        if let Some((to, reason)) = ctx.waiting_for_person(end).await? {
            let event = self
                .store
                .transition_run(ctx.id(), RunStatus::Running, to, Some(reason))
                .await?;
            ctx.emit([event]);
            return Ok(RunResult {
                run: ctx.id().clone(),
                status: to,
                delivery: None,
            });
        }
        if end == LoopEnd::AwaitingApproval {
            let event = self
                .store
                .transition_run(
                    ctx.id(),
                    RunStatus::Running,
                    RunStatus::AwaitingApproval,
                    Some(format!(
                        "paused: tasks wait for approval (`baton approvals {0}` lists them); \
                         `baton approve {0} TASK` or `baton reject {0} TASK --why ...`, then \
                         `baton resume {0}`",
                        ctx.id()
                    )),
                )
                .await?;
            ctx.emit([event]);
            return Ok(RunResult {
                run: ctx.id().clone(),
                status: RunStatus::AwaitingApproval,
                delivery: None,
            });
        }
        if end == LoopEnd::BudgetExceeded {
            let reason = ctx.budget_pause_reason().unwrap_or_default();
            let event = self
                .store
                .transition_run(
                    ctx.id(),
                    RunStatus::Running,
                    RunStatus::BudgetExceeded,
                    Some(format!(
                        "paused: {reason}; `baton resume {} --budget USD` raises the run's \
                         budget and continues",
                        ctx.id()
                    )),
                )
                .await?;
            ctx.emit([event]);
            return Ok(RunResult {
                run: ctx.id().clone(),
                status: RunStatus::BudgetExceeded,
                delivery: None,
            });
        }
        let tasks = self.store.tasks(ctx.id()).await?;
        let all_merged = tasks
            .iter()
            .all(|t| baton_core::task_is_settled_for_delivery(t.status));
        // The result delivered is baton's: put the branch back if anything moved it.
        ctx.guard_integration().await?;
        let (to, delivery, reason) = if all_merged {
            // With `[review] final`, the whole change is reviewed before it is delivered.
            let head = ctx.integration_head().await?;
            let delivery = match ctx.review_run(&head).await? {
                None | Some(review::ReviewVerdict::Approved) => deliver::deliver(ctx).await?,
                Some(review::ReviewVerdict::Rejected(why) | review::ReviewVerdict::Failed(why)) => {
                    ctx.warn(format!(
                        "the review of the whole change did not approve it, so it is not \
                         delivered:\n{why}"
                    ))
                    .await?;
                    deliver::withhold(ctx, "the review of the whole change did not approve it")
                }
            };
            (RunStatus::Completed, Some(delivery), None)
        } else {
            let failed: Vec<String> = tasks
                .iter()
                .filter(|t| !baton_core::task_is_settled_for_delivery(t.status))
                .map(|t| format!("{} ({})", t.id, t.status))
                .collect();
            (
                RunStatus::Failed,
                None,
                Some(format!("not integrated: {}", failed.join(", "))),
            )
        };
        let event = self
            .store
            .transition_run(ctx.id(), RunStatus::Running, to, reason)
            .await?;
        ctx.emit([event]);
        // The final report, kept with the run's other artifacts.
        let report = self.report(ctx.id()).await?.to_markdown();
        self.save_artifact(
            Some(ctx.id()),
            None,
            baton_protocol::ArtifactKind::Report,
            &report,
        )
        .await?;
        Ok(RunResult {
            run: ctx.id().clone(),
            status: to,
            delivery,
        })
    }

    /// Resuming a failed run gives its failed and blocked tasks a fresh set of attempts.
    async fn reopen_failed(&self, ctx: &RunCtx) -> Result<(), EngineError> {
        let event = self
            .store
            .transition_run(
                ctx.id(),
                RunStatus::Failed,
                RunStatus::Running,
                Some("resumed: failed and blocked tasks run again".into()),
            )
            .await?;
        ctx.emit([event]);
        for task in self.store.tasks(ctx.id()).await? {
            if !matches!(task.status, TaskStatus::Failed | TaskStatus::Blocked) {
                continue;
            }
            let retries = ctx.plan.task(&task.id).map(|t| t.retries).unwrap_or(0);
            let event = self
                .store
                .transition_task(
                    ctx.id(),
                    &task.id,
                    task.status,
                    TaskStatus::Pending,
                    Some("resumed".into()),
                    Some(task.failures + retries + 1),
                )
                .await?;
            ctx.emit([event]);
        }
        Ok(())
    }

    /// Cancels a run: asks its live owner to stop (it does within about a second), or, with no
    /// live owner, kills what survives of it and marks it cancelled. Either way it stays
    /// resumable.
    pub async fn cancel(&self, run_id: &RunId) -> Result<CancelOutcome, EngineError> {
        let run = self.store.run(run_id).await?;
        if !matches!(
            run.status,
            RunStatus::Running
                | RunStatus::Pending
                | RunStatus::BudgetExceeded
                | RunStatus::AwaitingApproval
                | RunStatus::Paused
                | RunStatus::NeedsHuman
                | RunStatus::AwaitingInput
        ) {
            return Err(EngineError::WrongState {
                run: run.id.clone(),
                status: run.status.to_string(),
                what: "only a pending, running or paused run can be cancelled".into(),
            });
        }
        if run.lease.as_ref().is_some_and(lease::is_live) {
            self.store.request_cancel(run_id).await?;
            for _ in 0..400 {
                let now = self.store.run(run_id).await?;
                if now.status != RunStatus::Running || now.lease.is_none() {
                    return Ok(CancelOutcome::StoppedByOwner);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            return Err(EngineError::Inconsistent {
                run: run.id.clone(),
                what: "its owner did not stop within 10 s; it may be stuck".into(),
            });
        }
        let killed = reconcile::kill_survivors(&self.store, run_id).await?;
        let event = self
            .store
            .transition_run(
                run_id,
                run.status,
                RunStatus::Cancelled,
                Some("cancelled while no engine owned it".into()),
            )
            .await?;
        self.bus.emit([event]);
        Ok(CancelOutcome::MarkedCancelled { killed })
    }

    /// Every lane of every repository's pool.
    pub async fn lanes(&self) -> Result<Vec<LaneRow>, EngineError> {
        Ok(self.store.all_lanes().await?)
    }

    /// Removes the free lanes of every pool (and anything under the pools git or the database
    /// does not know). Lanes held by a run are kept. Returns what was removed.
    pub async fn prune_lanes(&self) -> Result<Vec<String>, EngineError> {
        let mut removed = Vec::new();
        let lanes = self.store.all_lanes().await?;
        let mut repos: Vec<String> = lanes.iter().map(|l| l.repo.clone()).collect();
        repos.sort();
        repos.dedup();
        for repo in repos {
            let Ok(git) = Git::discover(&PathBuf::from(&repo)).await else {
                for lane in lanes
                    .iter()
                    .filter(|l| l.repo == repo && l.run_id.is_none())
                {
                    self.store.delete_lane(&repo, &lane.name).await?;
                    removed.push(format!("{} (repository gone)", lane.path));
                }
                continue;
            };
            let key = repo_key(git.root());
            let pool = LanePool::new(git, self.home.lanes_dir(&key));
            // Under the repository's worktree lock, a lane is removed only after the database
            // said, in the same compare-and-set that forgets it, that no run holds it; a run
            // that takes it meanwhile waits for the lock and then finds it gone and adds it.
            let lock = pool.lock().await?;
            for lane in lanes
                .iter()
                .filter(|l| l.repo == repo && l.run_id.is_none())
            {
                if self.store.delete_free_lane(&repo, &lane.name).await? {
                    pool.remove_locked(&lock, &lane.name).await?;
                    removed.push(lane.path.clone());
                }
            }
            let keep: Vec<String> = self
                .store
                .lanes(&repo)
                .await?
                .into_iter()
                .map(|l| l.name)
                .collect();
            for path in pool.prune_foreign_locked(&lock, &keep).await? {
                removed.push(path.display().to_string());
            }
        }
        Ok(removed)
    }
}
