#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton prices`: the table baton prices tokens with, and importing LiteLLM's.

use std::path::Path;
use std::process::Command;

/// `baton ARGS` with its own config home; returns (exit code, stdout, stderr).
fn baton(config_home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env("BATON_HOME", config_home.join("baton-home"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_built_in_table_is_shown_per_million_tokens() {
    let config = tempfile::tempdir().unwrap();
    let (code, out, err) = baton(config.path(), &["prices", "show", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["unit"], "USD per million tokens");
    let sonnet = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(sonnet["input"], 3.0);
    assert_eq!(sonnet["output"], 15.0);
    let (code, out, _) = baton(
        config.path(),
        &["prices", "show", "openrouter/anthropic/claude-sonnet-4-5"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("claude-sonnet-4-5"), "{out}");
}

#[test]
fn an_imported_litellm_table_overrides_the_built_in_prices() {
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("litellm.json");
    std::fs::write(
        &file,
        r#"{"gpt-5": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
            "brand-new-model": {"input_cost_per_token": 5e-07, "output_cost_per_token": 1e-06}}"#,
    )
    .unwrap();
    let (code, _, err) = baton(config.path(), &["prices", "import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("imported 2 model prices"), "{err}");
    assert!(config.path().join("baton/prices.toml").is_file());
    let (code, out, _) = baton(config.path(), &["prices", "show", "gpt-5", "--json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["models"][0]["input"], 1.0);
    assert!(
        doc["version"].as_str().unwrap().contains("+litellm-"),
        "{doc}"
    );
    let (code, _, _) = baton(config.path(), &["prices", "show", "brand-new-model"]);
    assert_eq!(code, 0);
}

#[test]
fn a_bad_import_or_an_unknown_model_is_refused_and_writes_nothing() {
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("broken.json");
    std::fs::write(&file, "{\n  \"gpt-5\": {\"input_cost_per_token\": }\n}\n").unwrap();
    let (code, _, err) = baton(config.path(), &["prices", "import", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.json:2:"), "names the place: {err}");
    assert!(!config.path().join("baton/prices.toml").exists());

    std::fs::create_dir_all(config.path().join("baton")).unwrap();
    std::fs::write(
        config.path().join("baton/prices.toml"),
        "[models.\"x\"]\ninput = \"free\"\n",
    )
    .unwrap();
    let (code, _, err) = baton(config.path(), &["prices", "show"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("prices.toml:2:"), "{err}");

    let clean = tempfile::tempdir().unwrap();
    let (code, _, err) = baton(clean.path(), &["prices", "show", "no-such-model"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown"), "{err}");
}
