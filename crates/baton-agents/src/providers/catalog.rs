//! Every provider baton knows: its dialect, default base URL, where its key comes from and
//! how to point it elsewhere.

use serde::Serialize;

use super::Dialect;
use crate::keys::{ApiKey, KeyError, KeyStore};

/// One known provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProviderSpec {
    /// Its name in baton (`anthropic`, `openai-chat`, `ollama`...).
    pub name: &'static str,
    /// The dialect it speaks.
    pub dialect: Dialect,
    /// The base URL the dialect's paths go under.
    pub default_base_url: &'static str,
    /// Environment variables holding its key, first found wins; empty: it needs none.
    pub key_env: &'static [&'static str],
    /// The key store entry (and `baton keys set` name) its key is under; `None`: needs none.
    pub key_name: Option<&'static str>,
    /// The environment variable that overrides the base URL.
    pub base_url_env: &'static str,
    /// A small, cheap model to try it with; `None` for local servers, whose models are
    /// whatever the user pulled or loaded.
    pub default_model: Option<&'static str>,
}

/// Every provider, in the order `baton providers` lists them.
pub const PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        name: "anthropic",
        dialect: Dialect::AnthropicMessages,
        default_base_url: "https://api.anthropic.com",
        key_env: &["ANTHROPIC_API_KEY"],
        key_name: Some("anthropic"),
        base_url_env: "BATON_ANTHROPIC_BASE_URL",
        default_model: Some("claude-haiku-4-5"),
    },
    ProviderSpec {
        name: "openai",
        dialect: Dialect::OpenaiResponses,
        default_base_url: "https://api.openai.com/v1",
        key_env: &["OPENAI_API_KEY"],
        key_name: Some("openai"),
        base_url_env: "BATON_OPENAI_BASE_URL",
        default_model: Some("gpt-5-mini"),
    },
    ProviderSpec {
        name: "openai-chat",
        dialect: Dialect::OpenaiChat,
        default_base_url: "https://api.openai.com/v1",
        key_env: &["OPENAI_API_KEY"],
        key_name: Some("openai"),
        base_url_env: "BATON_OPENAI_CHAT_BASE_URL",
        default_model: Some("gpt-5-mini"),
    },
    ProviderSpec {
        name: "gemini",
        dialect: Dialect::Gemini,
        default_base_url: "https://generativelanguage.googleapis.com",
        key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        key_name: Some("gemini"),
        base_url_env: "BATON_GEMINI_BASE_URL",
        default_model: Some("gemini-2.5-flash"),
    },
    ProviderSpec {
        name: "openrouter",
        dialect: Dialect::OpenaiChat,
        default_base_url: "https://openrouter.ai/api/v1",
        key_env: &["OPENROUTER_API_KEY"],
        key_name: Some("openrouter"),
        base_url_env: "BATON_OPENROUTER_BASE_URL",
        default_model: Some("anthropic/claude-haiku-4.5"),
    },
    ProviderSpec {
        name: "deepseek",
        dialect: Dialect::OpenaiChat,
        default_base_url: "https://api.deepseek.com/v1",
        key_env: &["DEEPSEEK_API_KEY"],
        key_name: Some("deepseek"),
        base_url_env: "BATON_DEEPSEEK_BASE_URL",
        default_model: Some("deepseek-chat"),
    },
    ProviderSpec {
        name: "groq",
        dialect: Dialect::OpenaiChat,
        default_base_url: "https://api.groq.com/openai/v1",
        key_env: &["GROQ_API_KEY"],
        key_name: Some("groq"),
        base_url_env: "BATON_GROQ_BASE_URL",
        default_model: Some("llama-3.3-70b-versatile"),
    },
    ProviderSpec {
        name: "ollama",
        dialect: Dialect::OpenaiChat,
        default_base_url: "http://127.0.0.1:11434/v1",
        key_env: &[],
        key_name: None,
        base_url_env: "BATON_OLLAMA_BASE_URL",
        default_model: None,
    },
    ProviderSpec {
        name: "lmstudio",
        dialect: Dialect::OpenaiChat,
        default_base_url: "http://127.0.0.1:1234/v1",
        key_env: &[],
        key_name: None,
        base_url_env: "BATON_LMSTUDIO_BASE_URL",
        default_model: None,
    },
];

/// The provider called `name`.
pub fn find(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|spec| spec.name == name)
}

