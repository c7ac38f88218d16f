//! Shared helpers of the crash-safety tests (`crash_resume.rs`, `cancel.rs`): a fixture with its
//! own repository and `BATON_HOME`, a plan of five tasks (a diamond plus one independent task),
//! ways to start, kill and resume the `baton` binary, and [`Fixture::assert_run_is_sound`], the
//! list of properties every run must have after a resume.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use baton_testkit::TestRepo;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The tasks of the plan, in plan order.
pub const TASKS: &[&str] = &["root", "left", "right", "join", "solo"];

/// The task that can be held running (with [`Fixture::with_hold`]) for as long as the test wants.
pub const HELD_TASK: &str = "solo";

/// How long a poll for something the engine will do may take before the test fails.
pub const POLL_LIMIT: Duration = Duration::from_secs(20);

/// How long a `baton` command may take before the test fails (a hang is a failure too).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(90);

#[allow(unused_imports)] // not every test binary that includes this module uses both
pub use baton_testkit::{block_on, poll};

mod plans;
pub use plans::{BATCHED_TASKS, batched_plan_yaml, plan_yaml};

/// What a finished `baton` command said.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test unless the command exited with `code`.
    pub fn expect_code(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "{what}: expected exit code {code}, got {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            tail(&self.stdout),
            tail(&self.stderr)
        );
        self
    }
}

/// The last 60 lines of a text, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// A `baton` process started in the background, its output going to files.
pub struct Running {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// Its exit status if it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Fails the test, with its output, if it has exited.
    pub fn assert_running(&mut self, what: &str) {
        if let Some(status) = self.try_wait() {
            panic!(
                "{what} exited early with {status:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                tail(&read(&self.stdout)),
                tail(&read(&self.stderr))
            );
        }
    }

    /// Kills it with SIGKILL (as `kill -9` would) and waits for it.
    pub fn kill9(mut self) -> Finished {
        // `Child::kill` sends SIGKILL, and never signals a pid it has already reaped (which
        // could belong to another process by now).
        if self.try_wait().is_none() {
            let _ = self.child.kill();
        }
        self.wait(COMMAND_LIMIT)
    }

    /// Waits for it to exit; fails the test (after killing it) if that takes longer than `limit`.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "baton did not exit within {limit:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    tail(&read(&self.stdout)),
                    tail(&read(&self.stderr))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Finished {
            status,
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that fails half-way must not leave an engine behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// What had been achieved when the engine died: checked to be still there after the resume.
#[derive(Debug, Default, Clone)]
pub struct FinishedWork {
    /// Tasks whose agent had ended successfully, with how many times their agent had run.
    pub agents_done: BTreeMap<String, usize>,
    /// Commits baton had recorded for an attempt (task, commit).
    pub commits: Vec<(String, String)>,
    /// Merge commits the integration branch had advanced to.
    pub merges: Vec<String>,
}

impl FinishedWork {
    /// Adds what a later look found; the first count of a finished agent is kept.
    pub fn absorb(&mut self, later: FinishedWork) {
        for (task, runs) in later.agents_done {
            self.agents_done.entry(task).or_insert(runs);
        }
        for commit in later.commits {
            if !self.commits.contains(&commit) {
                self.commits.push(commit);
            }
        }
        for merge in later.merges {
            if !self.merges.contains(&merge) {
                self.merges.push(merge);
            }
        }
    }
}

/// One test's world: a repository, a `BATON_HOME`, a plan, counters of agent runs.
pub struct Fixture {
    pub repo: TestRepo,
    pub home: PathBuf,
    pub plan: PathBuf,
    /// One file per task; each agent run appends a line.
    pub counts: PathBuf,
    /// While this file exists, the held task sleeps 30 s.
    pub hold: PathBuf,
    logs: PathBuf,
    spawned: std::cell::Cell<u32>,
    /// The plan's tasks.
    tasks: &'static [&'static str],
}

impl Fixture {
    /// A fixture whose plan runs straight through.
    pub fn new() -> Fixture {
        Fixture::build(false, None)
    }

    /// A fixture whose merge queue batches, bisects and speculates: see [`batched_plan_yaml`].
    pub fn batched() -> Fixture {
        let mut fixture = Fixture::build(false, None);
        let yaml = batched_plan_yaml(&fixture.counts);
        fixture.plan = fixture.repo.write_plan("batched.yaml", &yaml).unwrap();
        fixture.tasks = BATCHED_TASKS;
        fixture
    }

