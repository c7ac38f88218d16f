//! `baton providers [detect|test NAME]`: the LLM providers baton can call.

use std::io::Write;
use std::time::Duration;

use super::keys::key_exit;
use super::print_json;
use crate::cli::ProvidersCommand;
use crate::{Exit, exit, style};
use baton_agents::keys::KeyStore;
use baton_agents::prices::{price_table, user_prices_path};
use baton_agents::providers::{
    CompletionRequest, HttpProvider, KeySource, Message, PROVIDERS, Provider, ProviderError,
    ProviderOptions, ProviderSpec, base_url_of, collect, detect_local, find, resolve_key,
    settle_usage,
};

/// How long `detect` waits for each local server.
const DETECT_TIMEOUT: Duration = Duration::from_secs(2);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `baton providers ...`.
pub async fn providers(command: Option<ProvidersCommand>, json: bool) -> Result<u8, Exit> {
    match command {
        None => list(json),
        Some(ProvidersCommand::Detect) => detect(json).await,
        Some(ProvidersCommand::Test {
            name,
            model,
            prompt,
            max_tokens,
        }) => test(&name, model, prompt, max_tokens, json).await,
    }
}

fn list(json: bool) -> Result<u8, Exit> {
    let store = KeyStore::from_env().ok();
    let mut rows = Vec::new();
    let mut store_problem = None;
    for spec in PROVIDERS {
        let source = match resolve_key(spec, &env, store.as_ref()) {
            Ok((_, source)) => source,
            Err(error) => {
                store_problem = Some(error.to_string());
                KeySource::Missing
            }
        };
        rows.push((spec, base_url_of(spec, &env), source));
    }
    if json {
        let providers: Vec<_> = rows
            .iter()
            .map(|(spec, base_url, source)| {
                serde_json::json!({
                    "name": spec.name,
                    "dialect": spec.dialect.as_str(),
                    "base_url": base_url,
                    "base_url_env": spec.base_url_env,
                    "key_env": spec.key_env,
                    "key": source,
                    "default_model": spec.default_model,
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "providers": providers,
            "key_store": store.as_ref().map(KeyStore::path),
            "key_store_problem": store_problem,
        }))?;
        return Ok(exit::OK);
    }
    println!(
        "{:<12} {:<18} {:<42} KEY",
        "PROVIDER", "DIALECT", "BASE URL"
    );
    for (spec, base_url, source) in &rows {
        let key = match source {
            KeySource::Missing => format!(
                "{} (set {} or `baton keys set {}`)",
                style::warn("missing"),
                spec.key_env.join(" or "),
                spec.key_name.unwrap_or(spec.name)
            ),
            other => other.describe(),
        };
        println!(
            "{:<12} {:<18} {:<42} {key}",
            spec.name,
            spec.dialect.as_str(),
            base_url
        );
    }
    if let Some(problem) = store_problem {
        eprintln!(
            "{} the key store cannot be read: {problem}",
            style::warn("warning:")
        );
    }
    println!("\n`baton providers detect` looks for local Ollama and LM Studio servers.");
    Ok(exit::OK)
}

async fn detect(json: bool) -> Result<u8, Exit> {
    let found = detect_local(DETECT_TIMEOUT, &env).await;
    if json {
        print_json(&found)?;
        return Ok(exit::OK);
    }
    for server in &found {
        if server.running {
            println!(
                "{:<9} {} at {}: {}",
                server.provider,
                style::good("running"),
                server.base_url,
                if server.models.is_empty() {
                    "no models yet".to_owned()
                } else {
                    server.models.join(", ")
                }
            );
        } else {
            println!(
                "{:<9} {} at {} ({})",
                server.provider,
                style::dim("not found"),
                server.base_url,
                server.problem.as_deref().unwrap_or("no answer")
            );
        }
    }
    Ok(exit::OK)
}

/// The exit code a provider error deserves: 2 when the setup is the user's to fix.
fn provider_exit(error: ProviderError) -> Exit {
    let code = match error {
        ProviderError::Config { .. } => exit::BAD_INPUT,
        _ => exit::FAILED,
    };
    Exit {
        code,
        error: error.into(),
    }
}

/// The model to test with: the one asked for, the provider's small default, or the first a
/// local server lists.
async fn model_for(spec: &ProviderSpec, model: Option<String>) -> Result<String, Exit> {
    if let Some(model) = model.or(spec.default_model.map(str::to_owned)) {
        return Ok(model);
    }
    let found = detect_local(DETECT_TIMEOUT, &env).await;
    let server = found.iter().find(|server| server.provider == spec.name);
    match server.and_then(|server| server.models.first()) {
        Some(model) => Ok(model.clone()),
        None => Err(Exit {
            code: exit::BAD_INPUT,
            error: anyhow::anyhow!(
                "{} lists no model at {}: give one with --model (`baton providers detect` shows \
                 what is there)",
                spec.name,
                base_url_of(spec, &env)
            ),
        }),
    }
}

async fn test(
    name: &str,
    model: Option<String>,
    prompt: String,
    max_tokens: u32,
    json: bool,
) -> Result<u8, Exit> {
    let Some(spec) = find(name) else {
        let names: Vec<&str> = PROVIDERS.iter().map(|spec| spec.name).collect();
        return Err(Exit {
            code: exit::BAD_INPUT,
            error: anyhow::anyhow!("unknown provider {name:?}; known: {}", names.join(", ")),
        });
    };
    let store = KeyStore::from_env().map_err(key_exit)?;
    let (key, _) = resolve_key(spec, &env, Some(&store)).map_err(key_exit)?;
    let provider = HttpProvider::new(
        spec,
        ProviderOptions {
            key,
            ..ProviderOptions::default()
        },
    )
    .map_err(provider_exit)?;
    let table = price_table(user_prices_path().as_deref()).map_err(|error| Exit {
        code: exit::BAD_INPUT,
        error: error.into(),
    })?;
    let model = model_for(spec, model).await?;
    let request = CompletionRequest {
        model: model.clone(),
        system: String::new(),
        messages: vec![Message::user(prompt)],
        max_output_tokens: max_tokens,
        temperature: None,
    };
    let stream = provider.stream(&request).await.map_err(provider_exit)?;
    let mut stdout = std::io::stdout();
    let completion = collect(spec.name, stream, |text| {
        if !json {
            let _ = write!(stdout, "{text}");
            let _ = stdout.flush();
        }
    })
    .await
    .map_err(provider_exit)?;
    let (cost, basis) = settle_usage(&completion.usage, &model, &table);
    let usage = &completion.usage;
    if json {
        print_json(&serde_json::json!({
            "provider": spec.name,
            "model": completion.model,
            "text": completion.text,
            "stop_reason": completion.stop_reason,
            "usage": usage,
            "cost_usd_micros": cost.map(|usd| usd.0),
            "cost_basis": basis,
            "price_version": (basis == baton_core::CostBasis::Priced).then(|| table.version.clone()),
        }))?;
        return Ok(exit::OK);
    }
    println!();
    let cost = match cost {
        Some(usd) => format!("{usd} (price table {})", table.version),
        None => format!("unknown (no price for {})", completion.model),
    };
    println!(
        "{} {}: {} input, {} cached, {} cache write, {} output ({} reasoning); cost {cost}",
        style::dim("tokens"),
        completion.model,
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens
    );
    Ok(exit::OK)
}
