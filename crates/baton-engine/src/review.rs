//! Reviews of changes by a model (`[review]` in `baton.toml`): every task's change, once its
//! gates pass and before it queues for merge, and the whole run's change before delivery.
//! Each review kind is one call, in parallel; each report is kept (store, event, report) and
//! its tokens go to the ledger as `TASK/review-KIND`. A rejection goes back to the implementer
//! as the next attempt's feedback.

use crate::EngineError;
use crate::config_review::ReviewConfig;
use crate::context::RunCtx;
use baton_agents::providers::{
    CompletionRequest, HttpProvider, Message, Provider, collect, settle_usage,
};
use baton_core::Tokens;
use baton_core::review::{parse_report, rejection_feedback, review_request};
use baton_git::Oid;
use baton_protocol::{ReviewKind, ReviewReport, TaskId, UsageTotals};
use baton_store::{LedgerEntry, Reviewed};

/// The most bytes of diff a reviewer is shown.
const MAX_DIFF_BYTES: usize = 60_000;

/// What the reviews of a change decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReviewVerdict {
    /// Every review approved it.
    Approved,
    /// At least one rejected it: the feedback for the implementer.
    Rejected(String),
    /// A review could not be made (the provider failed, or its answer could not be read).
    Failed(String),
}

impl RunCtx {
    /// Reviews attempt `number` of `task` (its change from `from` to `to`), when `[review]` is
    /// set.
    pub(crate) async fn review_attempt(
        &self,
        task: &TaskId,
        number: u32,
        from: &Oid,
        to: &Oid,
    ) -> Result<Option<ReviewVerdict>, EngineError> {
        let Some(config) = &self.review else {
            return Ok(None);
        };
        let Some(spec) = self.plan.task(task) else {
            return Ok(None);
        };
        let instructions = match self.task_row(task).await?.prompt_override {
            Some(prompt) => prompt,
            // An exec task's instructions are its command.
            None => crate::prompt::prompt_text(self, spec)
                .unwrap_or_else(|_| format!("Run the command `{}`.", spec.run)),
        };
        let diff = self.git.diff_text(from, to, MAX_DIFF_BYTES).await?;
        // An attempt that changed nothing (a verifier, a fixer with nothing to fix) merges
        // nothing: there is nothing to review, and no model is paid to say so.
        if diff.trim().is_empty() {
            return Ok(None);
        }
        let reviewed = Reviewed::Attempt(task, number);
        let verdict = self
            .review_or_fallback(config, &spec.title, &instructions, &diff, reviewed)
            .await?;
        Ok(Some(verdict))
    }

    /// Reviews the whole run's change (base to integration head) before delivery, when
    /// `[review] final` is on.
    pub(crate) async fn review_run(
        &self,
        head: &Oid,
    ) -> Result<Option<ReviewVerdict>, EngineError> {
        let Some(config) = self.review.as_ref().filter(|c| c.whole_run) else {
            return Ok(None);
        };
        let base: Oid = self.run.base_commit.parse()?;
        let diff = self.git.diff_text(&base, head, MAX_DIFF_BYTES).await?;
        let title = "the whole change of the run (every task together)";
        let verdict = self
            .review_or_fallback(config, title, &self.plan.goal, &diff, Reviewed::Run)
            .await?;
        Ok(Some(verdict))
    }

    /// [`Self::review`] by `config`'s reviewer, then, when that review cannot be made, by its
    /// fallback (a workflow template's reviewer `fallback`).
    async fn review_or_fallback(
        &self,
        config: &ReviewConfig,
        title: &str,
        instructions: &str,
        diff: &str,
        reviewed: Reviewed<'_>,
    ) -> Result<ReviewVerdict, EngineError> {
        let verdict = self
            .review(config, title, instructions, diff, reviewed)
            .await?;
        match (verdict, &config.fallback) {
            (ReviewVerdict::Failed(why), Some(fallback)) => {
                tracing::warn!("the reviewer failed ({why}); its fallback reviews");
                let fallback = ReviewConfig {
                    kinds: config.kinds.clone(),
                    criteria: config.criteria.clone(),
                    ..(**fallback).clone()
                };
                self.review(&fallback, title, instructions, diff, reviewed)
                    .await
            }
            (verdict, _) => Ok(verdict),
        }
    }

