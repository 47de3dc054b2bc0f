//! Where the file keystore's passphrase comes from, in order:
//! 1. `AWS_VAULT_FILE_PASSPHRASE` (set counts, even when empty, as for aws-vault);
//! 2. the kernel keyring, where a passphrase typed earlier is kept for
//!    `AWS_VAULT_FILE_PASSPHRASE_TTL` (default 15m; `0` turns caching off);
//! 3. a prompt without echo on the controlling terminal.
//!
//! A passphrase is cached only after it has opened the keystore.

#[cfg(target_os = "linux")]
mod kernel_cache;

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use super::Error;
use crate::ctx::Env;
use crate::duration;
use crate::secret::Secret;
use crate::tty;

pub(crate) const ENV_PASSPHRASE: &str = "AWS_VAULT_FILE_PASSPHRASE";
pub(crate) const ENV_TTL: &str = "AWS_VAULT_FILE_PASSPHRASE_TTL";
const DEFAULT_TTL: Duration = Duration::from_mins(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Env,
    Cache,
    Prompt,
}

impl Origin {
    /// How an error names this passphrase.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Env => "in AWS_VAULT_FILE_PASSPHRASE",
            Self::Cache => "kept in the kernel keyring",
            Self::Prompt => "you typed",
        }
    }

    pub(crate) fn hint(self) -> &'static str {
        match self {
            Self::Env => {
                "set AWS_VAULT_FILE_PASSPHRASE to the passphrase the keys were stored with"
            }
            Self::Cache | Self::Prompt => {
                "type the passphrase the keys were stored with, or point --file-dir at another directory"
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Passphrase {
    pub(crate) secret: Secret,
    pub(crate) origin: Origin,
}

/// Supplies passphrases to the file keystore; unit tests use a fixed one.
pub(crate) trait PassphraseSource {
    /// A passphrase for `dir`. `new_store` means no item exists yet, so a prompt asks twice.
    fn obtain(&self, dir: &Path, new_store: bool) -> Result<Passphrase, Error>;
    /// `passphrase` opened the keystore: remember it if it was typed.
    fn confirmed(&self, dir: &Path, passphrase: &Passphrase);
    /// `passphrase` came from the cache and did not open the keystore: forget it.
    fn rejected(&self, dir: &Path);
    /// A typed passphrase did not open the keystore, and it will be asked again.
    fn mistyped(&self, _dir: &Path, _tries_left: u32) {}
    /// A decrypted item kept from an earlier process (see [`PassphraseSource::keep`]).
    fn recall(&self, _dir: &Path, _key: &str) -> Option<Secret> {
        None
    }
    /// Keeps a decrypted item for later processes, for at most `ttl`, where the passphrase
    /// itself may be kept; `None` forgets it.
    fn keep(&self, _dir: &Path, _key: &str, _item: Option<(&Secret, Duration)>) {}
}

fn passphrase_name(dir: &Path) -> String {
    format!("vault:file-passphrase:{}", dir.display())
}

fn item_name(dir: &Path, key: &str) -> String {
    format!("vault:file-item:{}:{key}", dir.display())
}

/// The real source: environment, kernel keyring, terminal.
pub(crate) struct StandardSource {
    from_env: Option<Secret>,
    /// `AWS_VAULT_FILE_PASSPHRASE_TTL` as written; read only when a passphrase is needed, so
    /// a typo there never stops commands that need none.
    ttl_setting: Option<String>,
    skip_cache: Cell<bool>,
    interactive: bool,
}

impl StandardSource {
    pub(crate) fn from_env(env: &Env, interactive: bool) -> Self {
        Self {
            from_env: env.get(ENV_PASSPHRASE).map(Secret::new),
            ttl_setting: env.non_empty(ENV_TTL).map(str::to_owned),
            skip_cache: Cell::new(false),
            interactive,
        }
    }

    fn ttl(&self) -> Result<Duration, Error> {
        self.ttl_setting.as_deref().map_or(Ok(DEFAULT_TTL), |text| {
            duration::parse(text).map_err(|err| Error::InvalidSetting {
                var: ENV_TTL,
                reason: err.to_string(),
            })
        })
    }

    fn cache_enabled(&self) -> bool {
        self.ttl().is_ok_and(|ttl| !ttl.is_zero()) && !self.skip_cache.get()
    }
}

impl PassphraseSource for StandardSource {
    fn obtain(&self, dir: &Path, new_store: bool) -> Result<Passphrase, Error> {
        if let Some(secret) = &self.from_env {
            return Ok(Passphrase {
                secret: secret.clone(),
                origin: Origin::Env,
            });
        }
        self.ttl()?;
        if self.cache_enabled()
            && let Some(secret) = cache::get(&passphrase_name(dir))
        {
            log::debug!("using the passphrase kept in the kernel keyring");
            return Ok(Passphrase {
                secret,
                origin: Origin::Cache,
            });
        }
        if !self.interactive {
            return Err(Error::NoPassphrase {
                dir: dir.to_owned(),
                reason: "it is not kept, and vault does not ask from the prompt hook".to_owned(),
            });
        }
        prompt(dir, new_store).map(|secret| Passphrase {
            secret,
            origin: Origin::Prompt,
        })
    }

    fn confirmed(&self, dir: &Path, passphrase: &Passphrase) {
        if passphrase.origin == Origin::Prompt && self.cache_enabled() {
            cache::put(
                &passphrase_name(dir),
                &passphrase.secret,
                self.ttl().unwrap_or_default(),
            );
        }
    }

    fn rejected(&self, dir: &Path) {
        cache::forget(&passphrase_name(dir));
        self.skip_cache.set(true);
    }

    fn mistyped(&self, dir: &Path, tries_left: u32) {
        tty::say(&format!(
            "That passphrase does not unlock \"{}\"; try again ({tries_left} left).",
            dir.display()
        ));
    }

    fn recall(&self, dir: &Path, key: &str) -> Option<Secret> {
        // Scripts that give the passphrase in the environment opted out of keeping secrets in
        // the kernel; nothing is kept for them, or served to them.
        if !self.cache_enabled() || self.from_env.is_some() {
            return None;
        }
        cache::get(&item_name(dir, key))
    }

    fn keep(&self, dir: &Path, key: &str, item: Option<(&Secret, Duration)>) {
        match item {
            Some((json, ttl)) if self.cache_enabled() && self.from_env.is_none() => {
                let ttl = ttl.min(self.ttl().unwrap_or_default());
                cache::put(&item_name(dir, key), json, ttl);
            }
            Some(_) => {}
            None => cache::forget(&item_name(dir, key)),
        }
    }
}

fn prompt(dir: &Path, new_store: bool) -> Result<Secret, Error> {
    let no_tty = |err: tty::Error| Error::NoPassphrase {
        dir: dir.to_owned(),
        reason: format!("{err}; set {ENV_PASSPHRASE} for non-interactive use"),
    };
    if !new_store {
        return tty::read_hidden(&format!(
            "Enter passphrase to unlock \"{}\": ",
            dir.display()
        ))
        .map_err(no_tty);
    }
    for try_number in 1..=tty::TRIES {
        let first = tty::read_hidden(&format!(
            "Choose a passphrase for the new keystore \"{}\": ",
            dir.display()
        ))
        .map_err(no_tty)?;
        let second = tty::read_hidden("Enter it again: ").map_err(no_tty)?;
        if first == second {
            return Ok(first);
        }
        if try_number < tty::TRIES {
            tty::say("The two did not match; choose it again.");
        }
    }
    Err(Error::PassphraseMismatch)
}

/// The kernel keyring where it exists; elsewhere nothing is cached.
#[cfg(target_os = "linux")]
mod cache {
    pub(super) use super::kernel_cache::{forget, get, put};
    pub(super) use crate::keystore::kernel::leave_shared_session;
}

/// Before starting a command: keep it out of the shared keyring vault may have joined.
pub(crate) fn detach_from_shared_keyring() {
    cache::leave_shared_session();
}

#[cfg(not(target_os = "linux"))]
mod cache {
    use std::time::Duration;

    use crate::secret::Secret;

    pub(super) fn get(_: &str) -> Option<Secret> {
        None
    }
    pub(super) fn put(_: &str, _: &Secret, _: Duration) {
        log::debug!("no kernel keyring on this platform: the passphrase is asked each time");
    }
    pub(super) fn forget(_: &str) {}
    pub(super) fn leave_shared_session() {}
}
