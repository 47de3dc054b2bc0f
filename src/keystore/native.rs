//! The OS stores on macOS (`keychain`) and Windows (`wincred`), through keyring-core, with the
//! names aws-vault uses (docs/aws-vault.md §5.2): on macOS a generic password with service
//! `aws-vault` and account = key; on Windows a generic credential with target
//! `aws-vault:aws-vault:<key>`. Both keep the item's data only, as aws-vault does.
//!
//! Compiled only on those platforms and not tested by this project's CI (see the README).
//! keyring-core's macOS store addresses the login keychain, not the separate `aws-vault`
//! keychain file aws-vault creates, so keys stored there by aws-vault are not seen.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use super::{Error, Item, Keystore};

/// aws-vault's keyring service name.
const SERVICE: &str = "aws-vault";
#[cfg(windows)]
const TARGET_PREFIX: &str = "aws-vault:aws-vault:";

pub(super) struct NativeKeystore {
    backend: &'static str,
    store: Arc<CredentialStore>,
}

impl NativeKeystore {
    pub(super) fn open(backend: &str) -> Result<Self, Error> {
        let (backend, store) = platform_store().map_err(|e| Error::Unavailable {
            backend: if backend == "wincred" {
                "wincred"
            } else {
                "keychain"
            },
            reason: e.to_string(),
            fix: "choose --backend file".to_owned(),
        })?;
        Ok(Self { backend, store })
    }

    fn entry(&self, key: &str) -> Result<Entry, Error> {
        #[cfg(windows)]
        let modifiers = HashMap::from([("target", format!("{TARGET_PREFIX}{key}"))]);
        #[cfg(not(windows))]
        let modifiers: HashMap<&str, String> = HashMap::new();
        let modifiers: HashMap<&str, &str> =
            modifiers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Entry::new_in_store_with_modifiers(&self.store, SERVICE, key, &modifiers)
            .map_err(|e| self.failed(&format!("addressing {key:?}"), &e))
    }

    fn failed(&self, action: &str, error: &keyring_core::Error) -> Error {
        Error::backend(self.backend, action.to_owned(), error.to_string())
    }

    fn not_found(&self, key: &str) -> Error {
        Error::not_found(key, self.backend)
    }
}

impl Keystore for NativeKeystore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        let secret = match self.entry(key)?.get_secret() {
            Ok(secret) => secret,
            Err(keyring_core::Error::NoEntry) => return Err(self.not_found(key)),
            Err(e) => return Err(self.failed(&format!("reading {key:?}"), &e)),
        };
        let data = String::from_utf8(secret).map_err(|_| Error::Damaged {
            location: format!("the {} entry {key:?}", self.backend),
            reason: "its data is not text".to_owned(),
        })?;
        Ok(Item::from_data(key, data))
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        self.entry(&item.key)?
            .set_secret(item.data.expose().as_bytes())
            .map_err(|e| self.failed(&format!("storing {:?}", item.key), &e))
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(()),
            Err(keyring_core::Error::NoEntry) => Err(self.not_found(key)),
            Err(e) => Err(self.failed(&format!("removing {key:?}"), &e)),
        }
    }

    fn list(&self) -> Result<Vec<String>, Error> {
        let entries = Entry::search_in_store(&self.store, &search_spec())
            .map_err(|e| self.failed("listing entries", &e))?;
        Ok(entries
            .iter()
            .filter_map(Entry::get_specifiers)
            .map(|(_, key)| key)
            .collect())
    }
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<(&'static str, Arc<CredentialStore>), keyring_core::Error> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(("keychain", store))
}

#[cfg(target_os = "macos")]
fn search_spec() -> HashMap<&'static str, &'static str> {
    HashMap::from([("service", SERVICE)])
}

/// The store splits target names as `{prefix}{user}{divider}{service}{suffix}`; with the
/// prefix aws-vault's and nothing else, the user part is the whole key.
#[cfg(windows)]
fn platform_store() -> Result<(&'static str, Arc<CredentialStore>), keyring_core::Error> {
    let config = HashMap::from([("prefix", TARGET_PREFIX), ("divider", ""), ("suffix", "")]);
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new_with_configuration(&config)?;
    Ok(("wincred", store))
}

#[cfg(windows)]
fn search_spec() -> HashMap<&'static str, &'static str> {
    HashMap::from([("pattern", "^aws-vault:aws-vault:")])
}