    /// A fixture whose every task first sleeps `pace` (e.g. `"0.2"`), so that a run lasts long
    /// enough for random kills to land everywhere.
    pub fn paced(pace: &str) -> Fixture {
        Fixture::build(false, Some(pace))
    }

    /// A fixture whose task [`HELD_TASK`] sleeps 30 s while the hold file exists (it does until
    /// [`Fixture::release_hold`]).
    pub fn with_hold() -> Fixture {
        Fixture::build(true, None)
    }

    fn build(hold: bool, pace: Option<&str>) -> Fixture {
        let repo = block_on(TestRepo::new()).unwrap();
        let tmp = repo.tmp().to_path_buf();
        let home = tmp.join("baton-home");
        let counts = tmp.join("agent-runs");
        let logs = tmp.join("baton-output");
        let hold_file = tmp.join("hold");
        for dir in [&home, &counts, &logs] {
            std::fs::create_dir_all(dir).unwrap();
        }
        if hold {
            std::fs::write(&hold_file, "hold\n").unwrap();
        }
        // Agents count their runs in `counts`, outside their lanes: let them write there
        // (baton.toml stays untracked and git-ignored, out of commits and lanes).
        std::fs::write(
            repo.path().join("baton.toml"),
            format!("[sandbox]\nwritable = [{:?}]\n", counts.to_str().unwrap()),
        )
        .unwrap();
        let exclude = repo.path().join(".git/info/exclude");
        let ignored = std::fs::read_to_string(&exclude).unwrap_or_default();
        std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
        std::fs::write(&exclude, format!("{ignored}/baton.toml\n")).unwrap();
        let yaml = plan_yaml(&counts, &hold_file, pace);
        let plan = repo.write_plan("crash.yaml", &yaml).unwrap();
        Fixture {
            repo,
            home,
            plan,
            counts,
            hold: hold_file,
            logs,
            spawned: std::cell::Cell::new(0),
            tasks: TASKS,
        }
    }

    /// Lets the held task finish the next time it runs (a running `sleep 30` is not touched).
    pub fn release_hold(&self) {
        let _ = std::fs::remove_file(&self.hold);
    }

    /// A `baton` command with this fixture's home and an isolated git configuration.
    pub fn baton(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
        command
            .env("BATON_HOME", &self.home)
            // The user's own ~/.config/baton never reaches a test.
            .env("XDG_CONFIG_HOME", self.repo.tmp().join("user-config"))
            .env_remove("BATON_CONFIG")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("BATON_FAILPOINT")
            .env_remove("BATON_RUN_ID")
            .stdin(Stdio::null());
        command
    }

    /// Starts `baton` with `args` in the background; `failpoint` arms a fail point.
    pub fn spawn(&self, args: &[&str], failpoint: Option<&str>) -> Running {
        let n = self.spawned.get() + 1;
        self.spawned.set(n);
        let stdout = self.logs.join(format!("{n}.stdout"));
        let stderr = self.logs.join(format!("{n}.stderr"));
        let mut command = self.baton();
        command
            .args(args)
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap());
        if let Some(point) = failpoint {
            command.env("BATON_FAILPOINT", point);
        }
        Running {
            child: command.spawn().unwrap(),
            stdout,
            stderr,
        }
    }

    /// Starts `baton run` on the plan.
    pub fn spawn_run(&self, failpoint: Option<&str>) -> Running {
        let repo = self.repo.path().to_string_lossy().into_owned();
        let plan = self.plan.to_string_lossy().into_owned();
        self.spawn(&["--repo", &repo, "run", "--plan", &plan], failpoint)
    }

    /// Starts `baton resume RUN`.
    pub fn spawn_resume(&self, run: &str) -> Running {
        self.spawn(&["resume", run], None)
    }

    /// Runs `baton` with `args` to its end.
    pub fn baton_done(&self, args: &[&str]) -> Finished {
        self.spawn(args, None).wait(COMMAND_LIMIT)
    }

    /// `baton resume RUN`, which must complete the run with exit code 0.
    pub fn resume_to_completion(&self, run: &str) -> Finished {
        let done = self.baton_done(&["resume", run]);
        if done.code() != Some(0) {
            panic!(
                "baton resume {run} exited with {:?}\n--- stderr ---\n{}\n--- events ---\n{}",
                done.status,
                tail(&done.stderr),
                self.events_text(run)
            );
        }
        done
    }

