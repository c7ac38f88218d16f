//! Only baton moves baton's refs, and a task's refs stay in its lane.
//!
//! A lane is a worktree of the user's repository, so refs are shared: a task that runs
//! `git branch -f baton/<run>/integration HEAD` (or `git update-ref`) could replace the
//! integration branch with content no claim covered and no gate checked, and a task's
//! `git checkout -b other`, `git tag` or `git stash` would appear in the user's repository.
//! The engine keeps the head it last moved the integration branch to (in memory, and
//! recoverable from the store after a crash); any other value is tampering: the branch is put
//! back, the attempt that did it fails when it can be known, and nothing is built on the
//! injected commit. Refs an attempt created or moved outside `refs/heads/baton/` are removed
//! or put back when its agent ends, when their value comes from the lane's own history.

use crate::EngineError;
use crate::context::RunCtx;
use crate::deliver::short;
use baton_git::Oid;
use baton_protocol::{AttemptStatus, EventBody, MergeItemStatus, TaskId};
use std::collections::BTreeMap;
use std::path::Path;

/// Whether `name` is one of baton's own branches, of this run or another one in the same
/// repository (`refs/heads/baton/<run>/integration`, `refs/heads/baton/<run>/tasks/<task>`):
/// never touched by the clean-up of an attempt's refs (the integration branch has its own
/// guard; another run's task branch may well start at a commit of this lane's history). Any
/// other name under `refs/heads/baton/` a task makes is cleaned up like any ref.
fn is_baton_branch(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("refs/heads/baton/") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    matches!(
        parts.as_slice(),
        [_, "integration"] | [_, "tasks", _] | [_, "partial", _]
    )
}

/// Every ref of the repository with its value, taken when an attempt's agent starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefSnapshot(BTreeMap<String, Oid>);

impl RunCtx {
    /// The head baton last recorded for the integration branch: the newest merged item's merge
    /// commit, or the base commit.
    pub async fn expected_head_from_store(&self) -> Result<Oid, EngineError> {
        let mut merged: Vec<_> = self
            .store
            .merge_items(self.id())
            .await?
            .into_iter()
            .filter(|item| item.status == MergeItemStatus::Merged)
            .collect();
        merged.sort_by(|a, b| (&a.updated_at, a.id).cmp(&(&b.updated_at, b.id)));
        let text = merged
            .last()
            .and_then(|item| item.merge_commit.clone())
            .unwrap_or_else(|| self.run.base_commit.clone());
        self.oid(&text)
    }

    /// Checks that the integration branch is where baton left it. If it is not, puts it back,
    /// records the event, and blames the running attempt that did it when that can be known
    /// (see [`RunCtx::take_tamper_blame`]). Returns whether it had to put it back.
    pub async fn guard_integration(&self) -> Result<bool, EngineError> {
        let _moving = self.ref_lock.lock().await;
        let expected = self.integration_head().await?;
        let refname = &self.run.integration_ref;
        let mut found = self.git.ref_value(refname).await?;
        if found.as_ref() == Some(&expected) {
            return Ok(false);
        }
        let first_found = found.clone();
        // A hostile loop may keep moving it; a few rounds of compare-and-swap win or fail loudly.
        for _ in 0..5 {
            match self
                .git
                .update_ref(refname, &expected, found.as_ref())
                .await
            {
                Ok(()) => break,
                Err(baton_git::GitError::RefMoved { actual, .. }) => found = actual,
                Err(other) => return Err(other.into()),
            }
        }
        if self.git.ref_value(refname).await?.as_ref() != Some(&expected) {
            return Err(EngineError::Inconsistent {
                run: self.id().clone(),
                what: format!("{refname} keeps being moved by something other than baton"),
            });
        }
        let culprit = self.tamper_culprit(first_found.as_ref(), &expected).await?;
        let shown = first_found.as_ref().map_or_else(
            || "nothing (deleted)".to_owned(),
            |oid| short(oid.as_str()).to_owned(),
        );
        if let Some(task) = &culprit
            && let Ok(mut blame) = self.tamper_blame.lock()
        {
            blame.insert(
                task.clone(),
                format!(
                    "the task moved baton's integration branch {refname} from {} to {shown}; \
                     baton put it back and did not use the injected commit. Only baton moves \
                     baton's refs: leave your work in the lane (committed or not) and the merge \
                     queue integrates it after the gates.",
                    short(expected.as_str())
                ),
            );
        }
        tracing::warn!("{refname} was moved to {shown} by something other than baton; restored");
        let event = self
            .store
            .append_event(
                self.id(),
                culprit.as_ref(),
                EventBody::IntegrationTampered {
                    expected: expected.to_string(),
                    found: first_found.map(|oid| oid.to_string()),
                    culprit: culprit.clone(),
                },
            )
            .await?;
        self.emit([event]);
        Ok(true)
    }

    /// The blame recorded for `task` by [`RunCtx::guard_integration`], taken once.
    pub fn take_tamper_blame(&self, task: &TaskId) -> Option<String> {
        self.tamper_blame
            .lock()
            .ok()
            .and_then(|mut blame| blame.remove(task))
    }

