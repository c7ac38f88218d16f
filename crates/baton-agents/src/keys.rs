//! API keys at rest: an encrypted key store file (XChaCha20-Poly1305) whose master key comes
//! from `BATON_MASTER_KEY` or a generated `master.key` beside the store (mode 0600).
//!
//! The store is one file, `~/.config/baton/keys.enc` by default (`$XDG_CONFIG_HOME/baton/`,
//! or `BATON_KEYS_FILE`): the magic line `baton-keys v1\n`, a random 24-byte nonce, then the
//! sealed JSON `{"keys": {NAME: {"key": ..., "set_at": RFC 3339}}}`. The magic line is the
//! associated data, so a changed header fails to open like a changed body. Every write draws a
//! new nonce and replaces the file atomically (temporary file, mode 0600, rename).

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable holding the master key (64 hex characters, or base64 of 32 bytes).
pub const ENV_MASTER_KEY: &str = "BATON_MASTER_KEY";
/// Environment variable naming the key store file (tests, or a store kept elsewhere).
pub const ENV_KEYS_FILE: &str = "BATON_KEYS_FILE";
/// The generated master key's file name, beside the store.
pub const MASTER_KEY_FILE: &str = "master.key";

const MAGIC: &[u8] = b"baton-keys v1\n";
const NONCE_LEN: usize = 24;

/// A secret API key. Its `Debug` prints `***`, so it cannot leak through a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What can go wrong with the key store; each names the file or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Neither `BATON_KEYS_FILE`, `XDG_CONFIG_HOME` nor `HOME` says where the store lives.
    #[error("no place for the key store: set BATON_KEYS_FILE, XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
    /// The master key given is not a 32-byte key in an accepted form.
    #[error(
        "{origin}: {problem}; the master key is 64 hex characters or the base64 of 32 bytes \
         (make one with `head -c32 /dev/urandom | base64`)"
    )]
    BadMasterKey {
        /// `BATON_MASTER_KEY` or the key file's path.
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The master key file may be read by others than its owner.
    #[error(
        "{}: the master key file has mode {mode:o}, readable by group or others; \
         run `chmod 600 {}` (baton will not use a key others may have read)",
        path.display(), path.display()
    )]
    InsecureKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The store exists but its master key file does not, and `BATON_MASTER_KEY` is not set.
    #[error(
        "{}: the key store exists but its master key {} is missing; set BATON_MASTER_KEY to the \
         key it was written with, or remove the store and set the keys again",
        store.display(), key_file.display()
    )]
    MissingMasterKey {
        /// The store.
        store: PathBuf,
        /// Where the key file was looked for.
        key_file: PathBuf,
    },
    /// The store does not open with this master key: a wrong key, or a damaged file.
    #[error(
        "{}: cannot decrypt the key store: the master key ({origin}) is not the one it was \
         written with, or the file is damaged; set the right BATON_MASTER_KEY, or remove the \
         file and set the keys again",
        path.display()
    )]
    Decrypt {
        /// The store.
        path: PathBuf,
        /// Which master key was tried (`BATON_MASTER_KEY` or the key file), never its value.
        origin: String,
    },
    /// The store is not a baton key store at all.
    #[error("{}: not a baton key store ({problem})", path.display())]
    Corrupt {
        /// The store.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// One stored key, as listed (never with its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredKey {
    /// The provider it is for (`anthropic`, `openai`...).
    pub name: String,
    /// When it was set (RFC 3339).
    pub set_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sealed {
    keys: BTreeMap<String, Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    set_at: String,
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
enum MasterSource {
    /// The value of `BATON_MASTER_KEY` (held as given; parsed when used).
    Env(ApiKey),
    /// A key file, generated on the first write.
    File(PathBuf),
}

/// The encrypted key store.
#[derive(Debug, Clone)]
pub struct KeyStore {
    path: PathBuf,
    master: MasterSource,
}

impl KeyStore {
    /// The store the environment names: `BATON_KEYS_FILE`, else `$XDG_CONFIG_HOME/baton/keys.enc`
    /// or `~/.config/baton/keys.enc`; the master key from `BATON_MASTER_KEY`, else `master.key`
    /// beside the store.
    pub fn from_env() -> Result<KeyStore, KeyError> {
        let path = match std::env::var_os(ENV_KEYS_FILE).filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(path),
            None => crate::prices::user_prices_path()
                .and_then(|prices| prices.parent().map(|dir| dir.join("keys.enc")))
                .ok_or(KeyError::NoConfigDir)?,
        };
        let master = std::env::var(ENV_MASTER_KEY).ok().filter(|v| !v.is_empty());
        Ok(KeyStore::new(path, master))
    }

    /// The store at `path`, with `master_key` (the text of `BATON_MASTER_KEY`) or, when `None`,
    /// the key file beside it.
    pub fn new(path: PathBuf, master_key: Option<String>) -> KeyStore {
        let master = match master_key {
            Some(text) => MasterSource::Env(ApiKey::new(text)),
            None => MasterSource::File(
                path.parent()
                    .unwrap_or(Path::new("."))
                    .join(MASTER_KEY_FILE),
            ),
        };
        KeyStore { path, master }
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored key's name and when it was set, by name.
    pub fn list(&self) -> Result<Vec<StoredKey>, KeyError> {
        Ok(self
            .read()?
            .keys
            .into_iter()
            .map(|(name, entry)| StoredKey {
                name,
                set_at: entry.set_at,
            })
            .collect())
    }

    /// The key stored for `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<ApiKey>, KeyError> {
        Ok(self
            .read()?
            .keys
            .remove(name)
            .map(|entry| ApiKey::new(entry.key)))
    }

    /// Stores `key` for `name`, replacing any earlier one.
    pub fn set(&self, name: &str, key: &ApiKey) -> Result<(), KeyError> {
        let mut sealed = self.read()?;
        sealed.keys.insert(
            name.to_owned(),
            Entry {
                key: key.expose().to_owned(),
                set_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        );
        self.write(&sealed)
    }

    /// Removes the key for `name`; `false` when there was none.
    pub fn remove(&self, name: &str) -> Result<bool, KeyError> {
        let mut sealed = self.read()?;
        if sealed.keys.remove(name).is_none() {
            return Ok(false);
        }
        self.write(&sealed)?;
        Ok(true)
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> KeyError {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    }

    fn origin(&self) -> String {
        match &self.master {
            MasterSource::Env(_) => ENV_MASTER_KEY.to_owned(),
            MasterSource::File(path) => path.display().to_string(),
        }
    }

    /// The master key; `create` makes the key file when it is missing.
    fn master_key(&self, create: bool) -> Result<[u8; 32], KeyError> {
        match &self.master {
            MasterSource::Env(text) => parse_master_key(text.expose(), ENV_MASTER_KEY),
            MasterSource::File(path) => match read_key_file(path)? {
                Some(key) => Ok(key),
                None if create => create_key_file(path),
                None => Err(KeyError::MissingMasterKey {
                    store: self.path.clone(),
                    key_file: path.clone(),
                }),
            },
        }
    }

    fn read(&self) -> Result<Sealed, KeyError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Sealed::default());
            }
            Err(source) => return Err(self.io(&self.path)(source)),
        };
        let corrupt = |problem: &str| KeyError::Corrupt {
            path: self.path.clone(),
            problem: problem.to_owned(),
        };
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| corrupt("it does not start with `baton-keys v1`"))?;
        if body.len() < NONCE_LEN {
            return Err(corrupt("it is cut short"));
        }
        let key = self.master_key(false)?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(&key.into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: MAGIC,
                },
            )
            .map_err(|_| KeyError::Decrypt {
                path: self.path.clone(),
                origin: self.origin(),
            })?;
        serde_json::from_slice(&plain).map_err(|error| corrupt(&error.to_string()))
    }

    fn write(&self, sealed: &Sealed) -> Result<(), KeyError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let key = self.master_key(true)?;
        let plain = serde_json::to_vec(sealed).map_err(|error| KeyError::Corrupt {
            path: self.path.clone(),
            problem: error.to_string(),
        })?;
        let cipher = XChaCha20Poly1305::new(&key.into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: MAGIC,
                },
            )
            .map_err(|_| KeyError::Corrupt {
                path: self.path.clone(),
                problem: "encryption failed".to_owned(),
            })?;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        let temp = write_private_temp(dir, &bytes).map_err(self.io(dir))?;
        std::fs::rename(&temp, &self.path).map_err(|source| {
            let _ = std::fs::remove_file(&temp);
            self.io(&self.path)(source)
        })
    }
}

