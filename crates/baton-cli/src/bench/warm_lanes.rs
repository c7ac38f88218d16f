//! Warm lanes: what keeping `target/` in pooled lanes saves on a real Rust crate. A small
//! crate depending on serde (derive), serde_json, regex and globset, with unit tests using
//! them, gets one-line `exec` tasks (each changes one constant in its own module) gated by
//! `cargo test` in the lane and on the would-be merge. The same two runs are measured twice:
//! in a repository whose `baton.toml` says `[lanes] pristine = true` (every gate compiles from
//! scratch) and in one with the default warm lanes, where the second run finds the first run's
//! `target/` in every lane (same `$BATON_HOME`, so the same lane pool).
//!
//! Everything resolves offline: the dependencies are pinned to versions in cargo's registry
//! cache, `Cargo.lock` is generated once (`cargo generate-lockfile --offline`) and committed,
//! and the gate runs `cargo test --offline --locked`. Cargo uses the user's `CARGO_HOME`,
//! which the generated `baton.toml` makes writable to gates (cargo takes its package-cache lock
//! there even offline), and the crate's own `target/` inside the lane.

use super::engine_runs::{Driven, Expect, drive_run, init_repo, retried, write_files};
use anyhow::{Context, bail};
use baton_engine::{Engine, Home};
use baton_exec::{CommandSpec, run_captured};
use baton_protocol::EventBody;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The dependencies of the bench crate, pinned to versions cargo's registry cache holds.
const DEPENDENCIES: &str = r#"serde = { version = "=1.0.229", features = ["derive"] }
serde_json = "=1.0.154"
regex = "=1.13.2"
globset = "=0.4.22"
"#;

/// The gate of every task and of every merge. An inherited `CARGO_TARGET_DIR` (set when the
/// bench itself runs under `cargo run`) would send every lane's build to one shared directory
/// outside the lanes, which the sandbox refuses and which would defeat the point: each lane
/// builds in its own `target/`.
const GATE: &str =
    "unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR; cargo test --offline --locked --quiet";

/// Lanes of every run.
const LANES: u32 = 2;

/// Modules of the bench crate; task `i` edits module `i`. A full run has a task per module.
const MODULES: usize = 4;

/// Tasks per run of `--quick`.
const QUICK_TASKS: usize = 2;

/// The bar: the warm second run at least this many times faster than the cold second run.
pub const SPEEDUP_BAR: f64 = 3.0;

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct WarmRun {
    /// From just before the run's creation to its end.
    pub wall_secs: f64,
    /// Gates that ran (task gates and merge gates), not counting cache hits.
    pub gate_runs: usize,
    /// Gates taken from the gate-result cache (same gate, same tree).
    pub gate_cache_hits: usize,
    /// Sum of the durations of the gates that ran.
    pub gate_secs: f64,
    /// Tasks that needed more than one attempt (any is a problem: the edits cannot fail).
    pub retried_tasks: usize,
}

/// Figures of the warm-lanes bench.
#[derive(Debug, Clone, Serialize)]
pub struct WarmLaneFigures {
    pub tasks: usize,
    pub lanes: u32,
    /// `[lanes] pristine = true`: the first run, then a second one in the same repository.
    pub cold_run1: WarmRun,
    pub cold_run2: WarmRun,
    /// Default warm lanes: the first run, then a second one reusing the lane pool.
    pub warm_run1: WarmRun,
    pub warm_run2: WarmRun,
    /// warm run 2 wall time over cold run 2 wall time.
    pub warm2_over_cold2: f64,
    /// warm run 2 wall time over warm run 1 wall time.
    pub warm2_over_warm1: f64,
    /// cold run 2 over warm run 2: how many times faster the warm second run was.
    pub speedup: f64,
    /// The bar `speedup` is meant to reach.
    pub speedup_bar: f64,
}

impl WarmLaneFigures {
    /// Whether the warm second run was fast enough.
    pub fn met(&self) -> bool {
        self.speedup >= SPEEDUP_BAR
    }
}

