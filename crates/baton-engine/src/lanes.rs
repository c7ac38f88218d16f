//! Which lane of the repository's pool a task or the merge queue uses. The database says who
//! holds a lane; `baton-git`'s `LanePool` does the git work.

use crate::EngineError;
use crate::context::RunCtx;
use baton_protocol::TaskId;
use std::path::PathBuf;

/// A lane held by this run.
#[derive(Debug, Clone)]
pub(crate) struct HeldLane {
    pub name: String,
    pub path: PathBuf,
}

/// Lane names sort by number: lane-2 before lane-10.
fn lane_number(name: &str) -> u32 {
    name.strip_prefix("lane-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(u32::MAX)
}

impl RunCtx {
    /// Takes a free lane of the pool, or adds one when all are busy.
    pub async fn acquire_lane(
        &self,
        task: Option<&TaskId>,
        purpose: &str,
    ) -> Result<HeldLane, EngineError> {
        self.acquire_lane_preferring(task, purpose, None).await
    }

    /// [`acquire_lane`](Self::acquire_lane), taking the lane named `prefer` when it is free (a
    /// retry whose agent resumes its session wants the directory that session worked in).
    pub async fn acquire_lane_preferring(
        &self,
        task: Option<&TaskId>,
        purpose: &str,
        prefer: Option<&str>,
    ) -> Result<HeldLane, EngineError> {
        loop {
            let mut lanes = self.store.lanes(&self.lane_repo).await?;
            lanes.sort_by_key(|l| (Some(l.name.as_str()) != prefer, lane_number(&l.name)));
            for lane in lanes.iter().filter(|l| l.run_id.is_none()) {
                if self
                    .store
                    .assign_lane(
                        &self.lane_repo,
                        &lane.name,
                        &lane.path,
                        self.id(),
                        task,
                        purpose,
                    )
                    .await?
                {
                    return Ok(HeldLane {
                        name: lane.name.clone(),
                        path: PathBuf::from(&lane.path),
                    });
                }
            }
            let next = (1..)
                .find(|n| !lanes.iter().any(|l| lane_number(&l.name) == *n))
                .unwrap_or(1);
            let name = format!("lane-{next}");
            let path = self.pool.lane_path(&name);
            if self
                .store
                .assign_lane(
                    &self.lane_repo,
                    &name,
                    &path.to_string_lossy(),
                    self.id(),
                    task,
                    purpose,
                )
                .await?
            {
                return Ok(HeldLane { name, path });
            }
        }
    }

    /// Resets a lane (detached, clean) and returns it to the pool. A lane that cannot be reset
    /// is removed instead, so the pool never hands out a dirty lane.
    pub async fn release_lane(&self, name: &str) -> Result<(), EngineError> {
        if let Err(error) = self.pool.release(name).await {
            tracing::warn!("lane {name} could not be reset ({error}); removing it");
            self.pool.remove(name).await?;
            self.store.delete_lane(&self.lane_repo, name).await?;
            return Ok(());
        }
        self.store.free_lane(&self.lane_repo, name).await?;
        Ok(())
    }
}
