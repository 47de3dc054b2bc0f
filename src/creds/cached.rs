//! Wraps a provider with the session cache and the per-session lock: read the cache; on a miss
//! take the lock, read again (another process may have filled it), call, store.

use super::cache::SessionId;
use super::credentials::Credentials;
use super::{Context, Error, Provider};

pub(crate) struct Cached {
    pub(crate) id: SessionId,
    pub(crate) inner: Box<dyn Provider>,
}

impl Provider for Cached {
    fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        if let Some(creds) = cx.cache.lookup(&self.id)? {
            log::debug!(
                "profile {}: using the cached {} session",
                self.id.profile,
                self.id.kind
            );
            return Ok(creds);
        }
        let _guard = cx.locks.acquire(&self.id.prefix());
        // Whoever held the lock may have stored the session meanwhile.
        cx.keystore.reread();
        if let Some(creds) = cx.cache.lookup(&self.id)? {
            log::debug!(
                "profile {}: another vault process fetched the {} session",
                self.id.profile,
                self.id.kind
            );
            return Ok(creds);
        }
        let creds = self.inner.retrieve(cx)?;
        cx.cache.store(&self.id, &creds)?;
        Ok(creds)
    }

    fn describe(&self) -> String {
        format!("cached {}", self.inner.describe())
    }
}
