//! `baton keys set|list|remove`: provider API keys in the encrypted key store.

use std::io::{IsTerminal, Read, Write};

use super::print_json;
use crate::cli::KeysCommand;
use crate::{Exit, exit};
use baton_agents::keys::{ApiKey, KeyError, KeyStore};
use baton_agents::providers::{PROVIDERS, key_names};

/// A key store error: the user's setup (a wrong or unsafe master key, a damaged file) is
/// bad input, exit 2; a failed read or write is a failure, exit 1.
pub fn key_exit(error: KeyError) -> Exit {
    let code = match error {
        KeyError::Io { .. } => exit::FAILED,
        _ => exit::BAD_INPUT,
    };
    Exit {
        code,
        error: error.into(),
    }
}

fn bad_input(message: String) -> Exit {
    Exit {
        code: exit::BAD_INPUT,
        error: anyhow::anyhow!(message),
    }
}

/// The key store entry `name` is, or a bad-input error saying which names there are.
fn key_name(name: &str) -> Result<&'static str, Exit> {
    if let Some(known) = key_names().into_iter().find(|known| *known == name) {
        return Ok(known);
    }
    let names = key_names().join(", ");
    match PROVIDERS.iter().find(|spec| spec.name == name) {
        Some(spec) if spec.key_name.is_none() => Err(bad_input(format!(
            "{name} needs no key (it is a local server); keys are for: {names}"
        ))),
        Some(spec) => Err(bad_input(format!(
            "{name} uses the {} key: run `baton keys set {}`",
            spec.key_name.unwrap_or(name),
            spec.key_name.unwrap_or(name)
        ))),
        None => Err(bad_input(format!(
            "unknown provider {name:?}; keys are for: {names}"
        ))),
    }
}

/// `baton keys ...`.
pub fn keys(command: KeysCommand, json: bool) -> Result<u8, Exit> {
    let store = KeyStore::from_env().map_err(key_exit)?;
    match command {
        KeysCommand::Set { name } => {
            let name = key_name(&name)?;
            let key = read_key(name)?;
            store.set(name, &key).map_err(key_exit)?;
            if json {
                print_json(&serde_json::json!({"set": name, "file": store.path()}))?;
            } else {
                eprintln!("stored the {name} key in {}", store.path().display());
                if let Some(var) = shadowing_var(name) {
                    eprintln!(
                        "note: {var} is set in this environment and wins over the stored key"
                    );
                }
            }
            Ok(exit::OK)
        }
        KeysCommand::List => {
            let stored = store.list().map_err(key_exit)?;
            if json {
                print_json(&serde_json::json!({"file": store.path(), "keys": stored}))?;
                return Ok(exit::OK);
            }
            if stored.is_empty() {
                println!("no stored keys in {}", store.path().display());
                return Ok(exit::OK);
            }
            println!("{:<12} {:<22} NOTE", "PROVIDER", "SET AT");
            for key in &stored {
                let note = shadowing_var(&key.name)
                    .map(|var| format!("{var} in the environment wins"))
                    .unwrap_or_default();
                println!("{:<12} {:<22} {note}", key.name, key.set_at);
            }
            Ok(exit::OK)
        }
        KeysCommand::Remove { name } => {
            let name = key_name(&name)?;
            if !store.remove(name).map_err(key_exit)? {
                return Err(bad_input(format!(
                    "no stored key for {name} in {}",
                    store.path().display()
                )));
            }
            if json {
                print_json(&serde_json::json!({"removed": name}))?;
            } else {
                eprintln!("removed the {name} key");
            }
            Ok(exit::OK)
        }
    }
}

/// The environment variable that would be used instead of the stored key `name`, if set.
fn shadowing_var(name: &str) -> Option<&'static str> {
    PROVIDERS
        .iter()
        .filter(|spec| spec.key_name == Some(name))
        .flat_map(|spec| spec.key_env.iter().copied())
        .find(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}

/// The key from stdin: one line when a person types it, the whole input when piped; the
/// trailing newline is not part of it.
fn read_key(name: &str) -> Result<ApiKey, Exit> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("paste the {name} key and press Enter: ");
        std::io::stderr().flush()?;
        stdin.read_line(&mut text)?;
    } else {
        stdin.lock().read_to_string(&mut text)?;
    }
    let key = text.trim_end_matches(['\n', '\r']);
    if key.trim().is_empty() {
        return Err(bad_input(format!(
            "no key on stdin for {name}: pipe it in (`baton keys set {name} < file`) or paste it"
        )));
    }
    if key.contains(['\n', '\r']) {
        return Err(bad_input(format!(
            "the {name} key on stdin spans several lines; give the key alone"
        )));
    }
    Ok(ApiKey::new(key))
}
