//! A council (`[escalation] council = N`): when a task is out of retries and fallbacks, N
//! different agents run it at the same time, each in its own lane from the integration head,
//! each with the task's prompt and the failures so far. Every candidate is an attempt of its
//! own (its agent, lane, reservation and ledger row; budget guards apply to each); its run is
//! the body every attempt has (`candidate.rs`). The judge (`baton_core::council::judge`) picks
//! the winner: gates first, then the reviewers' score, then the smaller diff. The winner's
//! change is delivered like any passing attempt's; the other lanes go back to the pool. With no
//! winner the task needs a person (`[escalation] person`) or fails. A cancel interrupts every
//! candidate and the council runs again on resume.

use crate::EngineError;
use crate::attempt::{AttemptEnd, deliver};
use crate::candidate::{AgentEnd, AgentRun, ChangeEnd, PassedChange, check_change, run_agent};
use crate::context::RunCtx;
use crate::lanes::HeldLane;
use crate::review::ReviewVerdict;
use baton_agents::AgentAdapter;
use baton_core::{CandidateSummary, TaskSpec, judge};
use baton_git::Oid;
use baton_protocol::{Severity, TaskId};
use baton_store::{CandidateResult, CouncilEnd, NewCandidate};
use std::sync::Arc;

/// The most bytes of a candidate's diff read to count its lines.
const MAX_DIFF_COUNTED: usize = 4 * 1024 * 1024;

/// What became of one candidate.
enum Outcome {
    /// Its change passed the gates (and claims and territory checks).
    Passed(PassedChange),
    /// It did not pass: why.
    Failed(String),
    /// A cancel or a budget stopped it: the council is interrupted.
    Cancelled,
}

/// One candidate: its place, agent, attempt and lane.
struct Seat {
    member: u32,
    adapter: &'static dyn AgentAdapter,
    number: u32,
    lane: HeldLane,
}

/// What sets a candidate's branch apart from a task's.
pub(crate) const CANDIDATE_MARK: &str = "--council-";

/// The branch a candidate works on: its own, beside the task's (two lanes cannot check out
/// one branch), in baton's namespace so no other attempt's ref clean-up touches it.
fn candidate_branch(ctx: &RunCtx, task: &TaskId, number: u32) -> String {
    format!("{}{CANDIDATE_MARK}{number}", ctx.task_branch(task))
}

/// Runs the council of `task` (its council is due) to its end.
pub(crate) async fn run_council(ctx: Arc<RunCtx>, task: TaskId) -> Result<AttemptEnd, EngineError> {
    let Some(mut spec) = ctx.plan.task(&task).cloned() else {
        return Err(EngineError::Inconsistent {
            run: ctx.id().clone(),
            what: format!("task {task} is in the database but not in the plan"),
        });
    };
    if let Some(prompt) = ctx.task_row(&task).await?.prompt_override {
        spec.prompt = Some(baton_core::Prompt::Text(prompt));
    }
    let members = ctx.council_members(&spec);
    if members.len() < 2 {
        let why = format!(
            "the council of task {task} cannot be held: fewer than two of its agents are \
             installed, healthy and not limited now; its next attempt is an ordinary one"
        );
        let events = ctx.store.skip_council(ctx.id(), &task, &why).await?;
        ctx.emit(events);
        return Ok(AttemptEnd::Interrupted);
    }
    let feedback = failures_so_far(&ctx, &task).await?;
    let mut lanes = Vec::new();
    for _ in &members {
        lanes.push(ctx.acquire_lane(Some(&task), "council").await?);
    }
    let head = ctx.integration_head().await?;
    let log_dir = ctx.home.log_dir(ctx.id().as_str());
    let new: Vec<NewCandidate> = members
        .iter()
        .zip(&lanes)
        .map(|(adapter, lane)| NewCandidate {
            agent: adapter.name().to_owned(),
            lane: lane.name.clone(),
        })
        .collect();
    let started = ctx
        .store
        .start_council(ctx.id(), &task, &new, head.as_str(), &log_dir)
        .await;
    let (numbers, events) = match started {
        Ok(started) => started,
        // A person's control moved the task first: nothing started, and the control stands.
        Err(baton_store::StoreError::Stale { .. }) => {
            for lane in &lanes {
                ctx.release_lane(&lane.name).await?;
            }
            return Ok(AttemptEnd::Interrupted);
        }
        Err(error) => return Err(error.into()),
    };
    ctx.emit(events);
    let council = numbers.first().copied().unwrap_or(0);
    let seats: Vec<Seat> = (1..)
        .zip(members.into_iter().zip(numbers).zip(lanes))
        .map(|(member, ((adapter, number), lane))| Seat {
            member,
            adapter,
            number,
            lane,
        })
        .collect();

    // Every candidate at once, owned by this future: a cancel reaches each through its
    // attempt's stop token (a child of the run's), and nothing outlives the join.
    let outcomes = futures_util::future::join_all(
        seats
            .iter()
            .map(|seat| run_candidate(&ctx, &spec, seat, &head, feedback.as_deref())),
    )
    .await;
    let mut results = Vec::new();
    let mut first_error = None;
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => results.push(outcome),
            Err(error) => {
                first_error.get_or_insert(error);
                results.push(Outcome::Cancelled);
            }
        }
    }
    let interrupted = first_error.is_some()
        || ctx.cancel.is_cancelled()
        || ctx.budget_paused()
        || results.iter().any(|r| matches!(r, Outcome::Cancelled));
    let end = if interrupted {
        let why = "the council was interrupted (a cancel, a budget or an error); it runs again \
                   when the run is resumed"
            .to_string();
        let events = ctx
            .store
            .finish_council(
                ctx.id(),
                &task,
                council,
                &CouncilEnd::Interrupted { why: why.clone() },
                &why,
            )
            .await?;
        ctx.emit(events);
        return_lanes(&ctx, &task, &seats, None).await?;
        AttemptEnd::Interrupted
    } else {
        decide(&ctx, &spec, council, &seats, &head, results).await?
    };
    match first_error {
        Some(error) => Err(error),
        None => Ok(end),
    }
}

