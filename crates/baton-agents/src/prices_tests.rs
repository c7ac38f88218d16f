use super::*;
use baton_core::Tokens;

#[test]
fn the_built_in_table_parses_and_prices_the_current_models() {
    let table = built_in_prices().unwrap().table();
    assert!(!table.version.is_empty());
    for model in [
        "claude-sonnet-4-5",
        "gpt-5",
        "gemini-2.5-pro",
        "deepseek-chat",
        "qwen3-coder-plus",
        "mistral-large",
        "groq/llama-3.3-70b-versatile",
        "openrouter/qwen/qwen3-coder",
    ] {
        assert!(table.price(model).is_some(), "{model} has no price");
    }
    // 1M input + 1M output tokens of Sonnet 4.5: $3 + $15.
    let tokens = Tokens {
        input: 1_000_000,
        output: 1_000_000,
        ..Tokens::default()
    };
    assert_eq!(
        table.cost("claude-sonnet-4-5", &tokens),
        Some(Usd(18_000_000))
    );
    assert_eq!(
        table.cost("anthropic/claude-sonnet-4-5-20250929", &tokens),
        Some(Usd(18_000_000))
    );
}

#[test]
fn a_user_file_overrides_a_built_in_price() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prices.toml");
    std::fs::write(
        &path,
        "version = \"mine\"\n[models.\"gpt-5\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .unwrap();
    let table = price_table(Some(&path)).unwrap();
    assert!(table.version.ends_with("+mine"), "{}", table.version);
    let tokens = Tokens {
        input: 1_000_000,
        output: 1_000_000,
        ..Tokens::default()
    };
    assert_eq!(table.cost("gpt-5", &tokens), Some(Usd(3_000_000)));
    assert!(price_table(Some(&dir.path().join("absent.toml"))).is_ok());
}

#[test]
fn a_bad_price_file_is_refused_with_its_place_and_field() {
    let unknown = PriceFile::parse(
        "[models.\"m\"]\ninput = 1.0\noutput = 2.0\ncost = 3\n",
        "p.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(unknown.starts_with("p.toml:4:1:"), "{unknown}");
    assert!(unknown.contains("cost"), "{unknown}");
    let wrong_type = PriceFile::parse(
        "[models.\"m\"]\ninput = \"cheap\"\noutput = 2.0\n",
        "p.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(wrong_type.starts_with("p.toml:2:"), "{wrong_type}");
    let negative = PriceFile::parse("[models.\"m\"]\ninput = -1.0\noutput = 2.0\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(negative.contains("models.\"m\".input"), "{negative}");
}

#[test]
fn litellms_table_is_imported_per_million_tokens_and_written_back_readable() {
    let json = r#"{
        "sample_spec": {"input_cost_per_token": "see docs", "max_tokens": 1},
        "Claude-Sonnet-4-5": {
            "input_cost_per_token": 3e-06,
            "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07,
            "cache_creation_input_token_cost": 3.75e-06,
            "litellm_provider": "anthropic"
        },
        "embedding-only": {"input_cost_per_token": 1e-07}
    }"#;
    let file = import_litellm(json, "litellm.json", "2026-11-29").unwrap();
    assert_eq!(file.models.len(), 1);
    let entry = &file.models["claude-sonnet-4-5"];
    assert_eq!(entry.input, 3.0);
    assert_eq!(entry.output, 15.0);
    assert_eq!(entry.cached_input, Some(0.3));
    assert_eq!(entry.cache_write, Some(3.75));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton/prices.toml");
    write_price_file(&path, &file).unwrap();
    let back = read_price_file(&path).unwrap().unwrap();
    assert_eq!(back, file);

    let broken = import_litellm("{ not json", "litellm.json", "d")
        .unwrap_err()
        .to_string();
    assert!(broken.starts_with("litellm.json:1:"), "{broken}");
    assert!(import_litellm("{}", "x.json", "d").is_err());
}
