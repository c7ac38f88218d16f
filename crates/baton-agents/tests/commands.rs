//! The command line and environment each adapter builds (documented in docs/agents.md): the
//! client's headless flags, the model, the prompt, baton's variables, and never an API key.

use baton_agents::{
    ADAPTERS, AgentAdapter, AgentInvocation, Aider, Claude, Codex, Cursor, Exec, Gemini, Goose,
    MAX_PROMPT_ARG_BYTES, OpenCode, Qwen, adapter, codex_sandbox_mode, first_version_word,
};
use baton_exec::{CommandSpec, Confinement, landlock_support};
use baton_protocol::{RunId, TaskId};

const SECRET: &str = "sk-test-secret-123";

fn invocation() -> AgentInvocation {
    let mut invocation = AgentInvocation::new(
        RunId::new("r1"),
        TaskId::new("lexer"),
        1,
        "/lanes/1",
        "Write the lexer",
    );
    invocation.model = Some("m1".into());
    invocation.extra_env = vec![("ANTHROPIC_API_KEY".into(), SECRET.into())];
    invocation
}

fn env<'a>(spec: &'a CommandSpec, key: &str) -> Option<&'a str> {
    spec.env
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn args(spec: &CommandSpec) -> Vec<&str> {
    spec.args.iter().map(String::as_str).collect()
}

#[test]
fn claude_runs_print_mode_with_stream_json_turns_model_and_is_sandbox_as_root() {
    let mut invocation = invocation();
    invocation.max_turns = Some(7);
    invocation.running_as_root = true;
    let spec = Claude.command(&invocation);
    assert_eq!(spec.program, "claude");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Write the lexer",
            "--output-format",
            "stream-json",
            "--verbose",
            "--dangerously-skip-permissions",
            "--max-turns",
            "7",
            "--model",
            "m1"
        ]
    );
    assert_eq!(env(&spec, "IS_SANDBOX"), Some("1"));
    assert_eq!(
        env(&Claude.command(&self::invocation()), "IS_SANDBOX"),
        None
    );
}

#[test]
fn claude_and_codex_resume_their_session() {
    let mut invocation = invocation();
    invocation.resume = Some("sess-9".into());
    let claude = Claude.command(&invocation);
    assert!(args(&claude).ends_with(&["--resume", "sess-9"]));
    let codex = Codex.command(&invocation);
    assert_eq!(
        args(&codex),
        [
            "exec",
            "--json",
            "-s",
            "workspace-write",
            "-m",
            "m1",
            "resume",
            "sess-9",
            "Write the lexer"
        ]
    );
    assert_eq!(Gemini.resume_args("x"), None);
}

#[test]
fn codex_runs_exec_json_in_a_workspace_write_sandbox_with_the_prompt_last() {
    let mut invocation = invocation();
    invocation.extra_args = vec!["--skip-git-repo-check".into()];
    let spec = Codex.command(&invocation);
    assert_eq!(spec.program, "codex");
    assert_eq!(
        args(&spec),
        [
            "exec",
            "--json",
            "-s",
            "workspace-write",
            "-m",
            "m1",
            "--skip-git-repo-check",
            "Write the lexer"
        ]
    );
}

#[test]
fn codex_leaves_its_sandbox_to_baton_only_when_baton_confines_it() {
    assert_eq!(codex_sandbox_mode(false), "workspace-write");
    assert_eq!(codex_sandbox_mode(true), "danger-full-access");
    let mut invocation = invocation();
    invocation.confinement = Some(Confinement::new().writable("/lanes/1"));
    let expected = if landlock_support().confines() {
        "danger-full-access"
    } else {
        "workspace-write"
    };
    assert_eq!(
        args(&Codex.command(&invocation))[..4],
        ["exec", "--json", "-s", expected]
    );
}

#[test]
fn gemini_runs_yolo_stream_json_and_trusts_the_workspace() {
    let spec = Gemini.command(&invocation());
    assert_eq!(spec.program, "gemini");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Write the lexer",
            "--output-format",
            "stream-json",
            "--yolo",
            "-m",
            "m1"
        ]
    );
    assert_eq!(env(&spec, "GEMINI_CLI_TRUST_WORKSPACE"), Some("true"));
}

#[test]
fn qwen_runs_yolo_stream_json() {
    let spec = Qwen.command(&invocation());
    assert_eq!(spec.program, "qwen");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Write the lexer",
            "--output-format",
            "stream-json",
            "--yolo",
            "-m",
            "m1"
        ]
    );
}

#[test]
fn opencode_runs_json_format_auto_approved_with_provider_slash_model() {
    let mut invocation = invocation();
    invocation.model = Some("fake/fake-model".into());
    let spec = OpenCode.command(&invocation);
    assert_eq!(spec.program, "opencode");
    assert_eq!(
        args(&spec),
        [
            "run",
            "--format",
            "json",
            "--auto",
            "-m",
            "fake/fake-model",
            "Write the lexer"
        ]
    );
}

