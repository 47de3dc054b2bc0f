//! The `keyctl` backend: `user` keys in a keyring named `aws-vault` in the Linux kernel, as
//! aws-vault meant its keyctl backend to work (it never set the scope, so it never opened).
//!
//! Each key's description is the item key and its payload the item's data, as aws-vault lays
//! it out. It needs no daemon and no passphrase, and works over ssh and in containers, but the
//! kernel forgets everything at reboot, and its per-user quota (`/proc/sys/kernel/keys/maxbytes`)
//! bounds how much fits.

use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier, KeyType};

use super::{Error, Item, Keystore, kernel};

const BACKEND: &str = "keyctl";
/// The keyring aws-vault names.
const KEYRING_NAME: &str = "aws-vault";
/// Scope names as `--keyctl-scope` takes them (aws-vault's unmerged PR #1202 used the same).
pub(crate) const SCOPES: &[&str] = &["user", "usersession", "session", "process", "thread"];

pub(super) struct KeyctlKeystore {
    keyring: KeyRing,
}

impl KeyctlKeystore {
    pub(super) fn open(scope: &str) -> Result<Self, Error> {
        let scope = parse_scope(scope)?;
        // Without a session keyring of its own, adding keys is unreliable (see `kernel`).
        kernel::session_keyring().map_err(unavailable)?;
        let keyring = kernel::named_keyring(scope, KEYRING_NAME).map_err(unavailable)?;
        Ok(Self { keyring })
    }

    fn find(&self, key: &str) -> Result<Option<linux_keyutils::Key>, Error> {
        match self.keyring.search(key) {
            Ok(found) => Ok(Some(found)),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(None)
            }
            Err(e) => Err(failed(format!("looking up {key:?}"), e)),
        }
    }
}

impl Keystore for KeyctlKeystore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        let found = self.find(key)?.ok_or_else(|| not_found(key))?;
        let bytes = found
            .read_to_vec()
            .map_err(|e| failed(format!("reading {key:?}"), e))?;
        let data = String::from_utf8(bytes).map_err(|_| Error::Damaged {
            location: format!("kernel key {key:?} in keyring {KEYRING_NAME}"),
            reason: "its payload is not text".to_owned(),
        })?;
        Ok(Item::from_data(key, data))
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        kernel::put_user_key(self.keyring, &item.key, item.data.expose().as_bytes())
            .map_err(|reason| Error::backend(BACKEND, format!("storing {:?}", item.key), reason))
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        let found = self.find(key)?.ok_or_else(|| not_found(key))?;
        found
            .invalidate()
            .map_err(|e| failed(format!("removing {key:?}"), e))
    }

    fn list(&self) -> Result<Vec<String>, Error> {
        let links = self
            .keyring
            .get_links(4096)
            .map_err(|e| failed("listing keys".to_owned(), e))?;
        let mut keys: Vec<String> = links
            .iter()
            .filter_map(linux_keyutils::LinkNode::as_key)
            .filter_map(|key| key.metadata().ok())
            .filter(|meta| meta.get_type() == KeyType::User)
            .map(|meta| meta.get_description().to_owned())
            .collect();
        keys.sort();
        Ok(keys)
    }
}

fn parse_scope(scope: &str) -> Result<KeyRingIdentifier, Error> {
    Ok(match scope {
        "" | "user" => KeyRingIdentifier::User,
        "usersession" => KeyRingIdentifier::UserSession,
        "session" => KeyRingIdentifier::Session,
        "process" => KeyRingIdentifier::Process,
        "thread" => KeyRingIdentifier::Thread,
        other => {
            return Err(Error::InvalidSetting {
                var: "--keyctl-scope (AWS_VAULT_KEYCTL_SCOPE)",
                reason: format!(
                    "unknown scope {other:?}; choose one of: {}",
                    SCOPES.join(", ")
                ),
            });
        }
    })
}

fn unavailable(reason: String) -> Error {
    Error::Unavailable {
        backend: BACKEND,
        reason,
        fix: "check that the kernel allows keyctl(2) here (some container runtimes block it), or choose --backend file".to_owned(),
    }
}

fn failed(action: String, error: KeyError) -> Error {
    let reason = match error {
        KeyError::QuotaExceeded => {
            "the kernel's key quota for this user is full (see /proc/sys/kernel/keys/maxbytes); remove old entries with `vault clear` or use another backend".to_owned()
        }
        KeyError::AccessDenied => "permission denied".to_owned(),
        other => format!("{other:?}"),
    };
    Error::backend(BACKEND, action, reason)
}

fn not_found(key: &str) -> Error {
    Error::not_found(key, BACKEND)
}
