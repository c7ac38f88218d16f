//! Keeping artifacts: each one in the store and as a file under `$BATON_HOME`, written
//! atomically (a temporary file in the same directory, renamed into place), file first, so a
//! stored artifact always has its whole file.

use crate::{Engine, EngineError};
use baton_protocol::{ArtifactKind, RunId, TaskId};
use baton_store::{ArtifactRow, NewArtifact};
use std::io::Write;
use std::path::Path;

/// A new artifact id: `art-`, the time and some randomness (sortable, safe in a file name).
fn new_artifact_id() -> String {
    let now = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let suffix: u32 = rand::random();
    format!("art-{now}-{suffix:08x}")
}

/// Writes `content` to `path` atomically, creating its directory.
pub(crate) fn write_atomically(path: &Path, content: &[u8]) -> Result<(), EngineError> {
    let io = |source: std::io::Error| EngineError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    // The artifact's file name is unique (its id), so one temporary name per file and
    // process is enough.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| file.write_all(content).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(error));
    }
    Ok(())
}

/// Keeps an artifact of `run` (or of no run yet) about `task`: its file under
/// [`Home::artifacts_dir`](crate::Home::artifacts_dir), then its row.
pub(crate) async fn keep_artifact(
    store: &baton_store::Store,
    home: &crate::Home,
    run: Option<&RunId>,
    task: Option<&TaskId>,
    kind: ArtifactKind,
    content: &str,
) -> Result<ArtifactRow, EngineError> {
    let id = new_artifact_id();
    let name = format!("{}.{}", kind.as_str().replace('_', "-"), kind.extension());
    let path = home
        .artifacts_dir(run.map(RunId::as_str))
        .join(format!("{id}-{name}"));
    write_atomically(&path, content.as_bytes())?;
    let row = store
        .insert_artifact(&NewArtifact {
            id,
            run_id: run.cloned(),
            task_id: task.cloned(),
            kind,
            name,
            content: content.to_owned(),
            path: path.display().to_string(),
            host: crate::lease::host_name(),
        })
        .await?;
    Ok(row)
}

impl Engine {
    /// Keeps an artifact of `run` (or of no run yet) about `task`: its file under
    /// [`Home::artifacts_dir`](crate::Home::artifacts_dir), then its row.
    pub async fn save_artifact(
        &self,
        run: Option<&RunId>,
        task: Option<&TaskId>,
        kind: ArtifactKind,
        content: &str,
    ) -> Result<ArtifactRow, EngineError> {
        keep_artifact(self.store(), self.home(), run, task, kind, content).await
    }

    /// One artifact; an unknown id is the person's to fix.
    pub async fn artifact(&self, id: &str) -> Result<ArtifactRow, EngineError> {
        self.store()
            .artifact(id)
            .await
            .map_err(|error| match error {
                baton_store::StoreError::NotFound(what) => {
                    EngineError::BadRequest(format!("no {what}"))
                }
                other => other.into(),
            })
    }

    /// A run's artifacts, oldest first, or with `None` every artifact (those made before any
    /// run included). An unknown run is refused.
    pub async fn artifacts(&self, run: Option<&RunId>) -> Result<Vec<ArtifactRow>, EngineError> {
        Ok(match run {
            Some(run) => {
                self.store().run(run).await?;
                self.store().artifacts(Some(run)).await?
            }
            None => self.store().all_artifacts().await?,
        })
    }

    /// Makes artifacts made before any run (`ids`) `run`'s.
    pub async fn attach_artifacts(&self, run: &RunId, ids: &[String]) -> Result<(), EngineError> {
        for id in ids {
            self.store().attach_artifact(id, run).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Home;

    #[tokio::test]
    async fn an_artifact_is_kept_in_the_store_and_as_a_whole_file() {
        let home = tempfile::tempdir().unwrap();
        let engine = Engine::open(Home::new(home.path())).await.unwrap();
        let loose = engine
            .save_artifact(None, None, ArtifactKind::PlannerOutput, "raw text")
            .await
            .unwrap();
        assert!(
            loose
                .path
                .starts_with(&home.path().join("artifacts").display().to_string())
        );
        assert_eq!(std::fs::read_to_string(&loose.path).unwrap(), "raw text");
        let run = RunId::new("r1");
        let plan = engine
            .save_artifact(Some(&run), None, ArtifactKind::Plan, "version: 1\n")
            .await
            .unwrap();
        assert!(plan.path.contains("/runs/r1/artifacts/"), "{}", plan.path);
        assert!(plan.name.ends_with(".yaml"));
        let stored = engine.store().artifact(&plan.id).await.unwrap();
        assert_eq!(stored.content, "version: 1\n");
        // No temporary file is left beside it.
        let dir = std::path::Path::new(&plan.path).parent().unwrap();
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
        assert_eq!(engine.artifacts(None).await.unwrap().len(), 2);
        let unknown = engine.artifact("art-x").await.unwrap_err();
        assert!(matches!(unknown, EngineError::BadRequest(_)), "{unknown}");
        let no_run = engine
            .artifacts(Some(&RunId::new("nope")))
            .await
            .unwrap_err();
        assert!(
            no_run.to_string().contains("no run with id nope"),
            "{no_run}"
        );
    }
}