/// The figures as text; `verdict` says whether the bar was met.
pub fn render(f: &WarmLaneFigures, verdict: &str) -> String {
    let row = |name: &str, r: &WarmRun| {
        format!(
            "  {name:<11} {:>7.1}s {:>6} {:>7.1}s {:>7}\n",
            r.wall_secs, r.gate_runs, r.gate_secs, r.gate_cache_hits
        )
    };
    let mut out = format!(
        "\nWarm lanes: {} one-line tasks on {} lanes, `cargo test` as task and merge gate \
         (serde, serde_json, regex, globset)\n  {:<11} {:>8} {:>6} {:>8} {:>7}\n",
        f.tasks, f.lanes, "run", "wall", "gates", "in gates", "cached"
    );
    out.push_str(&row("cold run 1", &f.cold_run1));
    out.push_str(&row("cold run 2", &f.cold_run2));
    out.push_str(&row("warm run 1", &f.warm_run1));
    out.push_str(&row("warm run 2", &f.warm_run2));
    out.push_str(&format!(
        "  cold: `[lanes] pristine = true`; warm: default lanes, run 2 reuses run 1's lanes and \
         target/\n  warm2/cold2 {:.2}, warm2/warm1 {:.2}: warm run 2 {:.1}x faster than cold run \
         2 (bar >= {:.0}x): {verdict}\n",
        f.warm2_over_cold2, f.warm2_over_warm1, f.speedup, f.speedup_bar
    ));
    let retried = [&f.cold_run1, &f.cold_run2, &f.warm_run1, &f.warm_run2]
        .iter()
        .map(|r| r.retried_tasks)
        .sum::<usize>();
    if retried > 0 {
        out.push_str(&format!(
            "  {retried} task(s) needed a retry (a problem: the edits cannot fail)\n"
        ));
    }
    out
}

/// Runs the bench in `dir`: four runs of 4 tasks each (2 with `quick`).
pub async fn warm_lanes(dir: &Path, quick: bool) -> anyhow::Result<WarmLaneFigures> {
    let tasks = if quick { QUICK_TASKS } else { MODULES };
    let cargo_home = cargo_home()?;
    let lockfile = generate_lockfile(&dir.join("lockfile")).await?;
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for (pristine, out) in [(true, &mut cold), (false, &mut warm)] {
        let kind = if pristine { "cold" } else { "warm" };
        let here = dir.join(kind);
        let repo = here.join("repo");
        let config = baton_toml(&cargo_home, pristine);
        let mut files = crate_files();
        files.push(("Cargo.lock".into(), lockfile.clone()));
        files.push(("baton.toml".into(), config));
        init_repo(&repo, &borrowed(&files)).await?;
        // One engine per `baton run`, on one `$BATON_HOME`: the lane pool outlives the run.
        for run in 1..=2 {
            let engine = Engine::open(Home::new(here.join("home"))).await?;
            let label = format!("warm-lanes {kind} run {run}");
            let yaml = plan(tasks, run);
            let plan_path = here.join(format!("plan-{run}.yaml"));
            let driven =
                drive_run(&engine, &repo, &plan_path, &yaml, &label, Expect::AllMerged).await?;
            let figures = measure_run(&engine, &driven).await?;
            eprintln!(
                "{label}: {:.1} s ({} gate runs, {:.1} s of gates, {} cached)",
                figures.wall_secs, figures.gate_runs, figures.gate_secs, figures.gate_cache_hits
            );
            out.push(figures);
        }
    }
    let [cold_run1, cold_run2] = two(cold)?;
    let [warm_run1, warm_run2] = two(warm)?;
    let over = |a: &WarmRun, b: &WarmRun| a.wall_secs / b.wall_secs.max(f64::EPSILON);
    Ok(WarmLaneFigures {
        tasks,
        lanes: LANES,
        warm2_over_cold2: over(&warm_run2, &cold_run2),
        warm2_over_warm1: over(&warm_run2, &warm_run1),
        speedup: over(&cold_run2, &warm_run2),
        speedup_bar: SPEEDUP_BAR,
        cold_run1,
        cold_run2,
        warm_run1,
        warm_run2,
    })
}

