//! Gates: named shell commands the orchestrator runs itself, in a task's lane after its agent
//! or in the merge lane on the would-be merge. A gate passes when it exits 0, or, declared with
//! `expect: fail` (the red gate of test-first work), when it exits with another code.

use crate::EngineError;
use crate::context::RunCtx;
use crate::supervise::{Lines, run_supervised};
use baton_exec::CommandSpec;
use baton_protocol::{EndReason, TaskId};
use std::path::Path;
use std::time::{Duration, Instant};

/// A gate may run this long before it is killed.
const GATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Where a gate runs, for its record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GateSite {
    /// In the lane of this attempt.
    Attempt(u32),
    /// In a merge lane, on the tip of a batch's merge chain (`item`: its last member).
    Batch { batch: i64, item: i64 },
}

/// The first failing gate of a list, if any.
#[derive(Debug, Clone)]
pub(crate) struct GateFailure {
    pub gate: String,
    pub end: EndReason,
    pub output: String,
    /// The gate is declared `expect: fail` and its command passed.
    pub passed_but_must_fail: bool,
}

impl GateFailure {
    /// The failure as feedback for the next attempt.
    pub fn describe(&self) -> String {
        if self.passed_but_must_fail {
            return format!(
                "gate `{}` must fail (`expect: fail`) but its command passed: the new tests \
                 pass on the code as it is, so they do not show the missing behaviour; write \
                 tests that fail until the change is made\n--- gate output (head and tail) \
                 ---\n{}",
                self.gate, self.output
            );
        }
        format!(
            "gate `{}` failed ({})\n--- gate output (head and tail) ---\n{}",
            self.gate, self.end, self.output
        )
    }
}

/// Runs the named gates in order in `dir`, whose files are the tree `tree`; stops at the first
/// failure. A gate that already ran to an exit on `tree` in this run is not run again: its
/// result is taken from the store and recorded as cached (the gate-result cache).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_gates(
    ctx: &RunCtx,
    dir: &Path,
    task: &TaskId,
    names: &[String],
    site: GateSite,
    tree: Option<&baton_git::Oid>,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<GateFailure>, EngineError> {
    let (attempt, item, batch) = match site {
        GateSite::Attempt(n) => (Some(n), None, None),
        GateSite::Batch { batch, item } => (None, Some(item), Some(batch)),
    };
    let tree_text = tree.map(|t| t.to_string());
    for name in names {
        let Some(gate) = ctx.plan.gate(name) else {
            return Err(EngineError::InvalidPlan(format!("unknown gate {name}")));
        };
        // The gate-result cache: an exit on the same tree earlier in the run is the result.
        let cached = match &tree_text {
            Some(tree) => ctx
                .store
                .gate_result_on_tree(ctx.id(), name, tree)
                .await?
                .filter(|(end, _)| matches!(end, EndReason::Exited { .. })),
            None => None,
        };
        let was_cached = cached.is_some();
        let (end, output, duration_ms) = match cached {
            Some((end, output)) => (end, output, 0),
            None => {
                let label = match site {
                    GateSite::Attempt(n) => format!("{task}.{n}.gate-{name}"),
                    GateSite::Batch { batch, .. } => format!("batch-{batch}.{task}.gate-{name}"),
                };
                run_gate(ctx, dir, task, name, &gate.command, &label, cancel).await?
            }
        };
        // `expect: fail` passes on a command that ran to a non-zero exit (not one killed,
        // timed out or cancelled).
        let passed = if gate.expect_failure {
            matches!(end, EndReason::Exited { code } if code != 0)
        } else {
            end.is_success()
        };
        let event = ctx
            .store
            .record_gate(
                ctx.id(),
                task,
                attempt,
                item,
                batch,
                name,
                &end,
                passed,
                duration_ms,
                &output,
                tree_text.as_deref(),
                was_cached,
            )
            .await?;
        ctx.emit([event]);
        if !passed {
            return Ok(Some(GateFailure {
                gate: name.clone(),
                passed_but_must_fail: gate.expect_failure && end.is_success(),
                end,
                output,
            }));
        }
    }
    Ok(None)
}

/// Runs one gate's command in `dir`, confined and supervised; returns how it ended, its output
/// (head and tail) and how long it took.
async fn run_gate(
    ctx: &RunCtx,
    dir: &Path,
    task: &TaskId,
    name: &str,
    command: &str,
    label: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<(EndReason, String, u64), EngineError> {
    let cell = ctx.sandbox.cell(dir, label).await?;
    let spec = CommandSpec::shell(command.to_owned(), dir)
        .env(baton_agents::ENV_TASK_ID, task.as_str())
        .env("BATON_GATE", name)
        .without_git_env()
        .log_cap(ctx.log_cap)
        .deadline(GATE_TIMEOUT)
        .log_file(
            ctx.home
                .log_dir(ctx.id().as_str())
                .join(format!("{label}.log")),
        );
    let spec = cell.apply(spec);
    let started = Instant::now();
    let outcome = run_supervised(
        ctx,
        spec,
        cancel,
        task,
        &format!("gate {name}"),
        Lines::LogOnly,
        None,
        |_, _| {},
    )
    .await?;
    cell.leave().await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok((outcome.end.clone(), outcome.output.text(), duration_ms))
}