/// What every candidate is told went wrong before: each failed attempt in a line (its agent
/// and the first line of its failure), then the last failure whole. `None` when nothing failed.
async fn failures_so_far(ctx: &RunCtx, task: &TaskId) -> Result<Option<String>, EngineError> {
    let failed: Vec<String> = ctx
        .store
        .attempts(ctx.id(), Some(task))
        .await?
        .into_iter()
        .filter(|a| a.status == baton_protocol::AttemptStatus::Failed)
        .filter_map(|a| {
            let first = a.failure.as_deref()?.lines().next()?.to_owned();
            let agent = a.agent.unwrap_or_else(|| "?".into());
            Some(format!("- attempt {} ({agent}): {first}", a.number))
        })
        .collect();
    let last = ctx.task_row(task).await?.last_failure;
    Ok(match (failed.is_empty(), last) {
        (true, last) => last,
        (false, last) => Some(format!(
            "Every attempt so far failed:\n{}\n\nThe last failure in full:\n{}",
            failed.join("\n"),
            last.unwrap_or_default()
        )),
    })
}

/// Judges the candidates and ends the council: the winner's change is delivered like any
/// passing attempt's; with none, the task needs a person or fails.
async fn decide(
    ctx: &RunCtx,
    spec: &TaskSpec,
    council: u32,
    seats: &[Seat],
    head: &Oid,
    results: Vec<Outcome>,
) -> Result<AttemptEnd, EngineError> {
    let task = &spec.id;
    let mut summaries = Vec::new();
    for (seat, result) in seats.iter().zip(&results) {
        let summary = summarize(ctx, task, seat, head, result).await?;
        summaries.push(summary);
    }
    let verdict = judge(&summaries.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>());
    for (seat, (_, result)) in seats.iter().zip(&summaries) {
        ctx.store
            .record_candidate(ctx.id(), task, seat.number, result)
            .await?;
    }
    let winner = verdict
        .winner
        .and_then(|member| seats.iter().zip(results).find(|(s, _)| s.member == member));
    let Some((seat, Outcome::Passed(passed))) = winner else {
        let failures: Vec<String> = summaries
            .iter()
            .map(|(s, r)| {
                format!(
                    "  {} (member {}): {}",
                    s.agent,
                    s.member,
                    r.failure
                        .as_deref()
                        .and_then(|f| f.lines().next())
                        .unwrap_or("did not pass")
                )
            })
            .collect();
        let failure = format!(
            "the council failed: {}\n{}",
            verdict.why,
            failures.join("\n")
        );
        let end = CouncilEnd::Lost {
            task_to: ctx.out_of_attempts(),
            failure,
        };
        let events = ctx
            .store
            .finish_council(ctx.id(), task, council, &end, &verdict.why)
            .await?;
        ctx.emit(events);
        return_lanes(ctx, task, seats, None).await?;
        return Ok(AttemptEnd::Failed);
    };
    let events = ctx
        .store
        .finish_council(
            ctx.id(),
            task,
            council,
            &CouncilEnd::Decided {
                attempt: seat.number,
            },
            &verdict.why,
        )
        .await?;
    ctx.emit(events);
    return_lanes(ctx, task, seats, Some(seat.number)).await?;
    // The winner's change is the task's: its branch points at it, as an attempt's would.
    let refname = format!("refs/heads/{}", ctx.task_branch(task));
    let old = ctx.git.ref_value(&refname).await?;
    ctx.git
        .update_ref(&refname, &passed.commit, old.as_ref())
        .await?;
    let end = deliver(ctx, spec, seat.number, &seat.lane, head, &passed).await?;
    ctx.git
        .delete_ref(&format!(
            "refs/heads/{}",
            candidate_branch(ctx, task, seat.number)
        ))
        .await?;
    Ok(end)
}

