//! The sample project of `baton demo`: a small Python 3 library (`calc`, standard library
//! only, with a `unittest` suite) in a fresh git repository, and a plan of eleven codemods on
//! it with dependencies on several levels, overlapping claims, a shared claim, gates and a
//! task that fails once on purpose and is fixed on its retry from baton's feedback.
//!
//! The sources live in `crates/baton-cli/demo/` as real files, compiled in with
//! `include_str!`, so they can be read, linted and run like any project.

use anyhow::{Context, bail};
use baton_git::Git;
use std::path::{Path, PathBuf};

/// Where `create_demo_project` put things.
#[derive(Debug, Clone)]
pub struct DemoProject {
    /// The sample repository (branch `main`, one commit).
    pub repo: PathBuf,
    /// The plan file, beside the repository so it never dirties it.
    pub plan: PathBuf,
}

/// The branch the sample repository is created on (the plan's `base`).
pub const DEMO_BRANCH: &str = "main";

/// The demo plan, written to `plan.yaml` beside the repository.
pub const DEMO_PLAN: &str = include_str!("../demo/plan.yaml");

/// The files of the sample repository: (path in the repository, content).
const FILES: &[(&str, &str)] = &[
    ("README.md", include_str!("../demo/README.md")),
    (".gitignore", include_str!("../demo/gitignore")),
    ("CHANGELOG.md", include_str!("../demo/CHANGELOG.md")),
    (
        "changes/README.md",
        include_str!("../demo/changes/README.md"),
    ),
    ("calc/__init__.py", include_str!("../demo/calc/__init__.py")),
    ("calc/arith.py", include_str!("../demo/calc/arith.py")),
    ("calc/format.py", include_str!("../demo/calc/format.py")),
    ("calc/stats.py", include_str!("../demo/calc/stats.py")),
    (
        "tests/test_arith.py",
        include_str!("../demo/tests/test_arith.py"),
    ),
    (
        "tests/test_format.py",
        include_str!("../demo/tests/test_format.py"),
    ),
    (
        "tests/test_stats.py",
        include_str!("../demo/tests/test_stats.py"),
    ),
    ("tools/add_cli.py", include_str!("../demo/tools/add_cli.py")),
    (
        "tools/add_docstrings.py",
        include_str!("../demo/tools/add_docstrings.py"),
    ),
    (
        "tools/add_function.py",
        include_str!("../demo/tools/add_function.py"),
    ),
    (
        "tools/collate_changes.py",
        include_str!("../demo/tools/collate_changes.py"),
    ),
    (
        "tools/gen_api_docs.py",
        include_str!("../demo/tools/gen_api_docs.py"),
    ),
    (
        "tools/gen_units.py",
        include_str!("../demo/tools/gen_units.py"),
    ),
    ("tools/lint.py", include_str!("../demo/tools/lint.py")),
    ("tools/note.py", include_str!("../demo/tools/note.py")),
    (
        "tools/rename_symbol.py",
        include_str!("../demo/tools/rename_symbol.py"),
    ),
    (
        "tools/snippets/modulo.py",
        include_str!("../demo/tools/snippets/modulo.py"),
    ),
    (
        "tools/snippets/percent.py",
        include_str!("../demo/tools/snippets/percent.py"),
    ),
    (
        "tools/snippets/power.py",
        include_str!("../demo/tools/snippets/power.py"),
    ),
    (
        "tools/snippets/summary.py",
        include_str!("../demo/tools/snippets/summary.py"),
    ),
    (
        "tools/snippets/test_modulo.py",
        include_str!("../demo/tools/snippets/test_modulo.py"),
    ),
    (
        "tools/snippets/test_percent.py",
        include_str!("../demo/tools/snippets/test_percent.py"),
    ),
    (
        "tools/snippets/test_power.py",
        include_str!("../demo/tools/snippets/test_power.py"),
    ),
    (
        "tools/snippets/test_summary.py",
        include_str!("../demo/tools/snippets/test_summary.py"),
    ),
    (
        "tools/snippets/test_variance.py",
        include_str!("../demo/tools/snippets/test_variance.py"),
    ),
    (
        "tools/snippets/variance.py",
        include_str!("../demo/tools/snippets/variance.py"),
    ),
];

/// Creates the sample repository (committed on branch `main`) and its plan file under `dir`:
/// `dir/repo` and `dir/plan.yaml`. Refuses to reuse a non-empty `dir/repo`.
pub async fn create_demo_project(dir: &Path) -> anyhow::Result<DemoProject> {
    let repo = dir.join("repo");
    let occupied = std::fs::read_dir(&repo).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        bail!(
            "{} already exists and is not empty; choose another demo directory",
            repo.display()
        );
    }
    let git = Git::init(&repo, DEMO_BRANCH)
        .await
        .with_context(|| format!("creating the sample repository in {}", repo.display()))?;
    let root = git.root().to_path_buf();
    for (rel, content) in FILES {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
    }
    git.commit_all(&root, "calc 0.1.0: the sample project of baton demo")
        .await
        .context("committing the sample project")?;
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, DEMO_PLAN).with_context(|| format!("writing {}", plan.display()))?;
    Ok(DemoProject { repo: root, plan })
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::parse_plan;
    use baton_exec::{CommandSpec, run_captured};
    use std::time::Duration;

    async fn python_tests(dir: &Path) -> baton_exec::Captured {
        let spec = CommandSpec::new("python3", dir)
            .args(["-m", "unittest", "discover", "-s", "tests", "-q"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .deadline(Duration::from_secs(60));
        run_captured(spec).await.unwrap()
    }

    #[tokio::test]
    async fn the_demo_project_is_a_committed_repository_with_a_passing_suite_and_a_rich_plan() {
        let tmp = tempfile::tempdir().unwrap();
        let project = create_demo_project(tmp.path()).await.unwrap();

        let git = Git::discover(&project.repo).await.unwrap();
        assert_eq!(
            git.current_branch().await.unwrap().as_deref(),
            Some(DEMO_BRANCH)
        );
        assert!(!git.is_dirty(git.root()).await.unwrap());
        assert!(!project.plan.starts_with(&project.repo));

        let source = std::fs::read_to_string(&project.plan).unwrap();
        let plan = parse_plan(&source, "plan.yaml").unwrap();
        assert!(plan.tasks.len() >= 8, "{} tasks", plan.tasks.len());
        assert!(plan.dag().levels().len() >= 4, "several dependency levels");
        assert!(plan.tasks.iter().any(|t| t.retries == 1));
        let shared = plan
            .tasks
            .iter()
            .filter(|t| t.claims.claims().iter().any(|c| c.is_shared()))
            .count();
        assert!(shared >= 2, "several tasks write under a shared claim");
        let independent_but_overlapping = plan.tasks.iter().enumerate().any(|(i, a)| {
            plan.tasks[i + 1..].iter().any(|b| {
                a.claims.conflicts_with(&b.claims) && a.deps.is_empty() && b.deps.is_empty()
            })
        });
        assert!(
            independent_but_overlapping,
            "claims serialize two ready tasks"
        );

        let out = python_tests(&project.repo).await;
        assert!(out.success(), "{}\n{}", out.stdout_text(), out.stderr);
        assert!(
            !git.is_dirty(git.root()).await.unwrap(),
            "caches are ignored"
        );
    }

    #[tokio::test]
    async fn a_second_demo_in_the_same_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        create_demo_project(tmp.path()).await.unwrap();
        let err = create_demo_project(tmp.path()).await.unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }
}
