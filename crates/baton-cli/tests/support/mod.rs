//! Shared helpers of the behaviour tests (`behaviour.rs`, `bad_input.rs`): a [`Baton`] fixture
//! with its own real git repository and its own `BATON_HOME`, a way to run the real `baton`
//! binary against them with a deadline, and readers for what baton and git say afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod agents;

use baton_testkit::TestRepo;
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long one `baton` or `git` command may take before the test fails (a hang is a failure).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(90);

/// How long a poll for something that must happen soon may take.
pub const POLL_LIMIT: Duration = Duration::from_secs(10);

/// Exit codes of `baton`.
pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const BAD_INPUT: i32 = 2;

#[allow(unused_imports)] // not every test binary that includes this module uses both
pub use baton_testkit::{block_on, poll};

/// The last 80 lines of a text, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

/// What a finished command said.
#[derive(Debug)]
pub struct Finished {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test, showing the output, unless the command exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "`{}`: expected exit code {code}, got {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.status,
            tail(&self.stdout),
            tail(&self.stderr)
        );
        self
    }

    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e}):\n{}\n--- stderr ---\n{}",
                self.what,
                tail(&self.stdout),
                tail(&self.stderr)
            )
        })
    }

    /// stdout and stderr together, for searching messages.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `command` to its end with its output in files (no pipe can fill up), failing the test
