//! What a merge conflict tells the task that runs again: the files that conflict and the
//! change that landed first on them (the tasks whose merges touched those files since the
//! conflicting attempt started), read from baton's merge commits on the integration branch.

use crate::context::RunCtx;
use baton_git::Oid;
use baton_store::MergeItemRow;

/// How many conflicting files the first line names (it is shown in `baton status`).
const FIRST_LINE_FILES: usize = 5;

/// How many files any other line of the text names.
const MAX_FILES: usize = 50;

/// A merge on the integration branch that touched conflicting files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LandedFirst {
    /// The merged task's id (its merge commit's `Baton-Merged-Task` trailer).
    pub task: String,
    /// The task's title in the plan.
    pub title: String,
    /// The merge commit.
    pub merge: String,
    /// The conflicting files it changed.
    pub paths: Vec<String>,
}

/// The failure of a task whose branch conflicts in `paths` with the integration branch at
/// `head`: the files, then what landed first on them. When that history cannot be read, the
/// text says so (the conflict itself is still reported).
pub(crate) async fn conflict_detail(
    ctx: &RunCtx,
    item: &MergeItemRow,
    head: &Oid,
    paths: &[String],
) -> String {
    match landed_first(ctx, item, head, paths).await {
        Ok((start, landed)) => describe_conflict(paths, start.as_deref(), Some(&landed)),
        Err(error) => {
            tracing::warn!(task = %item.task_id, %error, "cannot tell which merge a conflict is with");
            describe_conflict(paths, None, None)
        }
    }
}

/// The start commit of the item's attempt and the run's merges since then that changed any of
/// `paths`, oldest first.
async fn landed_first(
    ctx: &RunCtx,
    item: &MergeItemRow,
    head: &Oid,
    paths: &[String],
) -> Result<(Option<String>, Vec<LandedFirst>), crate::EngineError> {
    let start = ctx
        .store
        .attempts(ctx.id(), Some(&item.task_id))
        .await?
        .into_iter()
        .find(|attempt| attempt.number == item.attempt)
        .map(|attempt| attempt.start_commit);
    let Some(start) = start else {
        return Ok((None, Vec::new()));
    };
    let mut landed = Vec::new();
    let commits = ctx.git.commits(&format!("{start}..{head}")).await?;
    for commit in commits.into_iter().rev() {
        let (Some(task), Some(run)) = (
            commit.trailer("Baton-Merged-Task"),
            commit.trailer("Baton-Run"),
        ) else {
            continue;
        };
        if run != ctx.id().as_str() || commit.parents.len() != 2 {
            continue;
        }
        let changed = ctx
            .git
            .changed_paths(&commit.parents[0], &commit.oid)
            .await?;
        let touched: Vec<String> = paths
            .iter()
            .filter(|path| changed.contains(path))
            .cloned()
            .collect();
        if touched.is_empty() {
            continue;
        }
        let title = ctx
            .plan
            .task(&baton_protocol::TaskId::new(task))
            .map(|spec| spec.title.clone())
            .unwrap_or_default();
        landed.push(LandedFirst {
            task: task.to_owned(),
            title,
            merge: commit.oid.to_string(),
            paths: touched,
        });
    }
    Ok((Some(start), landed))
}

/// The conflict's text: a short first line with the files, the full list when that line cut
/// it, what landed first (`None`: unknown) since the attempt's `start`, and what happens next.
pub(crate) fn describe_conflict(
    paths: &[String],
    start: Option<&str>,
    landed: Option<&[LandedFirst]>,
) -> String {
    let mut out = format!(
        "its branch conflicts with the integration branch in: {}\n",
        file_list(paths, FIRST_LINE_FILES)
    );
    if paths.len() > FIRST_LINE_FILES {
        out.push_str(&format!(
            "Conflicting files: {}\n",
            file_list(paths, MAX_FILES)
        ));
    }
    match (landed, start) {
        (Some([]), _) | (None, _) => {
            out.push_str("Which change landed first on these files could not be told.\n");
        }
        (Some(landed), start) => {
            let since = start
                .map(|start| format!(" since this attempt started from {}", short(start)))
                .unwrap_or_default();
            out.push_str(&format!("Landed first{since}:\n"));
            for merge in landed {
                out.push_str(&format!(
                    "- task {} ({:?}) changed {} (merge {})\n",
                    merge.task,
                    merge.title,
                    file_list(&merge.paths, MAX_FILES),
                    short(&merge.merge)
                ));
            }
        }
    }
    out.push_str(
        "The task runs again from the new integration head, which has that change: keep it and \
         redo this task's change on top.",
    );
    out
}

/// `paths` joined by ", ", the first `max` only, with how many more.
fn file_list(paths: &[String], max: usize) -> String {
    let shown = paths
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match paths.len().saturating_sub(max) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// The first 10 characters of a commit id.
fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("src/f{i}.rs")).collect()
    }

    #[test]
    fn the_text_names_the_files_and_the_task_whose_merge_landed_first() {
        let landed = [LandedFirst {
            task: "schema".into(),
            title: "Database schema".into(),
            merge: "0123456789abcdef0123456789abcdef01234567".into(),
            paths: vec!["line.txt".into()],
        }];
        let text = describe_conflict(
            &["line.txt".into()],
            Some("fedcba9876543210fedcba9876543210fedcba98"),
            Some(&landed),
        );
        assert_eq!(
            text,
            "its branch conflicts with the integration branch in: line.txt\n\
             Landed first since this attempt started from fedcba9876:\n\
             - task schema (\"Database schema\") changed line.txt (merge 0123456789)\n\
             The task runs again from the new integration head, which has that change: keep it \
             and redo this task's change on top."
        );
    }

    #[test]
    fn the_first_line_stays_short_and_the_full_list_follows() {
        let text = describe_conflict(&files(60), None, None);
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "its branch conflicts with the integration branch in: src/f1.rs, src/f2.rs, \
             src/f3.rs, src/f4.rs, src/f5.rs and 55 more"
        );
        let second = text.lines().nth(1).unwrap();
        assert!(
            second.starts_with("Conflicting files: src/f1.rs,"),
            "{second}"
        );
        assert!(second.ends_with("src/f50.rs and 10 more"), "{second}");
        assert!(text.contains("could not be told"), "{text}");
    }
}
