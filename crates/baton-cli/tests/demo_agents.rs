#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton demo --agents` drives every real agent CLI on PATH (installed by
//! `scripts/agent-clients.sh`) in parallel lanes against its bundled scripted model server:
//! each client's file lands, the user's HOME and BATON_HOME stay untouched, and a key in the
//! user's environment reaches nothing. With no client on PATH it says which ones it supports
//! and how to install them, and runs nothing.

mod support;

use baton_testkit::agent_clients::Client;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::agents::{files_containing, installed_client_bin};
use support::{BAD_INPUT, Finished, OK, run_with_deadline};

/// A "real" key in the user's environment, which the demo must not pass on.
const USER_KEY: &str = "sk-ant-users-own-key-0f3a9c";

/// Every path under `dir`, relative to it, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap().map(Result::unwrap) {
            let path = entry.path();
            found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A user's HOME with one file of its own.
fn user_home(tmp: &Path) -> PathBuf {
    let home = tmp.join("user-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".profile"), "# the user's own\n").unwrap();
    home
}

/// `baton demo --agents ARGS` as a user with HOME `home`, PATH `path` and a key of their own.
fn demo(tmp: &Path, home: &Path, path: &str, args: &[&str]) -> Finished {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(["demo", "--agents"])
        .args(args)
        .current_dir(tmp)
        .env("HOME", home)
        .env("PATH", path)
        .env("BATON_HOME", tmp.join("user-baton-home"))
        .env("ANTHROPIC_API_KEY", USER_KEY)
        .env("OPENAI_API_KEY", USER_KEY)
        .env("GEMINI_API_KEY", USER_KEY)
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("BATON_LOG")
        .env_remove("BATON_FAILPOINT")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    run_with_deadline(
        command,
        format!("baton demo --agents {}", args.join(" ")),
        &tmp.join("output"),
    )
}

#[test]
fn every_client_on_path_lands_its_file_and_the_users_home_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let home = user_home(tmp.path());
    let before = tree(&home);
    let mut dirs: Vec<String> = Client::ALL
        .iter()
        .map(|client| installed_client_bin(*client).display().to_string())
        .collect();
    dirs.push(std::env::var("PATH").unwrap_or_default());
    let kept = tmp.path().join("demo");
    let kept_arg = kept.to_str().unwrap();
    let run = demo(
        tmp.path(),
        &home,
        &dirs.join(":"),
        &["--json", "--dir", kept_arg],
    );
    run.expect_code(OK);
    let out = run.json();

    assert_eq!(out["scripted"], true, "{out:#}");
    assert_eq!(out["status"], "completed", "{out:#}");
    assert_eq!(out["missing"].as_array().unwrap().len(), 0, "{out:#}");
    let clients = out["clients"].as_array().unwrap();
    let names: Vec<&str> = clients
        .iter()
        .map(|c| c["agent"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["claude", "codex", "gemini", "opencode", "aider"]);
    for client in clients {
        let agent = client["agent"].as_str().unwrap();
        assert_eq!(client["landed"], true, "{agent}: {out:#}");
        assert_eq!(client["status"], "merged", "{agent}: {out:#}");
        assert!(client["requests"].as_u64().unwrap() >= 1, "{client:#}");
        let usage = &out["report"]["usage"]["by_agent"][agent];
        assert!(usage["tokens"]["input"].as_u64().unwrap() > 0, "{usage:#}");
    }
    // The tasks ran side by side, one lane each.
    assert_eq!(out["report"]["lanes"], 5, "{out:#}");

    // The user's HOME and BATON_HOME were not touched; the user's key reached no file.
    assert_eq!(tree(&home), before);
    assert!(!tmp.path().join("user-baton-home").exists());
    let leaks = files_containing(tmp.path(), USER_KEY.as_bytes());
    assert!(leaks.is_empty(), "the user's key leaked into {leaks:?}");
    assert!(!run.stdout.contains(USER_KEY) && !run.stderr.contains(USER_KEY));
    // The clients' state went to the demo's own HOME.
    assert!(kept.join("home/.codex/config.toml").is_file());
    assert!(kept.join("home/.gemini").is_dir());
}

/// A PATH holding only git and sh.
fn bare_path(tmp: &Path) -> String {
    let bin = tmp.join("bare-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "sh"] {
        let real = baton_agents::detect::find_on_path(tool, &std::env::var_os("PATH").unwrap())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    bin.display().to_string()
}

#[test]
fn with_no_client_on_path_it_says_which_are_supported_and_how_to_install_them() {
    let tmp = tempfile::tempdir().unwrap();
    let home = user_home(tmp.path());
    let before = tree(&home);
    let path = bare_path(tmp.path());

    let text = demo(tmp.path(), &home, &path, &[]);
    text.expect_code(OK);
    assert!(
        text.stdout.contains("none of them is on PATH"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("npm install -g @anthropic-ai/claude-code")
    );
    assert!(text.stdout.contains("aider-chat"));
    assert!(text.stdout.contains("`baton demo` runs without any"));

    let json = demo(tmp.path(), &home, &path, &["--json"]);
    json.expect_code(OK);
    let out = json.json();
    assert_eq!(out["run"], serde_json::Value::Null, "{out:#}");
    assert_eq!(out["clients"].as_array().unwrap().len(), 0);
    let missing: Vec<&str> = out["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["agent"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["claude", "codex", "gemini", "opencode", "aider"]);
    assert_eq!(tree(&home), before);
}

#[test]
fn a_demo_directory_whose_repository_is_not_empty_is_refused_as_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let home = user_home(tmp.path());
    let dir = tmp.path().join("used");
    std::fs::create_dir_all(dir.join("repo")).unwrap();
    std::fs::write(dir.join("repo/keep.txt"), "mine\n").unwrap();
    let run = demo(
        tmp.path(),
        &home,
        &bare_path(tmp.path()),
        &["--dir", dir.to_str().unwrap()],
    );
    run.expect_code(BAD_INPUT);
    assert!(run.stderr.contains("not empty"), "{}", run.stderr);
    assert!(run.stderr.contains(dir.to_str().unwrap()), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("repo/keep.txt")).unwrap(),
        "mine\n"
    );
}
