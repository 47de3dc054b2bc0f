//! Keeps the file keystore's passphrase in the Linux kernel keyring for a while, so it is not
//! asked on every command (aws-vault asks every time: its issues #977, #366), and decrypted
//! cached sessions beside it, so a cached `exec` skips the PBKDF2 that decrypting costs.
//!
//! Each is a `user` key in the session keyring, readable only by processes that possess that
//! keyring, and the kernel drops it when its timeout passes.
//!
//! A process started without a login session (ssh without pam_keyinit, cron, containers) has
//! no session keyring of its own, only the per-user fallback, where adding keys is unreliable.
//! Such a process joins a named session keyring, `vault-session-<uid>`, linked from the user
//! keyring so it outlives the process, which later vault processes of the same user join too,
//! so they find the passphrase. A session keyring that is not ours, or that other users can
//! reach, is never used.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use linux_keyutils::{
    Key, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeySerialId, Permission,
};

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
        let key = keyring
            .add_key(name, secret.expose().as_bytes())
            .map_err(|e| format!("adding the key failed: {e:?}"))?;
        let seconds = usize::try_from(ttl.as_secs().max(1)).unwrap_or(usize::MAX);
        key.set_timeout(seconds)
            .map_err(|e| format!("setting its timeout failed: {e:?}"))
            .inspect_err(|_| {
                // A secret that would never expire is worse than none kept.
                let _ = key.invalidate();
            })
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

/// The session keyring, joining the shared one when the process has none of its own. Only a
/// keyring that belongs to us and grants nothing to other users is ever used: a keyring of
/// the shared name could have been made by someone else, hoping to collect passphrases.
fn session_keyring() -> Result<KeyRing, String> {
    let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
        .map_err(|e| format!("no session keyring: {e:?}"))?;
    let user_session = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
        .map_err(|e| format!("no user session keyring: {e:?}"))?;
    if session != user_session {
        return ours(session);
    }
    let joined = join_session(Some(&shared_session_name()))?;
    JOINED_SHARED.store(true, Ordering::Relaxed);
    let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
        .map_err(|e| format!("joined session keyring vanished: {e:?}"))
        .and_then(ours)
        .inspect_err(|_| {
            // Someone else's keyring: leave it, so nothing of ours (or a child's) lands there.
            leave_shared_session();
        })?;
    // Later vault processes of this user must be able to find and join it by name.
    let perms = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::VIEW | Permission::SEARCH)
        .build();
    Key::from_id(joined)
        .set_perms(perms)
        .map_err(|e| format!("cannot share the session keyring: {e:?}"))?;
    // A keyring lives only while something refers to it: link it into the user keyring so it
    // outlives this process and the next vault process can join it.
    KeyRing::from_special_id(KeyRingIdentifier::User, false)
        .and_then(|user| user.link_keyring(session))
        .map_err(|e| format!("cannot keep the shared session keyring: {e:?}"))?;
    Ok(session)
}

/// `keyring`, if it belongs to this user and gives other users and groups no access.
fn ours(keyring: KeyRing) -> Result<KeyRing, String> {
    let meta = keyring
        .metadata()
        .map_err(|e| format!("cannot inspect the session keyring: {e:?}"))?;
    let me = current_uid();
    if meta.get_uid() != me {
        return Err(format!(
            "the session keyring belongs to uid {}, not to uid {me}",
            meta.get_uid()
        ));
    }
    // The low 16 bits are the group's and everyone else's permissions.
    if meta.get_perms().bits() & 0xffff != 0 {
        return Err("the session keyring is open to other users".to_owned());
    }
    Ok(keyring)
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn shared_session_name() -> String {
    format!("vault-session-{}", current_uid())
}

/// Whether this process joined the shared session keyring.
static JOINED_SHARED: AtomicBool = AtomicBool::new(false);

/// Moves this process (and so the programs it starts) from the shared session keyring to a new
/// anonymous one, so a command `vault exec` runs cannot read what vault keeps there.
pub(super) fn leave_shared_session() {
    if JOINED_SHARED.swap(false, Ordering::Relaxed)
        && let Err(reason) = join_session(None)
    {
        log::debug!("could not leave the shared session keyring: {reason}");
    }
}

/// KEYCTL_JOIN_SESSION_KEYRING: join the keyring of that name or create it; with no name, a new
/// anonymous one. linux-keyutils does not wrap this call.
fn join_session(name: Option<&str>) -> Result<KeySerialId, String> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let name = name.map(|n| CString::new(n).expect("no NUL in a keyring name"));
    let name_ptr = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, name) reads a NUL-terminated string (or NULL) that
    // lives across the call, and has no other memory effects on this process.
    let id = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name_ptr) };
    if id < 0 {
        return Err(format!(
            "joining a session keyring failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    i32::try_from(id)
        .map(KeySerialId)
        .map_err(|_| "the kernel returned an invalid keyring id".to_owned())
}
