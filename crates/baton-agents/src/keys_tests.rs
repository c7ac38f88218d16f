#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const SECRET: &str = "sk-ant-very-secret-0123456789";
const HEX_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn store_in(dir: &Path) -> KeyStore {
    KeyStore::new(dir.join("baton").join("keys.enc"), None)
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_key_set_reads_back_and_the_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    assert!(store.list().unwrap().is_empty());
    assert_eq!(store.get("anthropic").unwrap(), None);
    store.set("anthropic", &ApiKey::new(SECRET)).unwrap();
    store.set("openai", &ApiKey::new("sk-other")).unwrap();
    assert_eq!(
        store
            .get("anthropic")
            .unwrap()
            .map(|k| k.expose().to_owned()),
        Some(SECRET.to_owned())
    );
    let names: Vec<String> = store.list().unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["anthropic", "openai"]);
    let store_file = dir.path().join("baton/keys.enc");
    let key_file = dir.path().join("baton").join(MASTER_KEY_FILE);
    assert_eq!(mode_of(&store_file), 0o600);
    assert_eq!(mode_of(&key_file), 0o600);
    assert_eq!(mode_of(&dir.path().join("baton")), 0o700);
    // No temporary file is left beside the store.
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("baton"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
}

#[test]
fn the_store_file_holds_no_key_in_clear_and_each_write_uses_a_new_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.set("anthropic", &ApiKey::new(SECRET)).unwrap();
    let first = std::fs::read(store.path()).unwrap();
    assert!(first.starts_with(MAGIC));
    let text = String::from_utf8_lossy(&first);
    assert!(!text.contains(SECRET), "the key is in clear");
    assert!(!text.contains("anthropic"), "the names are in clear");
    store.set("anthropic", &ApiKey::new(SECRET)).unwrap();
    let second = std::fs::read(store.path()).unwrap();
    assert_ne!(
        first[MAGIC.len()..MAGIC.len() + NONCE_LEN],
        second[MAGIC.len()..MAGIC.len() + NONCE_LEN]
    );
}

#[test]
fn a_removed_key_is_gone_and_removing_it_again_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.set("groq", &ApiKey::new("gsk-1")).unwrap();
    assert!(store.remove("groq").unwrap());
    assert!(!store.remove("groq").unwrap());
    assert_eq!(store.get("groq").unwrap(), None);
}

#[test]
fn a_master_key_from_the_environment_works_in_hex_and_base64_and_makes_no_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.enc");
    let hex_store = KeyStore::new(path.clone(), Some(HEX_KEY.to_owned()));
    hex_store.set("openai", &ApiKey::new("sk-1")).unwrap();
    assert!(!dir.path().join(MASTER_KEY_FILE).exists());
    let base64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(HEX_KEY).unwrap());
    let b64_store = KeyStore::new(path, Some(base64));
    assert_eq!(
        b64_store
            .get("openai")
            .unwrap()
            .map(|k| k.expose().to_owned()),
        Some("sk-1".to_owned())
    );
}

#[test]
fn a_wrong_master_key_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.enc");
    KeyStore::new(path.clone(), Some(HEX_KEY.to_owned()))
        .set("openai", &ApiKey::new(SECRET))
        .unwrap();
    let other = "ff".repeat(32);
    let error = KeyStore::new(path.clone(), Some(other.clone()))
        .get("openai")
        .unwrap_err();
    assert!(matches!(error, KeyError::Decrypt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("BATON_MASTER_KEY"), "{message}");
    assert!(
        !message.contains(&other) && !message.contains(SECRET),
        "{message}"
    );
}

#[test]
fn a_malformed_master_key_says_which_forms_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["short", "zz".repeat(32).as_str(), "AAAA"] {
        let error = KeyStore::new(dir.path().join("keys.enc"), Some(bad.to_owned()))
            .set("openai", &ApiKey::new("x"))
            .unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, KeyError::BadMasterKey { .. }), "{message}");
        assert!(message.starts_with("BATON_MASTER_KEY: "), "{message}");
        assert!(message.contains("64 hex characters"), "{message}");
    }
    assert!(
        !dir.path().join("keys.enc").exists(),
        "nothing half-written"
    );
}

#[test]
fn a_corrupted_store_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.set("openai", &ApiKey::new(SECRET)).unwrap();
    let mut bytes = std::fs::read(store.path()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(store.path(), &bytes).unwrap();
    let error = store.list().unwrap_err();
    assert!(matches!(error, KeyError::Decrypt { .. }), "{error:?}");
    assert!(error.to_string().contains("damaged"), "{error}");

    std::fs::write(store.path(), b"baton-keys v1\nshort").unwrap();
    let error = store.list().unwrap_err();
    assert!(error.to_string().contains("cut short"), "{error}");
    std::fs::write(store.path(), b"{\"anthropic\": \"plain\"}").unwrap();
    let error = store.get("anthropic").unwrap_err();
    assert!(
        error.to_string().contains("not a baton key store"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(&store.path().display().to_string()),
        "{error}"
    );
}

#[test]
fn a_master_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.set("openai", &ApiKey::new(SECRET)).unwrap();
    let key_file = dir.path().join("baton").join(MASTER_KEY_FILE);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let error = store.get("openai").unwrap_err();
    assert!(
        matches!(error, KeyError::InsecureKeyFile { mode: 0o640, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("chmod 600"), "{error}");
}

#[test]
fn a_store_whose_key_file_is_gone_says_so_instead_of_making_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.set("openai", &ApiKey::new(SECRET)).unwrap();
    std::fs::remove_file(dir.path().join("baton").join(MASTER_KEY_FILE)).unwrap();
    let error = store.set("groq", &ApiKey::new("g")).unwrap_err();
    assert!(
        matches!(error, KeyError::MissingMasterKey { .. }),
        "{error:?}"
    );
    assert!(!dir.path().join("baton").join(MASTER_KEY_FILE).exists());
}

#[test]
fn a_key_debug_prints_stars() {
    let key = ApiKey::new(SECRET);
    assert_eq!(format!("{key:?}"), "***");
    assert_eq!(format!("{:?}", Some(key)), "Some(***)");
}