/// The names keys are stored under (`baton keys set NAME`), each once.
pub fn key_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for name in PROVIDERS.iter().filter_map(|spec| spec.key_name) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The base URL to use: `BATON_<NAME>_BASE_URL`, then for Ollama `OLLAMA_HOST` (`host:port`
/// or a URL, as Ollama itself reads it, with `/v1` added), then the default. `env` looks a
/// variable up (`std::env::var` in the binary, a map in tests).
pub fn base_url_of(spec: &ProviderSpec, env: &dyn Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if let Some(url) = set(spec.base_url_env) {
        return url.trim().trim_end_matches('/').to_owned();
    }
    if spec.name == "ollama"
        && let Some(host) = set("OLLAMA_HOST")
    {
        let host = host.trim().trim_end_matches('/');
        let url = if host.contains("://") {
            host.to_owned()
        } else {
            format!("http://{host}")
        };
        return format!("{url}/v1");
    }
    spec.default_base_url.to_owned()
}

/// Where a provider's key comes from (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeySource {
    /// An environment variable, by name.
    Env {
        /// The variable.
        var: String,
    },
    /// The encrypted key store.
    Store,
    /// The provider needs no key (a local server).
    NotNeeded,
    /// No key anywhere.
    Missing,
}

impl KeySource {
    /// How `baton providers` says it.
    pub fn describe(&self) -> String {
        match self {
            KeySource::Env { var } => format!("env {var}"),
            KeySource::Store => "key store".to_owned(),
            KeySource::NotNeeded => "none needed".to_owned(),
            KeySource::Missing => "missing".to_owned(),
        }
    }
}

/// A provider's key and where it came from: its environment variables first, then the key
/// store (read only when no variable is set, so a store that will not open does not stand in
/// the way of a key in the environment).
pub fn resolve_key(
    spec: &ProviderSpec,
    env: &dyn Fn(&str) -> Option<String>,
    store: Option<&KeyStore>,
) -> Result<(Option<ApiKey>, KeySource), KeyError> {
    let Some(key_name) = spec.key_name else {
        return Ok((None, KeySource::NotNeeded));
    };
    for var in spec.key_env {
        if let Some(value) = env(var).filter(|value| !value.trim().is_empty()) {
            return Ok((
                Some(ApiKey::new(value.trim())),
                KeySource::Env {
                    var: (*var).to_owned(),
                },
            ));
        }
    }
    match store
        .map(|store| store.get(key_name))
        .transpose()?
        .flatten()
    {
        Some(key) => Ok((Some(key), KeySource::Store)),
        None => Ok((None, KeySource::Missing)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_provider_has_a_unique_name_and_its_own_base_url_variable() {
        let mut names: Vec<_> = PROVIDERS.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), PROVIDERS.len());
        let mut vars: Vec<_> = PROVIDERS.iter().map(|s| s.base_url_env).collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), PROVIDERS.len());
        assert_eq!(
            key_names(),
            [
                "anthropic",
                "openai",
                "gemini",
                "openrouter",
                "deepseek",
                "groq"
            ]
        );
    }

    #[test]
    fn a_base_url_comes_from_its_variable_then_ollama_host_then_the_default() {
        let ollama = find("ollama").unwrap();
        assert_eq!(
            base_url_of(ollama, &env_of(&[])),
            "http://127.0.0.1:11434/v1"
        );
        assert_eq!(
            base_url_of(ollama, &env_of(&[("OLLAMA_HOST", "10.0.0.5:9999")])),
            "http://10.0.0.5:9999/v1"
        );
        assert_eq!(
            base_url_of(
                ollama,
                &env_of(&[
                    ("OLLAMA_HOST", "http://x:1"),
                    ("BATON_OLLAMA_BASE_URL", "http://y:2/v1/")
                ])
            ),
            "http://y:2/v1"
        );
        let anthropic = find("anthropic").unwrap();
        assert_eq!(
            base_url_of(anthropic, &env_of(&[("OLLAMA_HOST", "h:1")])),
            "https://api.anthropic.com"
        );
    }

    #[test]
    fn the_environment_wins_over_the_store_and_the_store_over_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().join("keys.enc"), None);
        store.set("gemini", &ApiKey::new("from-store")).unwrap();
        let gemini = find("gemini").unwrap();
        let (key, source) = resolve_key(
            gemini,
            &env_of(&[("GOOGLE_API_KEY", "from-google-var")]),
            Some(&store),
        )
        .unwrap();
        assert_eq!(key.unwrap().expose(), "from-google-var");
        assert_eq!(
            source,
            KeySource::Env {
                var: "GOOGLE_API_KEY".to_owned()
            }
        );
        let (key, source) = resolve_key(gemini, &env_of(&[]), Some(&store)).unwrap();
        assert_eq!(key.unwrap().expose(), "from-store");
        assert_eq!(source, KeySource::Store);
        let groq = find("groq").unwrap();
        assert_eq!(
            resolve_key(groq, &env_of(&[]), Some(&store)).unwrap(),
            (None, KeySource::Missing)
        );
        let lmstudio = find("lmstudio").unwrap();
        assert_eq!(
            resolve_key(lmstudio, &env_of(&[]), None).unwrap(),
            (None, KeySource::NotNeeded)
        );
    }
}
