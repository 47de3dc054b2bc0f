//! Where long-term keys and cached sessions live: one trait, several backends.
//!
//! Items and key names follow aws-vault (docs/aws-vault.md §4–5) so a user who switches keeps what
//! they stored: long-term keys under the profile name, sessions as
//! `type,b64url(profile),b64url(mfa),expiry`, SSO tokens as `oidc:<start URL>`.

mod file;
mod item;
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "keyctl(2) calls and getuid(2), which linux-keyutils does not wrap"
)]
pub(crate) mod kernel;
#[cfg(target_os = "linux")]
mod keyctl;
pub(crate) mod keys;
#[cfg(test)]
pub(crate) mod memory;
#[cfg(any(target_os = "macos", windows))]
mod native;
mod open;
mod pass;
mod passphrase;
#[cfg(target_os = "linux")]
mod secret_service;
pub(crate) mod sessions;

use std::io;
use std::path::PathBuf;

pub(crate) use item::{Item, MasterCredentials};
pub(crate) use open::{AVAILABLE_BACKENDS, BackendOptions, DEFAULT_BACKEND, open};
pub(crate) use pass::PassOptions;
pub(crate) use passphrase::detach_from_shared_keyring;

/// A keystore. Implementations never prompt except through what they were built with.
pub(crate) trait Keystore {
    /// The backend's name, as `--backend` takes it.
    fn backend(&self) -> &'static str;
    /// The item stored under `key`; `Error::NotFound` when there is none.
    fn get(&self, key: &str) -> Result<Item, Error>;
    /// Stores `item` under `item.key`, replacing any item with that key.
    fn set(&self, item: &Item) -> Result<(), Error>;
    /// Removes `key`; `Error::NotFound` when there is none.
    fn remove(&self, key: &str) -> Result<(), Error>;
    /// Every key, without decrypting or even reading anything.
    fn list(&self) -> Result<Vec<String>, Error>;
    /// The stored entries that are not readable items at all (truncated, garbage). Only the
    /// `list` command asks, since finding them means reading every entry.
    fn damaged(&self) -> Result<Vec<Damaged>, Error> {
        Ok(Vec::new())
    }
    /// Other processes may have changed the store (we waited for their lock): read it anew.
    fn reread(&self) {}
}

/// A stored entry that is not a readable item (truncated, garbage, wrong format).
#[derive(Debug, Clone)]
pub(crate) struct Damaged {
    pub(crate) key: String,
    pub(crate) location: PathBuf,
    pub(crate) reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("nothing is stored under {key:?} in the {backend} keystore")]
    NotFound { key: String, backend: &'static str },
    #[error(
        "the passphrase {origin} does not unlock the file keystore {}: it cannot decrypt {}; {hint}",
        dir.display(), file.display()
    )]
    WrongPassphrase {
        dir: PathBuf,
        file: PathBuf,
        origin: &'static str,
        hint: &'static str,
    },
    /// An entry that is not a readable item; `location` names it for the user (a file, or an
    /// entry of a backend that has no files).
    #[error(
        "{location} is damaged ({reason}); remove it with `vault remove` and add the key again, or restore it from a backup"
    )]
    Damaged { location: String, reason: String },
    #[error("cannot get the passphrase for the file keystore {}: {reason}", dir.display())]
    NoPassphrase { dir: PathBuf, reason: String },
    #[error("{var}: {reason}")]
    InvalidSetting { var: &'static str, reason: String },
    #[error("the passphrases did not match; nothing was stored")]
    PassphraseMismatch,
    #[error("unknown keystore backend {name:?}; choose one of: {}", open::KNOWN_BACKENDS.join(", "))]
    UnknownBackend { name: String },
    #[error(
        "the {name} backend is not available in this build of vault; choose one of: {}",
        open::AVAILABLE_BACKENDS.join(", ")
    )]
    BackendNotAvailable { name: String },
    /// A backend that exists but cannot be opened here, with what to do about it.
    #[error("the {backend} keystore cannot be used: {reason}; {fix}")]
    Unavailable {
        backend: &'static str,
        reason: String,
        fix: String,
    },
    /// An opened backend failed in the middle of an operation.
    #[error("the {backend} keystore failed {action}: {reason}")]
    Backend {
        backend: &'static str,
        action: String,
        reason: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn not_found(key: &str, backend: &'static str) -> Self {
        Self::NotFound {
            key: key.to_owned(),
            backend,
        }
    }

    pub(crate) fn backend(backend: &'static str, action: String, reason: String) -> Self {
        Self::Backend {
            backend,
            action,
            reason,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