    fn json(&self, args: &[&str]) -> Value {
        let done = self.baton_done(args);
        done.expect_code(0, &format!("baton {}", args.join(" ")));
        serde_json::from_str(&done.stdout).unwrap_or_else(|e| {
            panic!(
                "baton {} printed no JSON ({e}):\n{}",
                args.join(" "),
                done.stdout
            )
        })
    }

    /// The id of the fixture's run, if `baton run` got as far as creating it.
    pub fn run_id(&self) -> Option<String> {
        let runs = self.json(&["status", "--json"]);
        let runs = runs.as_array().unwrap();
        assert!(runs.len() <= 1, "one run expected, found {runs:#?}");
        runs.first().map(|r| r["id"].as_str().unwrap().to_string())
    }

    /// The id of the run, which must exist.
    pub fn the_run(&self) -> String {
        self.run_id()
            .expect("baton status --json lists no run after baton run was started")
    }

    /// `baton status RUN --json`.
    pub fn status(&self, run: &str) -> Value {
        self.json(&["status", run, "--json"])
    }

    /// The run's status word.
    pub fn run_status(&self, run: &str) -> String {
        self.status(run)["status"].as_str().unwrap().to_string()
    }

    /// `baton report RUN --format json`.
    pub fn report(&self, run: &str) -> Value {
        self.json(&["report", run, "--format", "json"])
    }

    /// `baton lanes --json`.
    pub fn lanes(&self) -> Vec<Value> {
        self.json(&["--json", "lanes"]).as_array().unwrap().clone()
    }