fn two(runs: Vec<WarmRun>) -> anyhow::Result<[WarmRun; 2]> {
    runs.try_into()
        .map_err(|runs: Vec<WarmRun>| anyhow::anyhow!("expected 2 runs, measured {}", runs.len()))
}

/// Gate figures of a finished run, from its events.
async fn measure_run(engine: &Engine, driven: &Driven) -> anyhow::Result<WarmRun> {
    let events = engine.store().events(&driven.run, 0, u32::MAX).await?;
    let (mut gate_runs, mut gate_cache_hits, mut gate_ms) = (0, 0, 0u64);
    for event in &events {
        if let EventBody::GateFinished {
            cached,
            duration_ms,
            ..
        } = event.body
        {
            if cached {
                gate_cache_hits += 1;
            } else {
                gate_runs += 1;
                gate_ms += duration_ms;
            }
        }
    }
    Ok(WarmRun {
        wall_secs: driven.wall.as_secs_f64(),
        gate_runs,
        gate_cache_hits,
        gate_secs: gate_ms as f64 / 1000.0,
        retried_tasks: retried(&engine.report(&driven.run).await?),
    })
}

/// The plan of run `run`: task `i` sets module `i`'s constant to a value of this run, so the
/// two runs' trees differ and every gate has something to compile.
pub fn plan(tasks: usize, run: usize) -> String {
    let mut yaml = format!(
        "version: 1\ngoal: \"bench: warm lanes, run {run}\"\nbase: main\nlanes: {LANES}\n\
         gates:\n  test: \"{GATE}\"\nmerge_gates: [test]\ntasks:\n"
    );
    for i in 0..tasks {
        let value = run * 100 + i + 1;
        let file = format!("src/m{i}.rs");
        // Writing a string to a String cannot fail.
        let _ = writeln!(yaml, "  - id: m{i}");
        let _ = writeln!(yaml, "    run: \"{}\"", edit_command(i, value));
        let _ = writeln!(yaml, "    claims: [\"{file}\"]");
        let _ = writeln!(yaml, "    gates: [test]");
        let _ = writeln!(yaml, "    estimate: 20s");
        // As in the other engine benches: a transient failure costs a retry, which is counted,
        // instead of the whole measurement.
        let _ = writeln!(yaml, "    retries: 1");
    }
    yaml
}

/// The command of task `i`: sets module `i`'s constant to `value`, and fails when it did not.
fn edit_command(i: usize, value: usize) -> String {
    let file = format!("src/m{i}.rs");
    format!(
        "sed -i 's/^pub const LIMIT: u32 = [0-9]*;$/pub const LIMIT: u32 = {value};/' {file} \
         && grep -q 'LIMIT: u32 = {value};' {file}"
    )
}

/// The generated repository's `baton.toml`: cargo's home writable to gates, and for the cold
/// runs, pristine lanes.
fn baton_toml(cargo_home: &Path, pristine: bool) -> String {
    // A JSON string is a valid TOML basic string (same escapes, `\uXXXX` for the rest).
    let home = serde_json::to_string(&cargo_home.to_string_lossy()).unwrap_or_default();
    let mut text = format!("[sandbox]\nwritable = [{home}]\n");
    if pristine {
        text.push_str("\n[lanes]\npristine = true\n");
    }
    text
}

fn borrowed(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect()
}

/// The bench crate's files (without `Cargo.lock`).
fn crate_files() -> Vec<(String, String)> {
    let mut files = vec![
        (
            "Cargo.toml".to_owned(),
            format!(
                "[package]\nname = \"warm-lanes-bench\"\nversion = \"0.1.0\"\nedition = \
                 \"2021\"\npublish = false\n\n[lib]\ndoctest = false\n\n[dependencies]\n\
                 {DEPENDENCIES}"
            ),
        ),
        (".gitignore".to_owned(), "/target\n".to_owned()),
    ];
    let mut lib = String::from("//! The warm-lanes bench crate.\n\n");
    for i in 0..MODULES {
        let _ = writeln!(lib, "pub mod m{i};");
        files.push((format!("src/m{i}.rs"), module_source(i)));
    }
    files.push(("src/lib.rs".to_owned(), lib));
    files
}

