//! Runs a plan: the source, then each call with the credentials of the one before it, through
//! the session cache where the plan says so. A cached step is looked up first, and only on a
//! miss does what is below it run, under the session's lock: read the cache; on a miss take
//! the lock, read again (the process that held it may have filled it), call, store.

use super::cache::SessionId;
use super::credentials::Credentials;
use super::plan::{Call, Plan, Planned, Source};
use super::services::Notice;
use super::{Context, Error};

/// The credentials the plan's last call (or its source) gives.
pub(crate) fn run(plan: &Plan, cx: &Context<'_>) -> Result<Credentials, Error> {
    up_to(&plan.source, &plan.calls, cx)
}

/// The credentials of the last of `calls`, made on top of `source`.
fn up_to(
    source: &Planned<Source>,
    calls: &[Planned<Call>],
    cx: &Context<'_>,
) -> Result<Credentials, Error> {
    let Some((last, below)) = calls.split_last() else {
        return cached_or(source.cache.as_ref(), cx, || match &source.what {
            Source::StoredKeys(keys) => keys.retrieve(cx),
            Source::CredentialProcess(process) => process.retrieve(cx),
            Source::AssumeRoleWithWebIdentity(web) => web.retrieve(cx),
            Source::SsoRoleCredentials(sso) => sso.retrieve(cx),
        });
    };
    cached_or(last.cache.as_ref(), cx, || {
        let caller = up_to(source, below, cx)?;
        match &last.what {
            Call::GetSessionToken(session) => session.retrieve(&caller, cx),
            Call::AssumeRole(role) => role.retrieve(&caller, cx),
        }
    })
}

fn cached_or(
    id: Option<&SessionId>,
    cx: &Context<'_>,
    fetch: impl FnOnce() -> Result<Credentials, Error>,
) -> Result<Credentials, Error> {
    match id {
        Some(id) => through_cache(id, cx, fetch),
        None => fetch(),
    }
}

fn through_cache(
    id: &SessionId,
    cx: &Context<'_>,
    fetch: impl FnOnce() -> Result<Credentials, Error>,
) -> Result<Credentials, Error> {
    if let Some(creds) = cx.cache.lookup(id)? {
        log::debug!(
            "profile {}: using the cached {} session",
            id.profile,
            id.kind
        );
        return Ok(creds);
    }
    let session = id.prefix();
    let notify = || {
        (cx.services.notices)(&Notice::WaitingForLock {
            session: session.clone(),
        });
    };
    let guard = cx.locks.acquire(&session, &notify);
    if guard.as_ref().is_some_and(|g| g.waited) {
        cx.waited.set(true);
    }
    // Whoever held the lock may have stored the session meanwhile.
    cx.keystore.reread();
    if let Some(creds) = cx.cache.lookup(id)? {
        log::debug!(
            "profile {}: another vault process fetched the {} session",
            id.profile,
            id.kind
        );
        return Ok(creds);
    }
    let creds = fetch()?;
    // The credentials are good whether or not they can be kept: a full disk or a read-only
    // keystore costs the next command a call, not this one its credentials.
    if let Err(err) = cx.cache.store(id, &creds) {
        (cx.services.notices)(&Notice::NotKept {
            what: format!("the {} session of {}", id.kind, id.profile),
            reason: err.to_string(),
        });
    }
    Ok(creds)
}