    /// The run's events, as printed by `baton events RUN`.
    pub fn events(&self, run: &str) -> Vec<Value> {
        self.events_text(run)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn events_text(&self, run: &str) -> String {
        self.baton_done(&["events", run]).stdout
    }

    /// The process group of the latest agent process of `task`, once it was recorded.
    pub fn agent_group(&self, run: &str, task: &str) -> Option<i32> {
        self.events(run)
            .iter()
            .rev()
            .find(|e| e["type"] == "attempt.process" && e["task"] == task)
            .map(|e| i32::try_from(e["data"]["pgid"].as_i64().unwrap()).unwrap())
    }

    /// Waits until `task`'s agent runs under `engine`, and returns its process group.
    pub fn wait_for_agent(&self, engine: &mut Running, run: &str, task: &str) -> i32 {
        poll(
            &format!("the agent of task {task} to start"),
            POLL_LIMIT,
            || {
                engine.assert_running("baton run");
                self.agent_group(run, task)
                    .filter(|pgid| baton_exec::group_alive(*pgid))
            },
        )
    }

    /// Waits until `engine` (a `baton run`) has created its run and returns its id.
    pub fn wait_for_run(&self, engine: &mut Running) -> String {
        poll("baton run to create its run", POLL_LIMIT, || {
            engine.assert_running("baton run");
            self.run_id()
        })
    }

    /// How many times the agent of `task` ran (started).
    pub fn agent_runs(&self, task: &str) -> usize {
        std::fs::read_to_string(self.counts.join(task))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// What the run had achieved so far (call it while no engine runs).
    pub fn finished_work(&self, run: &str) -> FinishedWork {
        let mut work = FinishedWork::default();
        for event in self.events(run) {
            let task = event["task"].as_str().unwrap_or_default().to_string();
            match event["type"].as_str().unwrap_or_default() {
                "attempt.agent_ended" => {
                    let end = &event["data"]["end"];
                    if end["kind"] == "exited" && end["code"] == 0 {
                        let runs = self.agent_runs(&task);
                        work.agents_done.insert(task, runs);
                    }
                }
                "attempt.committed" => {
                    let commit = event["data"]["commit"].as_str().unwrap().to_string();
                    work.commits.push((task, commit));
                }
                "integration.advanced" => {
                    work.merges
                        .push(event["data"]["to"].as_str().unwrap().to_string());
                }
                _ => {}
            }
        }
        work
    }

    /// Every property the product promises for a run after a crash and a resume:
    /// - the run is completed and every task merged;
    /// - each task is integrated exactly once: one non-merge commit with its `Baton-Task`
    ///   trailer between the base and the integration head, and its file is there;
    /// - the integration branch's first-parent chain from its head back to the base consists only
    ///   of merge commits that the report shows as merged items whose merge gates passed;
    /// - work finished before the crash was kept: no finished agent ran again, recorded commits
    ///   and merges are on the integration branch;
    /// - no process of the run is alive;
    /// - every worktree besides the main one is a lane under `$BATON_HOME/lanes` that
    ///   `baton lanes` lists, and it is clean.
    pub fn assert_run_is_sound(&self, run: &str, before: &FinishedWork) {
        let events = || self.events_text(run);
        let status = self.status(run);
        assert_eq!(
            status["status"],
            "completed",
            "run {run} is not completed: {status:#}\n--- events ---\n{}",
            events()
        );
        for task in status["tasks"].as_array().unwrap() {
            assert_eq!(task["status"], "merged", "task not merged: {task:#}");
        }

        let report = self.report(run);
        let base: baton_git::Oid = report["base_commit"].as_str().unwrap().parse().unwrap();
        let integration = format!("refs/heads/baton/{run}/integration");
        let git = self.repo.git();
        let head = block_on(git.resolve_commit(&integration))
            .unwrap()
            .unwrap_or_else(|| panic!("{integration} is missing"));
        assert_eq!(
            report["integration_head"].as_str(),
            Some(head.as_str()),
            "the report's integration head differs from git's"
        );
        let commits = block_on(git.commits(&format!("{base}..{head}"))).unwrap();

        // Each task integrated exactly once.
        let mut per_task: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for commit in commits.iter().filter(|c| c.parents.len() == 1) {
            let task = commit.trailer("Baton-Task").unwrap_or_else(|| {
                panic!(
                    "non-merge commit {} ({}) on the integration branch has no Baton-Task trailer",
                    commit.oid, commit.subject
                )
            });
            per_task
                .entry(task.to_string())
                .or_default()
                .push(commit.oid.to_string());
        }
        for task in self.tasks {
            let found = per_task.get(*task).cloned().unwrap_or_default();
            assert_eq!(
                found.len(),
                1,
                "task {task} must have exactly one commit on the integration branch, found {found:?}\n--- events ---\n{}",
                events()
            );
            let text =
                block_on(self.repo.read_at(head.as_str(), &format!("out/{task}.txt"))).unwrap();
            assert_eq!(
                text.as_deref(),
                Some(format!("{task}\n").as_str()),
                "the file of task {task} at the integration head"
            );
        }
        assert_eq!(
            per_task.len(),
            self.tasks.len(),
            "commits of unknown tasks: {per_task:?}"
        );

        // The integration branch moved only to gate-passed merge commits.
        let items = report["merge_queue"].as_array().unwrap();
        let mut merged_items: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for item in items.iter().filter(|i| i["status"] == "merged") {
            let commit = item["merge_commit"].as_str().unwrap().to_string();
            let previous = merged_items.insert(
                commit.clone(),
                (
                    item["item"].as_i64().unwrap(),
                    item["task"].as_str().unwrap().to_string(),
                ),
            );
            assert!(previous.is_none(), "two merged items share {commit}");
        }
        // The head only ever moved to the tip of a batch whose merge gates passed, so walking
        // the first-parent chain down from the head, every merge commit belongs to the passed
        // batch whose tip is the nearest batch tip at or above it.
        let batches = report["batches"].as_array().unwrap();
        let passed_tip = |commit: &str| {
            batches.iter().find(|b| {
                b["tip"] == commit
                    && b["outcome"] == "passed"
                    && b["gate_runs"].as_u64().unwrap() + b["cache_hits"].as_u64().unwrap() > 0
            })
        };
        let by_oid: BTreeMap<String, &baton_git::CommitInfo> =
            commits.iter().map(|c| (c.oid.to_string(), c)).collect();
        let mut chain = Vec::new();
        let mut at = head.to_string();
        let mut covering: Option<&Value> = None;
        while at != base.as_str() {
            let commit = by_oid.get(&at).unwrap_or_else(|| {
                panic!("first-parent chain of {integration} leaves base..head at {at}")
            });
            assert_eq!(
                commit.parents.len(),
                2,
                "integration commit {at} ({}) is not a merge commit",
                commit.subject
            );
            let (item, task) = merged_items.get(&at).unwrap_or_else(|| {
                panic!(
                    "integration commit {at} is not the merge commit of a merged item: {items:#?}"
                )
            });
            if let Some(batch) = passed_tip(&at) {
                covering = Some(batch);
            }
            let batch = covering.unwrap_or_else(|| {
                panic!("the integration head {head} is not the tip of a gate-passed batch: {batches:#?}")
            });
            assert!(
                batch["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i.as_i64() == Some(*item)),
                "merge item {item} (task {task}, commit {at}) is not in the gate-passed batch \
                 above it: {batch:#}"
            );
            chain.push(at.clone());
            at = commit.parents[0].to_string();
        }
        assert_eq!(
            chain.len(),
            self.tasks.len(),
            "one merge per task on the first-parent chain"
        );

        // Nothing that had finished was lost or redone (a task the merge gates sent back runs
        // again once per rejection, and what is integrated is its later commit).
        let rejections = |task: &str| {
            items
                .iter()
                .filter(|i| i["task"] == task && i["status"] == "failed")
                .count()
        };
        for (task, runs) in &before.agents_done {
            let now = self.agent_runs(task);
            assert!(
                now == *runs || (now > *runs && now <= *runs + rejections(task)),
                "the agent of task {task} had finished before the crash but ran again\n--- events ---\n{}",
                events()
            );
        }
        for (task, commit) in &before.commits {
            if rejections(task) > 0 {
                continue;
            }
            assert_eq!(
                per_task.get(task).and_then(|c| c.first()),
                Some(commit),
                "task {task}'s commit made before the crash is not the one integrated"
            );
        }
        for merge in &before.merges {
            assert!(
                chain.contains(merge),
                "merge {merge} made before the crash is gone from the integration branch"
            );
        }

        // No process of the run survives.
        let alive = poll_gone(run);
        assert!(
            alive.is_empty(),
            "processes of run {run} are still alive: {alive:?}"
        );

        self.assert_lanes_are_clean();
    }

    /// Every worktree besides the main one is a tracked lane under `$BATON_HOME/lanes`, clean.
    pub fn assert_lanes_are_clean(&self) {
        let lanes_root = std::fs::canonicalize(self.home.join("lanes")).ok();
        let tracked: BTreeSet<PathBuf> = self
            .lanes()
            .iter()
            .map(|l| canonical(Path::new(l["path"].as_str().unwrap())))
            .collect();
        let worktrees = block_on(self.repo.git().worktrees()).unwrap();
        let main = canonical(self.repo.path());
        for worktree in worktrees {
            let path = canonical(&worktree.path);
            if path == main {
                continue;
            }
            assert!(
                !worktree.prunable,
                "worktree {} is registered but gone",
                path.display()
            );
            assert!(
                lanes_root
                    .as_ref()
                    .is_some_and(|root| path.starts_with(root)),
                "worktree {} is not under $BATON_HOME/lanes",
                path.display()
            );
            assert!(
                tracked.contains(&path),
                "worktree {} is not listed by baton lanes: {tracked:?}",
                path.display()
            );
            let out = Command::new("git")
                .arg("-C")
                .arg(&path)
                .args(["status", "--porcelain", "--untracked-files=all"])
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git status failed in {}",
                path.display()
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "",
                "lane {} is dirty",
                path.display()
            );
        }
    }
}

/// The processes still carrying `BATON_RUN_ID=run`, after giving dying ones a moment.
pub fn poll_gone(run: &str) -> Vec<baton_exec::ProcessInfo> {
    let start = Instant::now();
    loop {
        let alive = baton_exec::find_processes_with_env(baton_agents::ENV_RUN_ID, run);
        if alive.is_empty() || start.elapsed() > Duration::from_secs(2) {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a process group has no live member any more, after giving it a moment to die.
pub fn group_gone(pgid: i32) -> bool {
    let start = Instant::now();
    loop {
        if !baton_exec::group_alive(pgid) {
            return true;
        }
        if start.elapsed() > Duration::from_secs(2) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Asserts that a process was killed by SIGKILL.
pub fn assert_killed(done: &Finished, what: &str) {
    assert_eq!(
        done.status.signal(),
        Some(9),
        "{what}: expected death by SIGKILL, got {:?}\n--- stderr ---\n{}",
        done.status,
        tail(&done.stderr)
    );
}
