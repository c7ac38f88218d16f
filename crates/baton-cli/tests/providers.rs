#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton keys` and `baton providers`: keys stored encrypted and never shown, providers listed
//! with where their keys come from, local servers found, and one real streamed call against
//! the fake LLM server.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use baton_testkit::fake_llm::{FakeLlm, Script};

const SECRET: &str = "sk-ant-cli-test-0123456789";

/// Variables from the person running the tests that would change what baton sees.
const SCRUBBED: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "GROQ_API_KEY",
    "OLLAMA_HOST",
    "BATON_MASTER_KEY",
    "BATON_KEYS_FILE",
    "BATON_ANTHROPIC_BASE_URL",
    "BATON_OLLAMA_BASE_URL",
    "BATON_LMSTUDIO_BASE_URL",
];

/// `baton ARGS` with its own config home, `env` added and `stdin` piped in; returns (exit
/// code, stdout, stderr).
fn baton(config: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("HOME", config)
        .env("BATON_HOME", config.join("baton-home"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in SCRUBBED {
        command.env_remove(var);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_key_set_from_stdin_is_listed_by_name_only_and_stored_encrypted() {
    let config = tempfile::tempdir().unwrap();
    let (code, _, err) = baton(
        config.path(),
        &["keys", "set", "anthropic"],
        &[],
        &format!("{SECRET}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(SECRET), "{err}");
    let (code, out, err) = baton(config.path(), &["keys", "list", "--json"], &[], "");
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SECRET), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["keys"][0]["name"], "anthropic");
    assert!(doc["keys"][0]["set_at"].as_str().unwrap().ends_with('Z'));
    assert!(doc["keys"][0].get("key").is_none());
    let store = config.path().join("baton/keys.enc");
    let bytes = std::fs::read(&store).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
    let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let (code, _, err) = baton(config.path(), &["keys", "remove", "anthropic"], &[], "");
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = baton(config.path(), &["keys", "list", "--json"], &[], "");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["keys"], serde_json::json!([]));
}

#[test]
fn bad_key_input_exits_2_and_writes_nothing() {
    let config = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["keys", "set", "antropic"],
            "sk-1\n",
            "unknown provider \"antropic\"",
        ),
        (&["keys", "set", "ollama"], "sk-1\n", "needs no key"),
        (
            &["keys", "set", "openai-chat"],
            "sk-1\n",
            "baton keys set openai",
        ),
        (&["keys", "set", "groq"], "\n", "no key on stdin"),
        (
            &["keys", "set", "groq"],
            "line one\nline two\n",
            "several lines",
        ),
    ];
    for (args, stdin, expected) in cases {
        let (code, _, err) = baton(config.path(), args, &[], stdin);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let (code, _, err) = baton(config.path(), &["keys", "remove", "groq"], &[], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no stored key for groq"), "{err}");
    assert!(
        !config.path().join("baton").exists(),
        "something was written"
    );
}

#[test]
fn a_wrong_master_key_is_a_clear_error_with_exit_2() {
    let config = tempfile::tempdir().unwrap();
    let right = "11".repeat(32);
    let wrong = "22".repeat(32);
    let (code, _, err) = baton(
        config.path(),
        &["keys", "set", "openai"],
        &[("BATON_MASTER_KEY", &right)],
        "sk-x\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(!config.path().join("baton/master.key").exists());
    let (code, _, err) = baton(
        config.path(),
        &["keys", "list"],
        &[("BATON_MASTER_KEY", &wrong)],
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot decrypt the key store"), "{err}");
    assert!(err.contains("keys.enc"), "{err}");
    let (code, _, err) = baton(
        config.path(),
        &["keys", "list"],
        &[("BATON_MASTER_KEY", "not-a-key")],
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("64 hex characters"), "{err}");
}

#[test]
fn providers_are_listed_with_where_each_key_comes_from_and_never_the_key() {
    let config = tempfile::tempdir().unwrap();
    let (code, _, err) = baton(
        config.path(),
        &["keys", "set", "openai"],
        &[],
        "sk-stored\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = baton(
        config.path(),
        &["providers", "--json"],
        &[
            ("ANTHROPIC_API_KEY", SECRET),
            ("OLLAMA_HOST", "10.1.2.3:4567"),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SECRET) && !out.contains("sk-stored"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let provider = |name: &str| {
        doc["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        provider("anthropic")["key"],
        serde_json::json!({"kind": "env", "var": "ANTHROPIC_API_KEY"})
    );
    assert_eq!(provider("openai")["key"]["kind"], "store");
    assert_eq!(provider("openai-chat")["key"]["kind"], "store");
    assert_eq!(provider("groq")["key"]["kind"], "missing");
    assert_eq!(provider("ollama")["key"]["kind"], "not_needed");
    assert_eq!(provider("ollama")["base_url"], "http://10.1.2.3:4567/v1");
    assert_eq!(provider("gemini")["dialect"], "gemini");
    assert_eq!(doc["providers"].as_array().unwrap().len(), 9);

    let (code, out, _) = baton(config.path(), &["providers"], &[], "");
    assert_eq!(code, 0);
    assert!(out.contains("key store"), "{out}");
    assert!(out.contains("baton keys set groq"), "{out}");
}

#[test]
fn detect_finds_a_fake_ollama_where_ollama_host_points() {
    let config = tempfile::tempdir().unwrap();
    let fake = FakeLlm::start(Script::parse("models: [llama3.2, qwen3:8b]\nturns: []\n").unwrap())
        .unwrap();
    let dead = format!("http://127.0.0.1:{}/v1", free_port());
    let (code, out, err) = baton(
        config.path(),
        &["providers", "detect", "--json"],
        &[
            ("OLLAMA_HOST", &fake.url()),
            ("BATON_LMSTUDIO_BASE_URL", &dead),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let found: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ollama = &found[0];
    assert_eq!(ollama["provider"], "ollama");
    assert_eq!(ollama["running"], true);
    assert_eq!(
        ollama["models"],
        serde_json::json!(["llama3.2", "qwen3:8b"])
    );
    let studio = &found[1];
    assert_eq!(studio["provider"], "lmstudio");
    assert_eq!(studio["running"], false);
    assert_eq!(studio["base_url"], dead);
}

#[test]
fn provider_test_streams_a_reply_and_prices_its_tokens() {
    let config = tempfile::tempdir().unwrap();
    let fake = FakeLlm::start(
        Script::parse(
            "- text: \"Four, as it always was.\"\n  usage: {input: 1000, output: 100, cached: 400}\n\
             - text: \"Four again.\"\n  usage: {input: 1000, output: 100, cached: 400}\n",
        )
        .unwrap(),
    )
    .unwrap();
    let (code, _, err) = baton(config.path(), &["keys", "set", "anthropic"], &[], SECRET);
    assert_eq!(code, 0, "{err}");
    let base = [("BATON_ANTHROPIC_BASE_URL", fake.url())];
    let env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = baton(
        config.path(),
        &[
            "providers",
            "test",
            "anthropic",
            "--model",
            "claude-haiku-4-5",
        ],
        &env,
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Four, as it always was.\n"), "{out}");
    // 600 input at $1/M + 400 cached at $0.10/M + 100 output at $5/M = $0.00114.
    assert!(out.contains("600 input, 400 cached"), "{out}");
    assert!(out.contains("cost $0.0011"), "{out}");

    let (code, out, err) = baton(
        config.path(),
        &[
            "providers",
            "test",
            "anthropic",
            "--model",
            "claude-haiku-4-5",
            "--json",
        ],
        &env,
        "",
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["text"], "Four again.");
    assert_eq!(doc["usage"]["input_tokens"], 600);
    assert_eq!(doc["usage"]["cached_input_tokens"], 400);
    assert_eq!(doc["cost_usd_micros"], 1140);
    assert_eq!(doc["cost_basis"], "priced");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].auth.get("x-api-key").map(String::as_str),
        Some(SECRET)
    );
}

#[test]
fn provider_test_with_a_bad_name_or_no_key_exits_2() {
    let config = tempfile::tempdir().unwrap();
    let (code, _, err) = baton(config.path(), &["providers", "test", "claude"], &[], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown provider \"claude\""), "{err}");
    let (code, _, err) = baton(config.path(), &["providers", "test", "groq"], &[], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GROQ_API_KEY"), "{err}");
}

#[test]
fn provider_test_says_when_the_provider_refuses_the_key_without_showing_it() {
    let config = tempfile::tempdir().unwrap();
    let fake = FakeLlm::start(
        Script::parse(&format!(
            "- error: {{status: 401, body: \"Incorrect API key provided: {SECRET}\"}}\n"
        ))
        .unwrap(),
    )
    .unwrap();
    let base = format!("{}/v1", fake.url());
    let (code, out, err) = baton(
        config.path(),
        &["providers", "test", "openai"],
        &[("OPENAI_API_KEY", SECRET), ("BATON_OPENAI_BASE_URL", &base)],
        "",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the API key was refused (HTTP 401)"), "{err}");
    assert!(!err.contains(SECRET) && !out.contains(SECRET), "{err}");
    assert_eq!(fake.requests().len(), 1);
}
