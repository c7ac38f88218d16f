//! The price table: baton's own (`data/prices.toml`, built into the binary) with the user's
//! `~/.config/baton/prices.toml` on top, and import of LiteLLM's
//! `model_prices_and_context_window.json` into that override file.

use baton_core::text::line_column;
use baton_core::{ModelPrice, PriceTable, Usd};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The table that ships with this build.
const BUILT_IN: &str = include_str!("../data/prices.toml");

/// What can be wrong with a price file.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a valid price table; the text names file:line:col and the field.
    #[error("{0}")]
    Invalid(String),
}

/// One model's prices as written: dollars per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
    /// Where the price was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// A price file as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    /// The table's version, recorded with every cost it prices.
    #[serde(default)]
    pub version: String,
    /// Prices by model name.
    #[serde(default)]
    pub models: BTreeMap<String, PriceEntry>,
}

impl PriceFile {
    /// Parses the text of `origin` (for messages).
    pub fn parse(text: &str, origin: &str) -> Result<PriceFile, PriceError> {
        let file: PriceFile = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            PriceError::Invalid(format!(
                "{origin}:{line}:{column}: {}",
                error.message().trim_end()
            ))
        })?;
        for (model, entry) in &file.models {
            let prices = [
                ("input", Some(entry.input)),
                ("output", Some(entry.output)),
                ("cached_input", entry.cached_input),
                ("cache_write", entry.cache_write),
                ("reasoning", entry.reasoning),
            ];
            for (field, value) in prices {
                if let Some(value) = value
                    && Usd::from_dollars(value).is_none()
                {
                    return Err(PriceError::Invalid(format!(
                        "{origin}: models.\"{model}\".{field} = {value} is not a price (dollars per \
                         million tokens, zero or more)"
                    )));
                }
            }
        }
        Ok(file)
    }

    /// The table of these prices (model names in lower case).
    pub fn table(&self) -> PriceTable {
        let dollars = |value: f64| Usd::from_dollars(value).unwrap_or(Usd::ZERO);
        let models = self
            .models
            .iter()
            .map(|(name, entry)| {
                let input = dollars(entry.input);
                (
                    name.to_ascii_lowercase(),
                    ModelPrice {
                        input,
                        cached_input: entry.cached_input.map_or(input, dollars),
                        cache_write: entry.cache_write.map_or(input, dollars),
                        output: dollars(entry.output),
                        reasoning: entry.reasoning.map_or(Usd::ZERO, dollars),
                    },
                )
            })
            .collect();
        PriceTable {
            version: self.version.clone(),
            models,
        }
    }
}

/// The built-in price file.
pub fn built_in_prices() -> Result<PriceFile, PriceError> {
    PriceFile::parse(BUILT_IN, "built-in prices.toml")
}

/// `~/.config/baton/prices.toml` (or under `$XDG_CONFIG_HOME`), where the user's prices live.
pub fn user_prices_path() -> Option<PathBuf> {
    Some(crate::user_config_dir()?.join("prices.toml"))
}

/// Reads a price file; `None` when it does not exist.
pub fn read_price_file(path: &Path) -> Result<Option<PriceFile>, PriceError> {
    match std::fs::read_to_string(path) {
        Ok(text) => PriceFile::parse(&text, &path.display().to_string()).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PriceError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The prices in force: built-in, with the user's file (if any) on top.
pub fn price_table(user_file: Option<&Path>) -> Result<PriceTable, PriceError> {
    let table = built_in_prices()?.table();
    match user_file.map(read_price_file).transpose()?.flatten() {
        Some(user) => Ok(table.overlaid(user.table())),
        None => Ok(table),
    }
}

/// One model of LiteLLM's table (the fields baton uses; dollars per token).
#[derive(Debug, Deserialize)]
struct LiteLlmModel {
    #[serde(default)]
    input_cost_per_token: Option<f64>,
    #[serde(default)]
    output_cost_per_token: Option<f64>,
    #[serde(default)]
    cache_read_input_token_cost: Option<f64>,
    #[serde(default)]
    cache_creation_input_token_cost: Option<f64>,
    #[serde(default)]
    output_cost_per_reasoning_token: Option<f64>,
}

/// Reads LiteLLM's `model_prices_and_context_window.json` into a price file: every model with
/// an input and an output price per token (others, such as its `sample_spec`, are skipped).
pub fn import_litellm(text: &str, origin: &str, date: &str) -> Result<PriceFile, PriceError> {
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(text).map_err(|error| {
        PriceError::Invalid(format!(
            "{origin}:{}:{}: not LiteLLM's price JSON: {error}",
            error.line(),
            error.column()
        ))
    })?;
    let per_million = |per_token: f64| (per_token * 1_000_000.0 * 1e6).round() / 1e6;
    let mut models = BTreeMap::new();
    for (name, value) in raw {
        let Ok(model) = serde_json::from_value::<LiteLlmModel>(value) else {
            continue;
        };
        let (Some(input), Some(output)) = (model.input_cost_per_token, model.output_cost_per_token)
        else {
            continue;
        };
        if !(input.is_finite() && output.is_finite() && input >= 0.0 && output >= 0.0) {
            continue;
        }
        models.insert(
            name.to_ascii_lowercase(),
            PriceEntry {
                input: per_million(input),
                output: per_million(output),
                cached_input: model.cache_read_input_token_cost.map(per_million),
                cache_write: model.cache_creation_input_token_cost.map(per_million),
                reasoning: model.output_cost_per_reasoning_token.map(per_million),
                source: Some(format!("LiteLLM ({origin})")),
                date: Some(date.to_owned()),
            },
        );
    }
    if models.is_empty() {
        return Err(PriceError::Invalid(format!(
            "{origin}: no model with input_cost_per_token and output_cost_per_token"
        )));
    }
    Ok(PriceFile {
        version: format!("litellm-{date}"),
        models,
    })
}

/// Writes `file` to `path` atomically (a temporary file renamed over it), creating its directory.
pub fn write_price_file(path: &Path, file: &PriceFile) -> Result<(), PriceError> {
    let io = |source| PriceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = toml::to_string(file)
        .map_err(|error| PriceError::Invalid(format!("{}: {error}", path.display())))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let temp = path.with_extension("toml.tmp");
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

#[cfg(test)]
#[path = "prices_tests.rs"]
mod tests;
