//! Lane readiness: resetting a pooled lane to a new start commit against adding a fresh
//! worktree, on a repository with many files.

use anyhow::{Context, bail};
use baton_git::{Git, LanePool, Oid};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Files per directory of the generated repository.
const FILES_PER_DIR: usize = 100;

/// Lane readiness figures.
#[derive(Debug, Clone, Serialize)]
pub struct LaneFigures {
    pub files: usize,
    pub commits: usize,
    pub repetitions: usize,
    /// Median time to reset the pooled lane to another start commit.
    pub pooled_reset_ms: f64,
    /// Median time to add a fresh worktree at a start commit.
    pub fresh_add_ms: f64,
    /// Median time to remove a fresh worktree again (not part of the comparison).
    pub fresh_remove_ms: f64,
    /// fresh_add_ms / pooled_reset_ms.
    pub speedup: f64,
    /// Time to generate and commit the repository.
    pub setup_ms: u64,
}

/// Measures lane readiness on a generated repository of `files` files, `repetitions` times.
pub async fn lanes(dir: &Path, files: usize, repetitions: usize) -> anyhow::Result<LaneFigures> {
    let bar = ProgressBar::new(u64::try_from(2 * repetitions + 1).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg:40} [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!("lanes: generating {files} files"));
    let setup = Instant::now();
    let (git, commits) = generate_repo(&dir.join("repo"), files).await?;
    let setup_ms = u64::try_from(setup.elapsed().as_millis()).unwrap_or(u64::MAX);
    bar.inc(1);

    let pool = LanePool::new(git, dir.join("lanes"));
    bar.set_message("lanes: pooled resets");
    let first = pool
        .prepare("pooled", Some("bench/pooled"), &commits[0])
        .await?;
    if first.reused {
        bail!("the pooled lane existed before the bench created it");
    }
    let mut pooled = Vec::with_capacity(repetitions);
    for r in 0..repetitions {
        // Each reset moves to another commit, as a lane does between tasks.
        let start = &commits[(r + 1) % commits.len()];
        let began = Instant::now();
        let ready = pool.prepare("pooled", Some("bench/pooled"), start).await?;
        pooled.push(ms(began.elapsed()));
        if !ready.reused {
            bail!("the pooled lane was not reused on repetition {r}");
        }
        bar.inc(1);
    }

    bar.set_message("lanes: fresh worktrees");
    let mut fresh = Vec::with_capacity(repetitions);
    let mut removes = Vec::with_capacity(repetitions);
    for r in 0..repetitions {
        let name = format!("fresh-{r}");
        let branch = format!("bench/{name}");
        let start = &commits[(r + 1) % commits.len()];
        let began = Instant::now();
        let ready = pool.prepare(&name, Some(&branch), start).await?;
        fresh.push(ms(began.elapsed()));
        if ready.reused {
            bail!("lane {name} already existed");
        }
        let began = Instant::now();
        pool.remove(&name).await?;
        removes.push(ms(began.elapsed()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let pooled_reset_ms = median(&mut pooled);
    let fresh_add_ms = median(&mut fresh);
    Ok(LaneFigures {
        files,
        commits: commits.len(),
        repetitions,
        pooled_reset_ms,
        fresh_add_ms,
        fresh_remove_ms: median(&mut removes),
        speedup: if pooled_reset_ms > 0.0 {
            fresh_add_ms / pooled_reset_ms
        } else {
            0.0
        },
        setup_ms,
    })
}

/// A repository of `files` small files in directories of [`FILES_PER_DIR`], with an initial
/// commit and three more that each change about 1% of the files and add a few. Returns the
/// commits, oldest first.
async fn generate_repo(repo: &Path, files: usize) -> anyhow::Result<(Git, Vec<Oid>)> {
    let git = Git::init(repo, "main").await?;
    let root = git.root().to_path_buf();
    let write = |i: usize, version: usize| -> anyhow::Result<()> {
        let dir = root.join(format!("src/d{:03}", i / FILES_PER_DIR));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("f{i:05}.txt"));
        let body = format!("file {i}, version {version}\n{}\n", "x".repeat(64));
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))
    };
    for i in 0..files {
        write(i, 0)?;
    }
    let mut commits = vec![git.commit_all(&root, "bench: generated files").await?];
    let step = 100;
    for version in 1..=3 {
        for i in (version..files).step_by(step) {
            write(i, version)?;
        }
        for extra in 0..10 {
            write(files + version * 10 + extra, version)?;
        }
        let message = format!("bench: change {version}");
        commits.push(git.commit_all(&root, &message).await?);
    }
    Ok((git, commits))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[tokio::test]
    async fn a_small_repository_gives_lane_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let figures = lanes(tmp.path(), 150, 2).await.unwrap();
        assert_eq!(figures.commits, 4);
        assert!(figures.pooled_reset_ms > 0.0);
        assert!(figures.fresh_add_ms > 0.0);
    }
}
