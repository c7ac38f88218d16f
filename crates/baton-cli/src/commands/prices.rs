//! `baton prices show [MODEL]` and `baton prices import FILE`.

use super::print_json;
use crate::cli::PricesCommand;
use crate::{Exit, exit};
use baton_agents::prices::{
    PriceError, import_litellm, price_table, read_price_file, user_prices_path, write_price_file,
};
use baton_core::{ModelPrice, PriceTable, Usd};

/// A price error is the user's input: exit 2.
fn bad_input(error: PriceError) -> Exit {
    Exit {
        code: exit::BAD_INPUT,
        error: error.into(),
    }
}

/// `baton prices ...`.
pub fn prices(command: PricesCommand, json: bool) -> Result<u8, Exit> {
    let user = user_prices_path();
    match command {
        PricesCommand::Show { model } => {
            let table = price_table(user.as_deref()).map_err(bad_input)?;
            show(&table, model.as_deref(), json)
        }
        PricesCommand::Import { file } => {
            let Some(target) = user else {
                return Err(Exit {
                    code: exit::BAD_INPUT,
                    error: anyhow::anyhow!(
                        "neither XDG_CONFIG_HOME nor HOME is set, so there is no \
                         ~/.config/baton/prices.toml to import into"
                    ),
                });
            };
            let text = std::fs::read_to_string(&file).map_err(|source| {
                bad_input(PriceError::Io {
                    path: file.clone(),
                    source,
                })
            })?;
            let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
            let imported =
                import_litellm(&text, &file.display().to_string(), &today).map_err(bad_input)?;
            // Prices the user wrote by hand stay unless the import has the same model.
            let mut merged = read_price_file(&target)
                .map_err(bad_input)?
                .unwrap_or_default();
            let count = imported.models.len();
            merged.models.extend(imported.models);
            merged.version = imported.version;
            write_price_file(&target, &merged).map_err(bad_input)?;
            if json {
                print_json(&serde_json::json!({
                    "imported": count,
                    "file": target,
                    "version": merged.version,
                }))?;
            } else {
                eprintln!(
                    "imported {count} model prices into {}; they override the built-in ones",
                    target.display()
                );
            }
            Ok(exit::OK)
        }
    }
}

fn show(table: &PriceTable, model: Option<&str>, json: bool) -> Result<u8, Exit> {
    let rows: Vec<(&str, &ModelPrice)> = match model {
        Some(model) => match table.price(model) {
            Some(found) => vec![found],
            None => {
                return Err(Exit {
                    code: exit::BAD_INPUT,
                    error: anyhow::anyhow!(
                        "no price for model {model:?}: its cost would be shown as unknown; add it \
                         to ~/.config/baton/prices.toml or `baton prices import` LiteLLM's table"
                    ),
                });
            }
        },
        None => table
            .models
            .iter()
            .map(|(name, price)| (name.as_str(), price))
            .collect(),
    };
    let per_million = |usd: Usd| usd.micros() as f64 / 1_000_000.0;
    if json {
        let models: Vec<_> = rows
            .iter()
            .map(|(name, price)| {
                serde_json::json!({
                    "model": name,
                    "input": per_million(price.input),
                    "cached_input": per_million(price.cached_input),
                    "cache_write": per_million(price.cache_write),
                    "output": per_million(price.output),
                    "reasoning": per_million(price.reasoning),
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "version": table.version,
            "unit": "USD per million tokens",
            "models": models,
        }))?;
        return Ok(exit::OK);
    }
    println!(
        "prices {} (USD per million tokens)\n{:<36} {:>8} {:>8} {:>8} {:>8}",
        table.version, "MODEL", "INPUT", "CACHED", "WRITE", "OUTPUT"
    );
    for (name, price) in rows {
        println!(
            "{:<36} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            name,
            per_million(price.input),
            per_million(price.cached_input),
            per_million(price.cache_write),
            per_million(price.output)
        );
    }
    Ok(exit::OK)
}