    /// The running attempt that moved the integration branch to `found`: the one whose lane
    /// history holds `found` (and the expected head does not), else the only running attempt.
    async fn tamper_culprit(
        &self,
        found: Option<&Oid>,
        expected: &Oid,
    ) -> Result<Option<TaskId>, EngineError> {
        let running: Vec<_> = self
            .store
            .attempts(self.id(), None)
            .await?
            .into_iter()
            .filter(|attempt| attempt.status == AttemptStatus::Running)
            .collect();
        if let Some(found) = found
            && !self.in_history(found, expected).await
        {
            let mut holders = Vec::new();
            for attempt in &running {
                let lane = self.pool.lane_path(&attempt.lane);
                if let Ok(head) = self.git.head(&lane).await
                    && self.in_history(found, &head).await
                {
                    holders.push(attempt.task_id.clone());
                }
            }
            if holders.len() == 1 {
                return Ok(holders.pop());
            }
        }
        Ok(match running.as_slice() {
            [only] => Some(only.task_id.clone()),
            _ => None,
        })
    }

    /// Whether `commit` is `tip` or one of its ancestors (anything git cannot answer: no).
    async fn in_history(&self, commit: &Oid, tip: &Oid) -> bool {
        commit == tip || self.git.is_ancestor(commit, tip).await.unwrap_or(false)
    }

    /// Every ref of the repository now.
    pub async fn snapshot_refs(&self) -> Result<RefSnapshot, EngineError> {
        Ok(RefSnapshot(
            self.git.refs_under("refs/").await?.into_iter().collect(),
        ))
    }

    /// Removes the refs an attempt created and puts back those it moved or deleted, outside
    /// baton's namespace, when their value comes from the lane's history (a ref the user
    /// makes meanwhile in their own checkout points elsewhere and is left alone). The lane's
    /// HEAD is first put back on its `branch` (the task's), keeping what the agent committed. Records
    /// what it did in an `attempt.refs_restored` event.
    pub async fn restore_refs(
        &self,
        before: &RefSnapshot,
        lane: &Path,
        branch: &str,
        task: &TaskId,
        attempt: u32,
    ) -> Result<(), EngineError> {
        self.pool.reattach(lane, branch).await?;
        let lane_head = self.git.head(lane).await?;
        let after = self.snapshot_refs().await?;
        let mut done = Vec::new();
        for (name, value) in &after.0 {
            if is_baton_branch(name) {
                continue;
            }
            let old = before.0.get(name);
            if old == Some(value) || !self.came_from_lane(name, value, &lane_head).await {
                continue;
            }
            match old {
                None => {
                    self.git.delete_ref(name).await?;
                    if let Ok(mut cleaned) = self.cleaned_refs.lock() {
                        cleaned.insert(name.clone());
                    }
                    done.push(format!("deleted {name} (the task created it)"));
                }
                Some(old) if name == "refs/stash" => {
                    let mut dropped = 0;
                    while dropped < 50 {
                        let now = self.git.ref_value(name).await?;
                        match now {
                            Some(now)
                                if &now != old
                                    && self.came_from_lane(name, &now, &lane_head).await =>
                            {
                                self.git.drop_newest_reflog_entry(name).await?;
                                dropped += 1;
                            }
                            _ => break,
                        }
                    }
                    done.push(format!("dropped {dropped} stash entries the task made"));
                }
                Some(old) => {
                    self.git.update_ref(name, old, Some(value)).await?;
                    done.push(format!(
                        "put {name} back to {} (the task moved it to {})",
                        short(old.as_str()),
                        short(value.as_str())
                    ));
                }
            }
        }
        for (name, old) in &before.0 {
            if is_baton_branch(name) || after.0.contains_key(name) {
                continue;
            }
            let cleaned_by_baton = self
                .cleaned_refs
                .lock()
                .map(|cleaned| cleaned.contains(name))
                .unwrap_or(false);
            if cleaned_by_baton {
                continue;
            }
            // Recreate only if nobody made it again meanwhile.
            if self.git.update_ref(name, old, None).await.is_ok() {
                done.push(format!("restored {name} (the task deleted it)"));
            }
        }
        if !done.is_empty() {
            let event = self
                .store
                .append_event(
                    self.id(),
                    Some(task),
                    EventBody::AttemptRefsRestored {
                        attempt,
                        refs: done,
                    },
                )
                .await?;
            self.emit([event]);
        }
        Ok(())
    }

    /// Whether a ref's value comes from the lane: its commit (a stash's base commit) is in the
    /// lane's history.
    async fn came_from_lane(&self, name: &str, value: &Oid, lane_head: &Oid) -> bool {
        let commit = if name == "refs/stash" {
            match self.git.resolve_commit(&format!("{value}^1")).await {
                Ok(Some(parent)) => parent,
                _ => return false,
            }
        } else {
            match self.git.resolve_commit(value.as_str()).await {
                Ok(Some(commit)) => commit,
                _ => return false,
            }
        };
        self.in_history(&commit, lane_head).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_integration_and_task_branches_are_batons_own() {
        assert!(is_baton_branch("refs/heads/baton/20261129-1/integration"));
        assert!(is_baton_branch("refs/heads/baton/20261129-1/tasks/lexer"));
        assert!(!is_baton_branch("refs/heads/baton/sneaky"));
        assert!(!is_baton_branch("refs/heads/baton/r/tasks/a/b"));
        assert!(!is_baton_branch("refs/heads/main"));
        assert!(!is_baton_branch("refs/tags/baton/r/integration"));
    }
}
