//! Finding local model servers: Ollama and LM Studio on their default ports (or where the
//! environment points them), and the models each one has.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::catalog::{ProviderSpec, base_url_of};

/// What a probe of one local server found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalServer {
    /// `ollama` or `lmstudio`.
    pub provider: String,
    /// The base URL probed (with `/v1`).
    pub base_url: String,
    /// Whether it answered.
    pub running: bool,
    /// The models it lists.
    pub models: Vec<String>,
    /// Why it is not usable, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Probes every local provider in the catalogue, each within `timeout`, at once.
/// `env` looks up the base URL overrides.
pub async fn detect_local(
    timeout: Duration,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<LocalServer> {
    let client = match reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return local_specs()
                .map(|spec| LocalServer {
                    provider: spec.name.to_owned(),
                    base_url: base_url_of(spec, env),
                    running: false,
                    models: Vec::new(),
                    problem: Some(format!("cannot build the HTTP client: {error}")),
                })
                .collect();
        }
    };
    let probes = local_specs().map(|spec| probe(&client, spec, base_url_of(spec, env)));
    futures_util::future::join_all(probes).await
}

fn local_specs() -> impl Iterator<Item = &'static ProviderSpec> {
    super::PROVIDERS
        .iter()
        .filter(|spec| spec.key_name.is_none())
}

/// Asks Ollama for `/api/tags` (its own list, with every pulled model) and falls back to the
/// OpenAI-compatible `/v1/models` that both servers answer.
async fn probe(client: &reqwest::Client, spec: &ProviderSpec, base_url: String) -> LocalServer {
    let mut server = LocalServer {
        provider: spec.name.to_owned(),
        base_url: base_url.clone(),
        running: false,
        models: Vec::new(),
        problem: None,
    };
    if spec.name == "ollama" {
        let root = base_url.strip_suffix("/v1").unwrap_or(&base_url);
        if let Ok(body) = get_json(client, &format!("{root}/api/tags")).await {
            server.running = true;
            server.models = names(&body, "models", "name");
            return server;
        }
    }
    match get_json(client, &format!("{base_url}/models")).await {
        Ok(body) => {
            server.running = true;
            server.models = names(&body, "data", "id");
        }
        Err(problem) => server.problem = Some(problem),
    }
    server
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = client.get(url).send().await.map_err(|error| {
        if error.is_connect() {
            "not running (connection refused)".to_owned()
        } else if error.is_timeout() {
            "no answer in time".to_owned()
        } else {
            error.to_string()
        }
    })?;
    if !response.status().is_success() {
        return Err(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        ));
    }
    response
        .json::<Value>()
        .await
        .map_err(|error| format!("{url} did not answer JSON: {error}"))
}

fn names(body: &Value, list: &str, field: &str) -> Vec<String> {
    body.get(list)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get(field).and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