    async fn review(
        &self,
        config: &ReviewConfig,
        title: &str,
        instructions: &str,
        diff: &str,
        reviewed: Reviewed<'_>,
    ) -> Result<ReviewVerdict, EngineError> {
        let provider = match reviewer(self, config) {
            Ok(provider) => provider,
            Err(why) => return Ok(ReviewVerdict::Failed(why)),
        };
        let calls = config.kinds.iter().map(|kind| {
            let criteria = config.criteria.get(kind).map_or("", String::as_str);
            let (system, user) =
                review_request(*kind, criteria, &self.plan.goal, title, instructions, diff);
            let request = CompletionRequest {
                model: config.model.clone(),
                system,
                messages: vec![Message::user(user)],
                max_output_tokens: config.max_tokens,
                temperature: Some(0.0),
            };
            let provider = provider.as_ref();
            async move {
                let answer = match provider.stream(&request).await {
                    Ok(stream) => collect(provider.name(), stream, |_| {}).await,
                    Err(error) => Err(error),
                };
                (*kind, answer)
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut reports: Vec<(ReviewKind, ReviewReport)> = Vec::new();
        let mut failures = Vec::new();
        for (kind, answer) in answers {
            let completion = match answer {
                Ok(completion) => completion,
                Err(error) => {
                    failures.push(format!("the {} review failed: {error}", kind.as_str()));
                    continue;
                }
            };
            self.record_review_usage(reviewed, kind, config, &completion)
                .await?;
            match parse_report(&completion.text) {
                Ok(report) => {
                    let event = self
                        .store
                        .record_review(
                            self.id(),
                            reviewed,
                            kind,
                            &config.provider,
                            &config.model,
                            &report,
                        )
                        .await?;
                    self.emit([event]);
                    let task = match reviewed {
                        Reviewed::Attempt(task, _) => Some(task),
                        Reviewed::Run => None,
                    };
                    let text = review_markdown(kind, config, title, &report);
                    crate::artifacts::keep_artifact(
                        &self.store,
                        &self.home,
                        Some(self.id()),
                        task,
                        baton_protocol::ArtifactKind::Review,
                        &text,
                    )
                    .await?;
                    reports.push((kind, report));
                }
                Err(why) => failures.push(format!(
                    "the {} review could not be read: {why}\n--- its answer ---\n{}",
                    kind.as_str(),
                    completion.text.chars().take(2000).collect::<String>()
                )),
            }
        }
        if !failures.is_empty() {
            return Ok(ReviewVerdict::Failed(failures.join("\n")));
        }
        if reports.iter().all(|(_, report)| report.approved) {
            return Ok(ReviewVerdict::Approved);
        }
        Ok(ReviewVerdict::Rejected(rejection_feedback(&reports)))
    }

    /// A review's tokens and dollars, in the ledger as `TASK/review-KIND` (`run/review-KIND`
    /// for the whole run's review) with agent `review:PROVIDER`.
    async fn record_review_usage(
        &self,
        reviewed: Reviewed<'_>,
        kind: ReviewKind,
        config: &ReviewConfig,
        completion: &baton_agents::providers::Completion,
    ) -> Result<(), EngineError> {
        let (task, attempt) = match reviewed {
            Reviewed::Attempt(task, number) => (task.to_string(), number),
            Reviewed::Run => ("run".to_string(), 0),
        };
        let (cost, basis) = settle_usage(&completion.usage, &config.model, &self.prices);
        let mut totals = UsageTotals::default();
        totals.absorb(&completion.usage);
        let entry = LedgerEntry {
            run_id: self.id().clone(),
            task_id: TaskId::new(format!("{task}/review-{}", kind.as_str())),
            attempt,
            agent: format!("review:{}", config.provider),
            model: Some(completion.model.clone()),
            tokens: Tokens::from(&totals),
            cost,
            basis,
            price_version: (basis == baton_core::CostBasis::Priced)
                .then(|| self.prices.version.clone()),
        };
        self.store.record_usage(&entry).await?;
        Ok(())
    }
}

/// A review as the Markdown of its artifact.
fn review_markdown(
    kind: ReviewKind,
    config: &ReviewConfig,
    title: &str,
    report: &ReviewReport,
) -> String {
    let verdict = if report.approved {
        "approved"
    } else {
        "rejected"
    };
    let mut out = format!(
        "# {} review of {title}\n\n{verdict} by {} ({})\n\n{}\n",
        kind.as_str(),
        config.model,
        config.provider,
        report.summary.trim()
    );
    if !report.issues.is_empty() {
        out.push('\n');
        out.push_str(&baton_core::review::issue_lines(report));
    }
    out
}

/// The reviewer: Claude Code in plan mode (`cli = "claude"`, read-only in the repository),
/// else the provider, with its key from the environment or baton's key store.
fn reviewer(ctx: &RunCtx, config: &ReviewConfig) -> Result<Box<dyn Provider>, String> {
    if let Some(cli) = &config.cli {
        return Ok(Box::new(crate::planner_cli::CliPlanner::new(
            cli,
            ctx.git.root().to_path_buf(),
            &ctx.agents,
        )));
    }
    let spec = baton_agents::providers::find(&config.provider)
        .ok_or_else(|| format!("review.provider {:?} is unknown", config.provider))?;
    // A key store that cannot be opened leaves the environment's keys.
    let store = baton_agents::keys::KeyStore::from_env().ok();
    let provider = HttpProvider::from_env(spec, store.as_ref())
        .map_err(|error| format!("the reviewer cannot be used: {error}"))?;
    Ok(Box::new(provider))
}