/// One module: a constant the tasks change, a serde type, a check by glob and regex, tests.
fn module_source(i: usize) -> String {
    format!(
        r#"//! Module {i} of the warm-lanes bench crate.

use serde::{{Deserialize, Serialize}};

/// The constant a bench task changes.
pub const LIMIT: u32 = 1;

/// A record that goes through JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {{
    pub name: String,
    pub count: u32,
    pub tags: Vec<String>,
}}

/// Whether `name` is a Rust file by glob and by pattern.
pub fn accepts(name: &str) -> bool {{
    let glob = globset::Glob::new("**/*.rs").map(|g| g.compile_matcher());
    let pattern = regex::Regex::new(r"^[a-z0-9_/]+\.rs$");
    matches!((glob, pattern), (Ok(g), Ok(p)) if g.is_match(name) && p.is_match(name))
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn records_round_trip_through_json() {{
        let record = Record {{ name: "src/m{i}.rs".into(), count: LIMIT, tags: vec!["a".into()] }};
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), record);
        assert!(LIMIT > 0);
    }}

    #[test]
    fn names_are_checked_by_glob_and_pattern() {{
        assert!(accepts("src/m{i}.rs"));
        assert!(!accepts("src/M{i}.txt"));
    }}
}}
"#
    )
}

/// The user's cargo home: `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> anyhow::Result<PathBuf> {
    let home = match std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .context("neither CARGO_HOME nor HOME is set: where is cargo's registry?")?;
            PathBuf::from(home).join(".cargo")
        }
    };
    home.canonicalize()
        .with_context(|| format!("cargo home {}", home.display()))
}

/// Generates the crate's `Cargo.lock` offline in `dir` and returns it.
async fn generate_lockfile(dir: &Path) -> anyhow::Result<String> {
    let files = crate_files();
    write_files(dir, &borrowed(&files))?;
    let out = run_captured(
        CommandSpec::new("cargo", dir)
            .args(["generate-lockfile", "--offline"])
            .env_remove("CARGO_TARGET_DIR"),
    )
    .await?;
    if !out.success() {
        bail!(
            "`cargo generate-lockfile --offline` in {} {}: {}\nthe bench needs these crates in \
             cargo's registry cache (run `cargo fetch` once in that directory):\n{DEPENDENCIES}",
            dir.display(),
            out.status,
            out.stderr.trim()
        );
    }
    std::fs::read_to_string(dir.join("Cargo.lock")).context("reading the generated Cargo.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_edits_one_module_per_task_to_its_own_value() {
        for run in 1..=2 {
            let plan = baton_core::parse_plan(&plan(4, run), "warm.yaml").unwrap();
            assert_eq!(plan.tasks.len(), 4);
            assert_eq!(plan.merge_gates, vec!["test".to_owned()]);
        }
        let (one, two) = (plan(2, 1), plan(2, 2));
        assert!(one.contains("LIMIT: u32 = 101;") && one.contains("LIMIT: u32 = 102;"));
        assert!(two.contains("LIMIT: u32 = 201;") && !two.contains("LIMIT: u32 = 101;"));
    }

    #[tokio::test]
    async fn a_task_changes_exactly_one_line_of_its_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        let path = dir.path().join("src/m1.rs");
        std::fs::write(&path, module_source(1)).unwrap();
        let out = run_captured(CommandSpec::shell(edit_command(1, 202), dir.path()))
            .await
            .unwrap();
        assert!(out.success(), "{}", out.stderr);
        let edited = std::fs::read_to_string(&path).unwrap();
        let before = module_source(1);
        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(edited.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            changed,
            vec![("pub const LIMIT: u32 = 1;", "pub const LIMIT: u32 = 202;")]
        );
        assert_eq!(before.lines().count(), edited.lines().count());
    }

    #[test]
    fn the_cold_configuration_keeps_nothing_and_both_let_cargo_write_its_home() {
        let cold = baton_toml(Path::new("/home/u/.cargo"), true);
        let warm = baton_toml(Path::new("/home/u/.cargo"), false);
        assert!(cold.contains("pristine = true"));
        assert!(!warm.contains("pristine"));
        assert!(warm.contains("writable = [\"/home/u/.cargo\"]"));
    }
}
