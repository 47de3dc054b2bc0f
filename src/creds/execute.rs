//! Runs a plan: each step's call with the credentials of the step below it, through the
//! session cache where the plan says so. A cached step is looked up first, and only on a miss
//! are the steps below it run, under the session's lock: read the cache; on a miss take the
//! lock, read again (the process that held it may have filled it), call, store.

use super::cache::SessionId;
use super::credentials::Credentials;
use super::plan::{Plan, PlannedStep, Step};
use super::services::Notice;
use super::{Context, Error};

/// The credentials the plan's last step gives.
pub(crate) fn run(plan: &Plan, cx: &Context<'_>) -> Result<Credentials, Error> {
    retrieve(&plan.steps, cx)
}

fn retrieve(steps: &[PlannedStep], cx: &Context<'_>) -> Result<Credentials, Error> {
    let Some((step, below)) = steps.split_last() else {
        unreachable!("chain::plan always starts a plan with a source");
    };
    match &step.cache {
        Some(id) => through_cache(id, cx, || call(&step.call, below, cx)),
        None => call(&step.call, below, cx),
    }
}

fn call(step: &Step, below: &[PlannedStep], cx: &Context<'_>) -> Result<Credentials, Error> {
    match step {
        Step::StoredKeys(keys) => keys.retrieve(cx),
        Step::CredentialProcess(process) => process.retrieve(cx),
        Step::AssumeRoleWithWebIdentity(web) => web.retrieve(cx),
        Step::GetSessionToken(session) => session.retrieve(&retrieve(below, cx)?, cx),
        Step::AssumeRole(role) => role.retrieve(&retrieve(below, cx)?, cx),
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
    let _guard = cx.locks.acquire(&session, &notify);
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
    cx.cache.store(id, &creds)?;
    Ok(creds)
}