/// Parses a master key: 64 hex characters, or standard base64 of 32 bytes.
fn parse_master_key(text: &str, origin: &str) -> Result<[u8; 32], KeyError> {
    let text = text.trim();
    let bad = |problem: String| KeyError::BadMasterKey {
        origin: origin.to_owned(),
        problem,
    };
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|error| bad(error.to_string()))?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| bad(format!("{} characters, neither hex nor base64", text.len())))?
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| bad(format!("it decodes to {} bytes, not 32", bytes.len())))
}

/// Reads the master key file; `None` when it does not exist. Refuses a file others may read.
fn read_key_file(path: &Path) -> Result<Option<[u8; 32]>, KeyError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::InsecureKeyFile {
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_master_key(&text, &path.display().to_string()).map(Some)
}

/// Generates a master key file: written in full to a private temporary file, then linked into
/// place, so no reader ever sees half a key and two writers cannot replace each other's key
/// (the loser reads the winner's).
fn create_key_file(path: &Path) -> Result<[u8; 32], KeyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
    let text = format!("{}\n", hex::encode(key));
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let temp = write_private_temp(dir, text.as_bytes()).map_err(io)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(key),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path)?
            .ok_or_else(|| io(std::io::Error::from(std::io::ErrorKind::NotFound))),
        Err(source) => Err(io(source)),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes `bytes` to a new file in `dir` created with mode 0600, synced; returns its path.
fn write_private_temp(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let temp = dir.join(format!(
        ".baton-keys-{}-{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    Ok(temp)
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