#[test]
fn aider_runs_one_message_without_commits_gitignore_edits_fancy_output_or_phoning_home() {
    let spec = Aider.command(&invocation());
    assert_eq!(spec.program, "aider");
    assert_eq!(
        args(&spec),
        [
            "--message",
            "Write the lexer",
            "--yes-always",
            "--no-auto-commits",
            "--no-gitignore",
            "--no-pretty",
            "--no-fancy-input",
            "--no-check-update",
            "--analytics-disable",
            "--no-show-model-warnings",
            "--model",
            "m1"
        ]
    );
}

#[test]
fn goose_runs_a_text_prompt_with_stream_json() {
    let spec = Goose.command(&invocation());
    assert_eq!(spec.program, "goose");
    assert_eq!(
        args(&spec),
        [
            "run",
            "-t",
            "Write the lexer",
            "--output-format",
            "stream-json",
            "--model",
            "m1"
        ]
    );
}

#[test]
fn cursor_runs_print_mode_with_stream_json_and_force() {
    let spec = Cursor.command(&invocation());
    assert_eq!(spec.program, "cursor-agent");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Write the lexer",
            "--output-format",
            "stream-json",
            "--force",
            "--model",
            "m1"
        ]
    );
}

#[test]
fn exec_runs_the_task_command_through_sh() {
    let mut invocation = invocation();
    invocation.run_command = Some("make lexer".into());
    let spec = Exec.command(&invocation);
    assert_eq!(spec.program, "sh");
    assert_eq!(args(&spec), ["-c", "make lexer"]);
}

#[test]
fn every_adapter_runs_in_the_lane_with_baton_variables_and_no_key_on_the_command_line() {
    for adapter in ADAPTERS {
        let spec = adapter.command(&invocation());
        assert_eq!(
            spec.cwd,
            std::path::Path::new("/lanes/1"),
            "{}",
            adapter.name()
        );
        assert_eq!(env(&spec, "BATON_RUN_ID"), Some("r1"), "{}", adapter.name());
        assert_eq!(env(&spec, "BATON_TASK_ID"), Some("lexer"));
        assert_eq!(env(&spec, "BATON_ATTEMPT"), Some("1"));
        assert!(
            spec.args.iter().all(|arg| !arg.contains(SECRET)
                && !arg.to_lowercase().contains("api-key")
                && !arg.to_lowercase().contains("api_key")),
            "{}: {:?}",
            adapter.name(),
            spec.args
        );
        // The configuration's environment is passed through, last, untouched.
        assert_eq!(
            spec.env.last(),
            Some(&("ANTHROPIC_API_KEY".into(), SECRET.into()))
        );
        assert!(!spec.env_remove.iter().any(|key| key == "HOME"));
        assert_eq!(adapter.binary(), spec.program, "{}", adapter.name());
    }
}

#[test]
fn a_prompt_too_long_for_one_argument_is_read_from_the_prompt_file() {
    let mut invocation = invocation();
    invocation.prompt = "x".repeat(MAX_PROMPT_ARG_BYTES + 1);
    invocation.prompt_file = Some("/runs/r1/prompt.md".into());
    let claude = Claude.command(&invocation);
    assert!(args(&claude)[1].contains("/runs/r1/prompt.md"));
    assert!(
        claude
            .args
            .iter()
            .all(|arg| arg.len() <= MAX_PROMPT_ARG_BYTES)
    );
    let aider = Aider.command(&invocation);
    assert_eq!(&args(&aider)[..2], ["--message-file", "/runs/r1/prompt.md"]);
}

#[test]
fn a_prompt_starting_with_a_dash_is_not_taken_for_an_option() {
    let mut invocation = invocation();
    invocation.prompt = "--help me".into();
    assert_eq!(
        args(&Codex.command(&invocation)).last(),
        Some(&" --help me")
    );
}

#[test]
fn adapters_are_found_by_name_and_read_their_version() {
    assert_eq!(adapter("codex").map(|a| a.binary()), Some("codex"));
    assert!(adapter("nope").is_none());
    let detect = Claude.detect();
    assert_eq!(detect.args, ["--version"]);
    assert_eq!(
        (detect.parse)("2.1.197 (Claude Code)").as_deref(),
        Some("2.1.197")
    );
    assert_eq!(
        first_version_word("codex-cli 0.169.0").as_deref(),
        Some("0.169.0")
    );
    assert_eq!(
        first_version_word("aider v0.86.2").as_deref(),
        Some("0.86.2")
    );
    assert_eq!(first_version_word("no version here"), None);
    let spec = detect.command("claude", "/tmp");
    assert_eq!(spec.args, ["--version"]);
}