/// if it takes longer than [`COMMAND_LIMIT`].
pub fn run_with_deadline(mut command: Command, what: String, scratch: &Path) -> Finished {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::fs::create_dir_all(scratch).unwrap();
    let out_path = scratch.join(format!("cmd-{n}.out"));
    let err_path = scratch.join(format!("cmd-{n}.err"));
    command
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > COMMAND_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{what}` did not finish within {COMMAND_LIMIT:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                tail(&std::fs::read_to_string(&out_path).unwrap_or_default()),
                tail(&std::fs::read_to_string(&err_path).unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Finished {
        what,
        status,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// A real repository (branch `main`, a `README.md` commit) and a `BATON_HOME` of its own, both
/// in one temporary directory that is deleted on drop.
pub struct Baton {
    pub repo: TestRepo,
    pub home: PathBuf,
}

impl Default for Baton {
    fn default() -> Self {
        Self::new()
    }
}

impl Baton {
    pub fn new() -> Baton {
        let repo = block_on(TestRepo::new()).unwrap();
        let home = repo.tmp().join("baton-home");
        Baton { repo, home }
    }

    /// The repository's main worktree.
    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// A scratch directory outside the repository (for locks, markers, copies of files).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.repo.tmp().join("scratch").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes `text` as the repository's `baton.toml`, untracked and git-ignored (so commits
    /// and lanes do not see it).
    #[allow(dead_code)] // not every test binary sets a configuration
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.path().join("baton.toml"), text).unwrap();
        std::fs::write(self.path().join(".git/info/exclude"), "/baton.toml\n").unwrap();
    }

    /// A scratch directory that tasks may write to although agents and gates are confined to
    /// their lanes: it is added to `[sandbox] writable` of a `baton.toml` in the main worktree
    /// (untracked and git-ignored, so commits and lanes do not see it).
    pub fn writable_scratch(&self, name: &str) -> PathBuf {
        let dir = self.scratch(name);
        let config = self.path().join("baton.toml");
        let mut dirs: Vec<String> = match std::fs::read_to_string(&config) {
            Ok(text) => text
                .lines()
                .filter_map(|l| l.strip_prefix("  "))
                .map(|l| l.trim_end_matches(',').to_string())
                .collect(),
            Err(_) => Vec::new(),
        };
        dirs.push(format!("{:?}", dir.to_str().unwrap()));
        let body: String = dirs.iter().map(|d| format!("  {d},\n")).collect();
        std::fs::write(&config, format!("[sandbox]\nwritable = [\n{body}]\n")).unwrap();
        let exclude = self.path().join(".git/info/exclude");
        let ignored = std::fs::read_to_string(&exclude).unwrap_or_default();
        if !ignored.lines().any(|l| l == "/baton.toml") {
            std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
            std::fs::write(&exclude, format!("{ignored}/baton.toml\n")).unwrap();
        }
        dir
    }

    /// Writes `content` to `rel` in the main worktree and commits everything.
    pub fn commit_file(&self, rel: &str, content: &str, message: &str) -> String {
        self.repo.write(rel, content).unwrap();
        block_on(self.repo.commit(message)).unwrap().to_string()
    }

    /// Writes a plan file next to (not inside) the repository.
    pub fn plan(&self, name: &str, yaml: &str) -> PathBuf {
        self.repo.write_plan(name, yaml).unwrap()
    }

    /// `baton ARGS` in the repository, with this fixture's `BATON_HOME`.
    pub fn baton(&self, args: &[&str]) -> Finished {
        self.baton_in(self.path(), args)
    }

    /// `baton ARGS` in `dir`, with this fixture's `BATON_HOME`.
    pub fn baton_in(&self, dir: &Path, args: &[&str]) -> Finished {
        self.baton_with_env(dir, args, &[])
    }

    /// `baton ARGS` in `dir`, with this fixture's `BATON_HOME` and the variables `env` on top.
    pub fn baton_with_env(&self, dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Finished {
        let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
        command
            .args(args)
            .current_dir(dir)
            .env("BATON_HOME", &self.home)
            // The user's own ~/.config/baton never reaches a test.
            .env("XDG_CONFIG_HOME", self.repo.tmp().join("user-config"))
            .env_remove("BATON_CONFIG")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("BATON_LOG")
            .env_remove("BATON_FAILPOINTS")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        for (key, value) in env {
            command.env(key, value);
        }
        run_with_deadline(
            command,
            format!("baton {}", args.join(" ")),
            &self.repo.tmp().join("output"),
        )
    }

    /// `baton ARGS` started in the background in the repository (stdout and stderr discarded,
    /// stderr piped); the caller waits for it.
    pub fn spawn_baton(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(args)
            .current_dir(self.path())
            .env("BATON_HOME", &self.home)
            // The user's own ~/.config/baton never reaches a test.
            .env("XDG_CONFIG_HOME", self.repo.tmp().join("user-config"))
            .env_remove("BATON_CONFIG")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("BATON_LOG")
            .env_remove("BATON_FAILPOINT")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits for a child started by [`Baton::spawn_baton`] and returns its exit code, failing
    /// the test after [`COMMAND_LIMIT`].
    pub fn wait_child(&self, child: &mut std::process::Child, what: &str) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > COMMAND_LIMIT {
                let _ = child.kill();
                panic!("{what} did not finish within {COMMAND_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `git ARGS` in the repository; fails the test unless it succeeds. Returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let finished = self.git_status(args);
        finished.expect_code(0);
        finished.stdout
    }

    /// `git ARGS` in the repository, whatever its exit code.
    pub fn git_status(&self, args: &[&str]) -> Finished {
        let mut command = Command::new("git");
        command
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        run_with_deadline(
            command,
            format!("git {}", args.join(" ")),
            &self.repo.tmp().join("output"),
        )
    }

    /// The commit `rev` points at, if it exists.
    pub fn rev(&self, rev: &str) -> Option<String> {
        let finished = self.git_status(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ]);
        (finished.code() == Some(0)).then(|| finished.stdout.trim().to_string())
    }

    /// The text of `rel` in commit `rev`, `None` when it has no such file.
    pub fn read_at(&self, rev: &str, rel: &str) -> Option<String> {
        block_on(self.repo.read_at(rev, rel)).unwrap()
    }

    /// Every ref under `refs/heads/baton/`.
    pub fn baton_refs(&self) -> Vec<String> {
        self.git(&["for-each-ref", "--format=%(refname)", "refs/heads/baton/"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The worktrees git knows, as absolute paths (the main worktree first).
    pub fn worktrees(&self) -> Vec<PathBuf> {
        self.git(&["worktree", "list", "--porcelain"])
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .map(PathBuf::from)
            .collect()
    }

    /// The ids of every run, from `baton status --json` (newest first).
    pub fn run_ids(&self) -> Vec<String> {
        let list = self.baton(&["status", "--json"]).expect_code(OK).json();
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Writes the plan and runs `baton run --plan PLAN EXTRA...`; returns what it said and the
    /// id of the run it created.
    pub fn run_plan(&self, yaml: &str, extra: &[&str]) -> (Finished, String) {
        static PLANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PLANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let plan = self.plan(&format!("run-{n}.yaml"), yaml);
        let before = self.run_ids();
        let plan_arg = plan.to_string_lossy().into_owned();
        let mut args = vec!["run", "--plan", plan_arg.as_str()];
        args.extend_from_slice(extra);
        let finished = self.baton(&args);
        let created: Vec<String> = self
            .run_ids()
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(
            created.len(),
            1,
            "`{}` should have created exactly one run\n--- stdout ---\n{}\n--- stderr ---\n{}",
            finished.what,
            tail(&finished.stdout),
            tail(&finished.stderr)
        );
        (finished, created[0].clone())
    }

    /// `baton status RUN --json`.
    pub fn status(&self, run: &str) -> Value {
        self.baton(&["status", run, "--json"])
            .expect_code(OK)
            .json()
    }

    /// `baton report RUN --format json`.
    pub fn report(&self, run: &str) -> Value {
        self.baton(&["report", run, "--format", "json"])
            .expect_code(OK)
            .json()
    }

    /// `baton events RUN`, one JSON value per line.
    pub fn events(&self, run: &str) -> Vec<Value> {
        let finished = self.baton(&["events", run]);
        finished.expect_code(OK);
        finished
            .stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("event line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// The kinds of `run`'s artifacts (`baton artifacts RUN --json`), in the order listed.
    pub fn artifact_kinds(&self, run: &str) -> Vec<String> {
        let listed = self.baton(&["artifacts", run, "--json"]);
        listed.expect_code(OK);
        listed
            .json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|a| a["kind"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The integration branch of a run, as a ref name.
    pub fn integration(&self, run: &str) -> String {
        format!("refs/heads/baton/{run}/integration")
    }
}

/// Writes an executable script (a stand-in agent, a wrapper) to `path`.
pub fn write_program(path: &Path, text: impl AsRef<str>) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text.as_ref()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The task `id` of a `baton status --json` or `baton report --format json` document.
pub fn task<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no task {id} in {doc:#}"))
}

/// Each task's status, as `id=status` pairs sorted by id, for readable assertions.
pub fn statuses(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}={}",
                t["id"].as_str().unwrap(),
                t["status"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// A path as a string for embedding in a plan's shell command (tests' paths need no quoting
/// beyond single quotes).
pub fn sh_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    assert!(!text.contains('\''), "{text} cannot be single-quoted");
    format!("'{text}'")
}

/// `git ARGS` in any directory, with an isolated configuration, a test identity and local
/// `file://` submodules allowed; fails the test unless it succeeds. Returns stdout.
pub fn git_at(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
