//! Artifacts: what runs produce besides code (plans, the planner's raw output, task lists,
//! reviews, diffs, reports), kept whole in the database; the engine also writes each as a file.

use crate::{Store, StoreError, now_text};
use baton_protocol::{ArtifactKind, ArtifactView, RunId, TaskId};
use sqlx::Row;

/// An artifact about to be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    pub id: String,
    /// `None` for an artifact made before any run.
    pub run_id: Option<RunId>,
    pub task_id: Option<TaskId>,
    pub kind: ArtifactKind,
    pub name: String,
    pub content: String,
    /// The file the content was written to.
    pub path: String,
    /// The machine `path` is on.
    pub host: String,
}

/// A kept artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRow {
    pub id: String,
    pub run_id: Option<RunId>,
    pub task_id: Option<TaskId>,
    pub kind: ArtifactKind,
    pub name: String,
    pub content: String,
    pub path: String,
    pub host: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl ArtifactRow {
    /// The artifact without its content, as frontends list it.
    pub fn view(&self) -> ArtifactView {
        ArtifactView {
            id: self.id.clone(),
            run_id: self.run_id.as_ref().map(|r| r.as_str().to_owned()),
            task_id: self.task_id.as_ref().map(|t| t.as_str().to_owned()),
            kind: self.kind,
            name: self.name.clone(),
            path: self.path.clone(),
            size: u64::try_from(self.content.len()).unwrap_or(u64::MAX),
            created_at: self.created_at.clone(),
        }
    }
}

fn artifact_row(row: &sqlx::sqlite::SqliteRow) -> Result<ArtifactRow, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(ArtifactRow {
        id: row.try_get("id")?,
        run_id: row.try_get::<Option<String>, _>("run_id")?.map(RunId::new),
        task_id: row
            .try_get::<Option<String>, _>("task_id")?
            .map(TaskId::new),
        kind: ArtifactKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("artifacts.kind = {kind:?}")))?,
        name: row.try_get("name")?,
        content: row.try_get("content")?,
        path: row.try_get("path")?,
        host: row.try_get("host")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Keeps an artifact; returns it as stored.
    pub async fn insert_artifact(&self, new: &NewArtifact) -> Result<ArtifactRow, StoreError> {
        let created_at = now_text();
        sqlx::query(
            "INSERT INTO artifacts (id, run_id, task_id, kind, name, content, path, host,
                 created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&new.id)
        .bind(new.run_id.as_ref().map(RunId::as_str))
        .bind(new.task_id.as_ref().map(TaskId::as_str))
        .bind(new.kind.as_str())
        .bind(&new.name)
        .bind(&new.content)
        .bind(&new.path)
        .bind(&new.host)
        .bind(&created_at)
        .execute(&self.writer)
        .await?;
        Ok(ArtifactRow {
            id: new.id.clone(),
            run_id: new.run_id.clone(),
            task_id: new.task_id.clone(),
            kind: new.kind,
            name: new.name.clone(),
            content: new.content.clone(),
            path: new.path.clone(),
            host: new.host.clone(),
            created_at,
        })
    }

    /// One artifact.
    pub async fn artifact(&self, id: &str) -> Result<ArtifactRow, StoreError> {
        let row = sqlx::query("SELECT * FROM artifacts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "artifact {id} (see `baton artifacts` for the artifacts)"
                ))
            })?;
        artifact_row(&row)
    }

    /// A run's artifacts, oldest first; with `None`, the artifacts made before any run.
    pub async fn artifacts(&self, run: Option<&RunId>) -> Result<Vec<ArtifactRow>, StoreError> {
        let rows = match run {
            Some(run) => {
                sqlx::query("SELECT * FROM artifacts WHERE run_id = ? ORDER BY rowid")
                    .bind(run.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM artifacts WHERE run_id IS NULL ORDER BY rowid")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(artifact_row).collect()
    }

    /// Makes an artifact made before any run one of `run`'s (its file stays where it is).
    pub async fn attach_artifact(&self, id: &str, run: &RunId) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE artifacts SET run_id = ? WHERE id = ? AND run_id IS NULL")
            .bind(run.as_str())
            .bind(id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("artifact {id} without a run")));
        }
        Ok(())
    }

    /// Every artifact, oldest first.
    pub async fn all_artifacts(&self) -> Result<Vec<ArtifactRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM artifacts ORDER BY rowid")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(artifact_row).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn new(id: &str, run: Option<&str>, kind: ArtifactKind) -> NewArtifact {
        NewArtifact {
            id: id.to_owned(),
            run_id: run.map(RunId::new),
            task_id: None,
            kind,
            name: format!("{id}.{}", kind.extension()),
            content: format!("content of {id}"),
            path: format!("/tmp/{id}"),
            host: "here".to_owned(),
        }
    }

    #[tokio::test]
    async fn artifacts_are_kept_whole_and_listed_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("baton.db")).await.unwrap();
        store
            .insert_artifact(&new("art-1", None, ArtifactKind::PlannerOutput))
            .await
            .unwrap();
        store
            .insert_artifact(&new("art-2", Some("r1"), ArtifactKind::Plan))
            .await
            .unwrap();
        store
            .insert_artifact(&new("art-3", Some("r1"), ArtifactKind::TaskList))
            .await
            .unwrap();
        let one = store.artifact("art-2").await.unwrap();
        assert_eq!(one.content, "content of art-2");
        assert_eq!(one.kind, ArtifactKind::Plan);
        assert_eq!(one.view().size, 16);
        let run: Vec<String> = store
            .artifacts(Some(&RunId::new("r1")))
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(run, ["art-2", "art-3"]);
        let loose = store.artifacts(None).await.unwrap();
        assert_eq!(loose.len(), 1);
        assert_eq!(loose[0].run_id, None);
        assert_eq!(store.all_artifacts().await.unwrap().len(), 3);
        store
            .attach_artifact("art-1", &RunId::new("r2"))
            .await
            .unwrap();
        assert!(store.artifacts(None).await.unwrap().is_empty());
        assert!(
            store
                .attach_artifact("art-1", &RunId::new("r3"))
                .await
                .is_err()
        );
        let missing = store.artifact("art-9").await.unwrap_err();
        assert!(missing.to_string().contains("artifact art-9"), "{missing}");
    }
}
