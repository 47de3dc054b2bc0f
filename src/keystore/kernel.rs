//! The Linux kernel keyring, shared by the passphrase cache and the `keyctl` backend.
//!
//! A process started without a login session (ssh without pam_keyinit, cron, containers) has
//! no session keyring of its own, only the per-user fallback, where adding keys is unreliable.
//! Such a process joins a named session keyring, `vault-session-<uid>`, linked from the user
//! keyring so it outlives the process, which later vault processes of the same user join too.
//! A session keyring that is not ours, or that other users can reach, is never used.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

use linux_keyutils::{
    Key, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeySerialId, Permission,
};

/// The session keyring, joining the shared one when the process has none of its own. Only a
/// keyring that belongs to us and grants nothing to other users is ever used: a keyring of
/// the shared name could have been made by someone else, hoping to collect passphrases.
pub(crate) fn session_keyring() -> Result<KeyRing, String> {
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

pub(crate) fn current_uid() -> u32 {
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
pub(crate) fn leave_shared_session() {
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
    serial_id(id, "joining a session keyring")
}

/// The key id a keyring syscall returned, or what went wrong (from errno).
fn serial_id(result: libc::c_long, action: &str) -> Result<KeySerialId, String> {
    if result < 0 {
        return Err(format!(
            "{action} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    i32::try_from(result)
        .map(KeySerialId)
        .map_err(|_| "the kernel returned an invalid keyring id".to_owned())
}

/// The keyring named `name` linked directly from the `scope` keyring, created there when it
/// has none. Its permissions grant this user everything, so every process of the user can use
/// it, whatever session keyring it runs in; nobody else gets anything.
pub(crate) fn named_keyring(scope: KeyRingIdentifier, name: &str) -> Result<KeyRing, String> {
    let parent = KeyRing::from_special_id(scope, true)
        .map_err(|e| format!("no {scope:?} keyring: {e:?}"))?;
    if let Some(found) = find_keyring(parent, name)? {
        return Ok(found);
    }
    // Made in the process keyring first: only what a process possesses can have its
    // permissions changed, and a keyring made directly in the user keyring is not possessed
    // by a process whose session keyring does not link the user keyring.
    let staging = process_keyring()?;
    let id = add_keyring(KeyRingIdentifier::Process, name)?;
    Key::from_id(id)
        .set_perms(user_only_perms())
        .map_err(|e| format!("cannot set the permissions of keyring {name:?}: {e:?}"))?;
    let created = find_keyring(staging, name)?
        .ok_or_else(|| format!("keyring {name:?} vanished after creation"))?;
    parent
        .link_keyring(created)
        .map_err(|e| format!("cannot link keyring {name:?} into the {scope:?} keyring: {e:?}"))?;
    let _ = staging.unlink_keyring(created);
    Ok(created)
}

/// Adds (or replaces) the `user` key `description` in `keyring`, with the user's permissions
/// (see `named_keyring`). Linking displaces an older key of the same description in one step,
/// so a reader sees the old payload or the new one, never neither.
pub(crate) fn put_user_key(
    keyring: KeyRing,
    description: &str,
    payload: &[u8],
) -> Result<(), String> {
    let staging = process_keyring()?;
    let key = staging
        .add_key(description, payload)
        .map_err(|e| format!("adding the key failed: {e:?}"))?;
    let result = key
        .set_perms(user_only_perms())
        .map_err(|e| format!("setting its permissions failed: {e:?}"))
        .and_then(|()| {
            keyring
                .link_key(key)
                .map_err(|e| format!("linking it into the keyring failed: {e:?}"))
        });
    let _ = staging.unlink_key(key);
    result
}

pub(crate) fn process_keyring() -> Result<KeyRing, String> {
    KeyRing::from_special_id(KeyRingIdentifier::Process, true)
        .map_err(|e| format!("no process keyring: {e:?}"))
}

/// Possessor and owner may do everything; group and others nothing.
pub(crate) fn user_only_perms() -> linux_keyutils::KeyPermissions {
    KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::ALL)
        .build()
}

/// How many links of a keyring are read at most: far more than any user keyring holds.
const MAX_LINKS: usize = 4096;

fn find_keyring(parent: KeyRing, name: &str) -> Result<Option<KeyRing>, String> {
    let links = parent
        .get_links(MAX_LINKS)
        .map_err(|e| format!("cannot read the keyring's links: {e:?}"))?;
    Ok(links
        .iter()
        .filter_map(linux_keyutils::LinkNode::as_ring)
        .find(|ring| {
            ring.metadata()
                .is_ok_and(|meta| meta.get_description() == name && meta.get_uid() == current_uid())
        }))
}

/// add_key(2) with type "keyring": linux-keyutils only adds "user" keys.
fn add_keyring(scope: KeyRingIdentifier, name: &str) -> Result<KeySerialId, String> {
    let kind = c"keyring";
    let name = CString::new(name).map_err(|_| "a keyring name cannot hold NUL".to_owned())?;
    // SAFETY: add_key reads two NUL-terminated strings that outlive the call; a keyring takes
    // no payload, so the payload pointer is NULL with length 0.
    let id = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            kind.as_ptr(),
            name.as_ptr(),
            std::ptr::null::<libc::c_void>(),
            0usize,
            scope as libc::c_long,
        )
    };
    serial_id(id, &format!("creating keyring {name:?}"))
}
