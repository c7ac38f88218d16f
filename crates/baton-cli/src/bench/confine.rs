//! The cost of confinement: spawn-to-exit time of `true`, confined by Landlock as agents and
//! gates are, against unconfined, alternating so that drift hits both alike.

use baton_exec::{CommandSpec, Confinement, landlock_support, run_captured};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs of each kind before measuring (page cache, first fork).
const WARM_UP: usize = 10;

/// Confinement cost figures.
#[derive(Debug, Clone, Serialize)]
pub struct ConfineFigures {
    /// Measured runs of each kind.
    pub runs: usize,
    /// What the kernel enforces (for example "Landlock ABI 7 (full)").
    pub landlock: String,
    /// Mean spawn-to-exit time of unconfined `true`.
    pub unconfined_mean_ms: f64,
    /// Mean spawn-to-exit time of confined `true` (the ruleset built for each spawn).
    pub confined_mean_ms: f64,
    /// confined over unconfined.
    pub ratio: f64,
}

/// Measures `runs` confined and `runs` unconfined spawns of `true` in `dir`.
pub async fn confine(dir: &Path, runs: usize) -> anyhow::Result<ConfineFigures> {
    let lane = dir.join("lane");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&lane)?;
    std::fs::create_dir_all(&tmp)?;
    // What an attempt gets: its lane, a private TMPDIR, git's writable parts, the devices.
    let confinement = Confinement::new()
        .writable(&lane)
        .temp_dir(&tmp)
        .writable(dir.join("git/objects"))
        .writable(dir.join("git/refs"))
        .writable(dir.join("git/logs"));
    let mut confined = Duration::ZERO;
    let mut unconfined = Duration::ZERO;
    for i in 0..WARM_UP + runs {
        let free = time(CommandSpec::new("true", &lane)).await?;
        let boxed = time(CommandSpec::new("true", &lane).confine(confinement.clone())).await?;
        if i >= WARM_UP {
            unconfined += free;
            confined += boxed;
        }
    }
    let mean = |total: Duration| total.as_secs_f64() * 1000.0 / runs.max(1) as f64;
    let (unconfined_mean_ms, confined_mean_ms) = (mean(unconfined), mean(confined));
    Ok(ConfineFigures {
        runs,
        landlock: landlock_support().to_string(),
        unconfined_mean_ms,
        confined_mean_ms,
        ratio: confined_mean_ms / unconfined_mean_ms.max(f64::EPSILON),
    })
}

/// Spawn-to-exit time of one command, which must succeed.
async fn time(spec: CommandSpec) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let out = run_captured(spec).await?;
    let took = began.elapsed();
    anyhow::ensure!(out.success(), "`true` {}: {}", out.status, out.stderr);
    Ok(took)
}
