//! `baton approvals [RUN]`, `baton approve RUN [TASK]` and `baton reject RUN [TASK] --why`.

use super::{known_run, open_engine, print_json};
use crate::{Exit, exit, style};
use baton_engine::DecisionRequest;
use baton_protocol::{ApprovalWait, RunStatus, TaskId};

/// What a person decided about a task that waits for approval.
pub enum Decision {
    /// Approved, optionally to run on another agent.
    Approve {
        agent: Option<String>,
        why: Option<String>,
    },
    /// Rejected, with why.
    Reject { why: String },
}

/// `baton approvals [RUN]`: what waits, across runs or in one.
pub async fn list(run: Option<&str>, json: bool) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = match run {
        Some(run) => Some(known_run(&engine, run).await?),
        None => None,
    };
    let waits = engine.approval_waits(run.as_ref()).await?;
    if json {
        print_json(&waits)?;
    } else {
        print!("{}", render_waits(&waits));
    }
    Ok(exit::OK)
}

/// The human listing of `waits`: one block per task, oldest first.
fn render_waits(waits: &[ApprovalWait]) -> String {
    if waits.is_empty() {
        return "nothing waits for approval\n".to_owned();
    }
    let mut out = String::new();
    for wait in waits {
        let since = wait.since.as_deref().unwrap_or("(unknown)");
        let timeout = wait
            .times_out_at
            .as_deref()
            .map(|at| format!(", times out {at}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} {} waits before {} since {since}{timeout}\n",
            style::dim(&format!("run {}", wait.run)),
            style::bold(wait.task.as_str()),
            style::warn(wait.point.as_str()),
        ));
        out.push_str(&format!("  why:     {}\n", wait.reason));
        out.push_str(&format!(
            "  approve: {} (`baton approve {} {}`; `baton reject {} {} --why ...` fails it)\n",
            wait.on_approve, wait.run, wait.task, wait.run, wait.task
        ));
    }
    out
}

/// `baton approve RUN [TASK] [--agent NAME] [--why TEXT]` and `baton reject RUN [TASK] --why
/// TEXT`. Who decides is the OS user (`USER`, `LOGNAME`, else `unknown`).
pub async fn decide(
    run: &str,
    task: Option<&str>,
    decision: Decision,
    json: bool,
) -> Result<u8, Exit> {
    let engine = open_engine().await?;
    let run = known_run(&engine, run).await?;
    let task = task.map(TaskId::new);
    let by = baton_engine::os_user();
    let (approved, agent, why) = match decision {
        Decision::Approve { agent, why } => (true, agent, why),
        Decision::Reject { why } => (false, None, Some(why)),
    };
    let request = DecisionRequest {
        task: task.as_ref(),
        agent: agent.as_deref(),
        why: why.as_deref(),
        by: &by,
    };
    let decided = if approved {
        engine.approve(&run, &request).await?
    } else {
        engine.reject(&run, &request).await?
    };
    let status = engine.store().run(&run).await?.status;
    if json {
        print_json(&serde_json::json!({
            "run": run,
            "task": decided,
            "approved": approved,
            "agent": agent,
            "why": why,
            "by": by,
            "run_status": status,
        }))?;
        return Ok(exit::OK);
    }
    let what = if approved {
        style::good("approved")
    } else {
        style::bad("rejected")
    };
    println!("task {decided} of run {run} {what} by {by}");
    if status != RunStatus::Running {
        println!("`baton resume {run}` continues the run");
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::{ApprovalPoint, RiskLevel, RunId};

    use crate::style::strip_colours as plain;

    #[test]
    fn the_listing_says_where_why_since_and_what_approving_does() {
        let waits = vec![
            ApprovalWait {
                run: RunId::new("r1"),
                task: TaskId::new("migrate"),
                point: ApprovalPoint::Start,
                risk: Some(RiskLevel::High),
                reason: "risk high: matches migrations (**/migrations/**)".into(),
                since: Some("2026-11-30T03:00:00.000Z".into()),
                times_out_at: Some("2026-11-30T05:00:00.000Z".into()),
                on_approve: ApprovalPoint::Start.on_approve().into(),
            },
            ApprovalWait {
                run: RunId::new("r2"),
                task: TaskId::new("docs"),
                point: ApprovalPoint::Delivery,
                risk: Some(RiskLevel::Medium),
                reason: "risk medium: the plan says risk: medium".into(),
                since: Some("2026-11-30T03:05:00.000Z".into()),
                times_out_at: None,
                on_approve: ApprovalPoint::Delivery.on_approve().into(),
            },
        ];
        insta::assert_snapshot!(plain(&render_waits(&waits)));
        assert_eq!(render_waits(&[]), "nothing waits for approval\n");
    }
}
