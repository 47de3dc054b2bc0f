//! Keeps the file keystore's passphrase in the Linux kernel keyring for a while, so it is not
//! asked on every command (aws-vault asks every time: its issues #977, #366), and decrypted
//! cached sessions beside it, so a cached `exec` skips the PBKDF2 that decrypting costs.
//!
//! Each is a `user` key in the session keyring, readable only by processes that possess that
//! keyring, and the kernel drops it when its timeout passes.
//!
//! A process without a session keyring of its own joins the shared one (see `keystore::kernel`),
//! so later vault processes of the same user find the passphrase.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::keystore::kernel::{process_keyring, session_keyring};
use crate::secret::Secret;

/// The value kept under `name`, if the kernel still has it.
pub(super) fn get(name: &str) -> Option<Secret> {
    let keyring = session_keyring().map_err(log_unavailable).ok()?;
    let key = keyring.search(name).ok()?;
    let bytes = key.read_to_vec().ok()?;
    String::from_utf8(bytes).ok().map(Secret::new)
}

/// Keeps `secret` under `name` until `ttl` passes.
pub(super) fn put(name: &str, secret: &Secret, ttl: Duration) {
    let result = session_keyring().and_then(|keyring| {
        // Staged in the process keyring, which dies with this process, and linked into the
        // shared one only once its timeout is set: a kill at any instant leaves no secret
        // that never expires.
        let staging = process_keyring()?;
        let key = staging
            .add_key(name, secret.expose().as_bytes())
            .map_err(|e| format!("adding the key failed: {e:?}"))?;
        let seconds = usize::try_from(ttl.as_secs().max(1)).unwrap_or(usize::MAX);
        let staged = key
            .set_timeout(seconds)
            .map_err(|e| format!("setting its timeout failed: {e:?}"))
            .and_then(|()| {
                keyring
                    .link_key(key)
                    .map_err(|e| format!("linking it into the keyring failed: {e:?}"))
            });
        let _ = staging.unlink_key(key);
        if staged.is_err() {
            let _ = key.invalidate();
        }
        staged
    });
    match result {
        Ok(()) => log::debug!("kept {name} in the kernel keyring for {}s", ttl.as_secs()),
        Err(reason) => log_unavailable(reason),
    }
}

pub(super) fn forget(name: &str) {
    if let Ok(keyring) = session_keyring()
        && let Ok(key) = keyring.search(name)
    {
        let _ = key.invalidate();
    }
}

/// Says once per process why nothing can be kept, when `--debug` is on.
fn log_unavailable(reason: impl std::fmt::Display) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        log::debug!(
            "the kernel keyring is unavailable ({reason}), so the passphrase will be asked each time"
        );
    }
}
