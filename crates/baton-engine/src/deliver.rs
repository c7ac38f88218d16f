//! Delivery of a completed run: `--into BRANCH` moves BRANCH to the integration head only if
//! BRANCH has not moved since the run began; otherwise baton says how to merge by hand.
//!
//! A BRANCH checked out in a worktree moves with its files, by `git merge --ff-only`, which
//! keeps local changes it does not touch (an untracked `plan.yaml`, an edit to another file)
//! and refuses, changing nothing, when the fast-forward would overwrite one. Only such a
//! change keeps BRANCH where it is.

use crate::EngineError;
use crate::context::RunCtx;
use serde::Serialize;

/// What happened to the run's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// `--into` was not given; the command merges the result by hand.
    Left { branch: String, command: String },
    /// BRANCH now points at the integration head.
    Moved {
        branch: String,
        from: String,
        to: String,
    },
    /// BRANCH was left alone, for this reason; the command merges the result by hand.
    Refused {
        branch: String,
        reason: String,
        command: String,
    },
}

fn short_branch(integration_ref: &str) -> String {
    integration_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(integration_ref)
        .to_string()
}

/// The result stays on the integration branch, for `reason`: `--into` is not moved.
pub(crate) fn withhold(ctx: &RunCtx, reason: &str) -> Delivery {
    let integration = short_branch(&ctx.run.integration_ref);
    match ctx.run.into_branch.clone() {
        Some(branch) => Delivery::Refused {
            command: format!("git checkout {branch} && git merge {integration}"),
            branch,
            reason: reason.to_string(),
        },
        None => Delivery::Left {
            command: format!("git merge --ff-only {integration}"),
            branch: integration,
        },
    }
}

pub(crate) async fn deliver(ctx: &RunCtx) -> Result<Delivery, EngineError> {
    let integration = short_branch(&ctx.run.integration_ref);
    let Some(branch) = ctx.run.into_branch.clone() else {
        return Ok(Delivery::Left {
            command: format!("git merge --ff-only {integration}"),
            branch: integration,
        });
    };
    let refuse = |reason: String| Delivery::Refused {
        branch: branch.clone(),
        reason,
        command: format!("git checkout {branch} && git merge {integration}"),
    };
    let head = ctx
        .git
        .resolve_commit(&ctx.run.integration_ref)
        .await?
        .ok_or_else(|| EngineError::Inconsistent {
            run: ctx.id().clone(),
            what: "the integration branch is missing".into(),
        })?;
    let full = format!("refs/heads/{branch}");
    let Some(current) = ctx.git.resolve_commit(&full).await? else {
        return Ok(refuse(format!("branch {branch} no longer exists")));
    };
    let expected = ctx.run.into_expected.clone().unwrap_or_default();
    if current == head {
        // Already there: a previous engine moved it and died before writing that down.
        return Ok(Delivery::Moved {
            branch,
            from: expected,
            to: head.to_string(),
        });
    }
    if current.as_str() != expected {
        return Ok(refuse(format!(
            "{branch} moved since the run began ({} -> {})",
            short(&expected),
            short(current.as_str())
        )));
    }
    if !ctx.git.is_ancestor(&current, &head).await? {
        return Ok(refuse(format!(
            "{branch} is not an ancestor of the integration branch"
        )));
    }
    // A branch checked out in a worktree moves with its files, or not at all.
    let checked_out = ctx.git.worktrees().await?.into_iter().find(|w| {
        w.branch.as_deref() == Some(full.as_str()) || w.branch.as_deref() == Some(branch.as_str())
    });
    match checked_out {
        Some(worktree) => {
            let dirty = ctx.git.is_dirty(&worktree.path).await?;
            match ctx.git.fast_forward(&worktree.path, &head).await {
                Ok(()) => {}
                Err(baton_git::GitError::Failed { stderr, .. }) if dirty => {
                    return Ok(refuse(format!(
                        "{branch} is checked out in {} with local changes the fast-forward \
                         would overwrite (commit, stash or move them, then merge): {}",
                        worktree.path.display(),
                        stderr.trim()
                    )));
                }
                Err(error) => return Err(error.into()),
            }
        }
        None => ctx.git.update_ref(&full, &head, Some(&current)).await?,
    }
    Ok(Delivery::Moved {
        branch,
        from: current.to_string(),
        to: head.to_string(),
    })
}

/// The first ten characters of an object id, for people.
pub(crate) fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}