/// What the judge and the record know of a candidate.
async fn summarize(
    ctx: &RunCtx,
    task: &TaskId,
    seat: &Seat,
    head: &Oid,
    result: &Outcome,
) -> Result<(CandidateSummary, CandidateResult), EngineError> {
    let mut summary = CandidateSummary {
        member: seat.member,
        agent: seat.adapter.name().to_owned(),
        passed: false,
        reviews_approved: None,
        high_issues: 0,
        diff_lines: None,
    };
    let mut record = CandidateResult::default();
    match result {
        Outcome::Passed(passed) => {
            let diff = ctx
                .git
                .diff_text(head, &passed.commit, MAX_DIFF_COUNTED)
                .await?;
            let lines = diff
                .lines()
                .filter(|l| {
                    (l.starts_with('+') && !l.starts_with("+++"))
                        || (l.starts_with('-') && !l.starts_with("---"))
                })
                .count();
            summary.passed = true;
            summary.diff_lines = u64::try_from(lines).ok();
            if passed.review.is_some() {
                let reviews: Vec<_> = ctx
                    .store
                    .reviews(ctx.id())
                    .await?
                    .into_iter()
                    .filter(|r| r.task_id.as_ref() == Some(task) && r.attempt == Some(seat.number))
                    .collect();
                let approved = reviews.iter().filter(|r| r.report.approved).count();
                summary.reviews_approved = u32::try_from(approved).ok();
                summary.high_issues = reviews
                    .iter()
                    .flat_map(|r| &r.report.issues)
                    .filter(|issue| issue.severity == Severity::High)
                    .count()
                    .try_into()
                    .unwrap_or(u32::MAX);
            }
            record.task_commit = Some(passed.commit.to_string());
            if let Some(ReviewVerdict::Failed(why) | ReviewVerdict::Rejected(why)) = &passed.review
            {
                record.failure = Some(format!("passed its gates; the reviewers: {why}"));
            }
        }
        Outcome::Failed(why) => record.failure = Some(why.clone()),
        Outcome::Cancelled => record.failure = Some("interrupted".into()),
    }
    record.passed = summary.passed;
    record.diff_lines = summary.diff_lines;
    record.reviews_approved = summary.reviews_approved;
    record.high_issues = summary.high_issues;
    Ok((summary, record))
}

/// One candidate's run: the agent in its lane, then the check of its change.
async fn run_candidate(
    ctx: &RunCtx,
    spec: &TaskSpec,
    seat: &Seat,
    head: &Oid,
    feedback: Option<&str>,
) -> Result<Outcome, EngineError> {
    let stop = ctx.attempt_stop(&spec.id, seat.number);
    let branch = candidate_branch(ctx, &spec.id, seat.number);
    let ran = run_agent(
        ctx,
        AgentRun {
            spec,
            number: seat.number,
            lane: &seat.lane,
            head,
            branch: &branch,
            stop: &stop,
            // Each candidate starts a new conversation.
            previous: None,
            chosen: Ok(Some(seat.adapter)),
            slot: Some(ctx.take_slot(seat.adapter)),
            feedback: feedback.map(str::to_owned),
        },
    )
    .await?;
    let stopped = format!(
        "attempt {} was stopped by `baton stop {} {}`",
        seat.number,
        ctx.id(),
        spec.id
    );
    Ok(match ran {
        AgentEnd::Finished => {
            let Some(plan_spec) = ctx.plan.task(&spec.id) else {
                return Err(EngineError::Inconsistent {
                    run: ctx.id().clone(),
                    what: format!("task {} is not in the plan", spec.id),
                });
            };
            match check_change(ctx, plan_spec, seat.number, &seat.lane, head, &stop).await? {
                ChangeEnd::Passed(passed) => Outcome::Passed(passed),
                ChangeEnd::Failed(why) => Outcome::Failed(why),
                ChangeEnd::Stopped => Outcome::Failed(stopped),
                ChangeEnd::Suspended => Outcome::Cancelled,
            }
        }
        AgentEnd::Failed(why) | AgentEnd::Interrupted(why) => Outcome::Failed(why),
        AgentEnd::Stopped => Outcome::Failed(stopped),
        AgentEnd::BudgetStopped | AgentEnd::Cancelled => Outcome::Cancelled,
    })
}

/// Returns every candidate's lane to the pool (reset, like a failed attempt's) but the
/// winner's (its delivery does that), and deletes the losers' branches.
async fn return_lanes(
    ctx: &RunCtx,
    task: &TaskId,
    seats: &[Seat],
    winner: Option<u32>,
) -> Result<(), EngineError> {
    for seat in seats.iter().filter(|s| Some(s.number) != winner) {
        ctx.release_lane(&seat.lane.name).await?;
        ctx.git
            .delete_ref(&format!(
                "refs/heads/{}",
                candidate_branch(ctx, task, seat.number)
            ))
            .await?;
    }
    Ok(())
}
