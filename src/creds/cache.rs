//! The session cache: temporary credentials kept in the keystore under aws-vault's key names
//! (docs/aws-vault.md §4.2), reused until `AWS_MIN_TTL` (default 5m) before they expire.
//!
//! Every process that reads or writes the cache first deletes expired sessions and the
//! session keys of older aws-vault versions, as aws-vault does.

use std::cell::Cell;
use std::time::Duration;

use super::credentials::{Credentials, rfc3339_seconds};
use crate::ctx::Clock;
use crate::keystore::keys::{KeyKind, SessionKey, classify};
use crate::keystore::{self, Item, Keystore};

pub(crate) const DEFAULT_MIN_TTL: Duration = Duration::from_mins(5);

/// Which session: the step's type, the profile that produced it, and the MFA serial used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SessionId {
    pub(crate) kind: &'static str,
    pub(crate) profile: String,
    pub(crate) mfa: String,
    /// A digest of everything else that shapes the answer (a role's ARN, duration, session
    /// name, external ID, tags, source identity, and the steps below it). aws-vault's key has
    /// no room for these, so the session records them and a session made from other inputs
    /// counts as a miss. Sessions without a record (aws-vault's) match as before.
    #[serde(skip)]
    pub(crate) inputs: Option<String>,
}

impl SessionId {
    /// The key without its expiry: what lookups match on.
    pub(crate) fn prefix(&self) -> String {
        let key = SessionKey {
            kind: self.kind.to_owned(),
            profile: self.profile.clone(),
            mfa: self.mfa.clone(),
            expiry: 0,
        }
        .to_key();
        key.trim_end_matches('0').to_owned()
    }

    fn matches(&self, key: &SessionKey) -> bool {
        key.kind == self.kind && key.profile == self.profile && key.mfa == self.mfa
    }
}

pub(crate) struct SessionCache<'a> {
    keystore: &'a dyn Keystore,
    clock: Clock,
    min_ttl: Duration,
    pruned: Cell<bool>,
}

impl<'a> SessionCache<'a> {
    pub(crate) fn new(keystore: &'a dyn Keystore, clock: Clock, min_ttl: Duration) -> Self {
        Self {
            keystore,
            clock,
            min_ttl,
            pruned: Cell::new(false),
        }
    }

    /// The cached session for `id`, when it has more than the minimum TTL left.
    pub(crate) fn lookup(&self, id: &SessionId) -> Result<Option<Credentials>, keystore::Error> {
        let keys = self.prune()?;
        let now = self.clock.now().unix_timestamp();
        let min_ttl = i64::try_from(self.min_ttl.as_secs()).unwrap_or(i64::MAX);
        let Some(found) = keys.iter().find(|k| id.matches(k)) else {
            return Ok(None);
        };
        if found.expiry - now <= min_ttl {
            log::debug!(
                "the cached {} session of {} is too close to expiry",
                id.kind,
                id.profile
            );
            return Ok(None);
        }
        let item = match self.keystore.get(&found.to_key()) {
            Ok(item) => item,
            Err(keystore::Error::NotFound { .. } | keystore::Error::Damaged { .. }) => {
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let Some((creds, inputs)) = Credentials::from_session_json(item.data.expose()) else {
            log::debug!(
                "the cached session {} is unreadable; fetching anew",
                found.to_key()
            );
            return Ok(None);
        };
        if let (Some(wanted), Some(recorded)) = (&id.inputs, &inputs)
            && wanted != recorded
        {
            log::debug!(
                "the cached {} session of {} was made with other settings; fetching anew",
                id.kind,
                id.profile
            );
            return Ok(None);
        }
        Ok(Some(creds).filter(|c| c.expiration.is_some()))
    }

    /// Stores `creds` for `id`, replacing the session it had.
    pub(crate) fn store(&self, id: &SessionId, creds: &Credentials) -> Result<(), keystore::Error> {
        let Some(expiration) = creds.expiration else {
            return Ok(()); // Long-term keys are never cached.
        };
        for old in self.prune()?.iter().filter(|k| id.matches(k)) {
            remove_if_present(self.keystore, &old.to_key())?;
        }
        let key = SessionKey {
            kind: id.kind.to_owned(),
            profile: id.profile.clone(),
            mfa: id.mfa.clone(),
            expiry: expiration.unix_timestamp(),
        }
        .to_key();
        self.keystore.set(&Item {
            key,
            label: format!(
                "aws-vault session for {} (expires {})",
                id.profile,
                rfc3339_seconds(expiration)
            ),
            description: "aws-vault session".to_owned(),
            data: creds.to_session_json(id.inputs.as_deref()),
            keychain_not_trust_application: false,
        })
    }

    /// Deletes expired and legacy session keys (once per process) and returns the live ones.
    fn prune(&self) -> Result<Vec<SessionKey>, keystore::Error> {
        let now = self.clock.now().unix_timestamp();
        let mut live = Vec::new();
        for key in self.keystore.list()? {
            match classify(&key) {
                KeyKind::Session(session) if session.expiry > now => live.push(session),
                KeyKind::Session(_) | KeyKind::LegacySession if !self.pruned.get() => {
                    log::debug!("deleting the expired or legacy session {key}");
                    remove_if_present(self.keystore, &key)?;
                }
                _ => {}
            }
        }
        self.pruned.set(true);
        Ok(live)
    }
}

fn remove_if_present(keystore: &dyn Keystore, key: &str) -> Result<(), keystore::Error> {
    match keystore.remove(key) {
        Ok(()) | Err(keystore::Error::NotFound { .. }) => Ok(()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::keystore::memory::MemoryKeystore;
    use crate::secret::Secret;

    const NOW: i64 = 1_700_000_000;

    fn cache(ks: &MemoryKeystore) -> SessionCache<'_> {
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        SessionCache::new(ks, Clock::Fixed(now), DEFAULT_MIN_TTL)
    }

    fn creds(expires_in: i64) -> Credentials {
        Credentials {
            access_key_id: format!("ASIA{expires_in}"),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some(OffsetDateTime::from_unix_timestamp(NOW + expires_in).unwrap()),
        }
    }

    fn id(profile: &str) -> SessionId {
        SessionId {
            kind: "sts.GetSessionToken",
            profile: profile.into(),
            mfa: "arn:mfa".into(),
            inputs: None,
        }
    }

    #[test]
    fn a_session_made_from_other_inputs_is_a_miss_and_one_without_a_record_a_hit() {
        let ks = MemoryKeystore::default();
        let with = |inputs: Option<&str>| SessionId {
            inputs: inputs.map(str::to_owned),
            ..id("role")
        };
        cache(&ks).store(&with(Some("a")), &creds(3600)).unwrap();
        assert_eq!(
            cache(&ks).lookup(&with(Some("a"))).unwrap(),
            Some(creds(3600))
        );
        assert_eq!(cache(&ks).lookup(&with(Some("b"))).unwrap(), None);
        // aws-vault's sessions record nothing, and are used as before.
        cache(&ks).store(&with(None), &creds(1800)).unwrap();
        assert_eq!(
            cache(&ks).lookup(&with(Some("b"))).unwrap(),
            Some(creds(1800))
        );
    }

    #[test]
    fn a_stored_session_is_found_until_the_minimum_ttl() {
        let ks = MemoryKeystore::default();
        cache(&ks).store(&id("dev"), &creds(3600)).unwrap();
        assert_eq!(cache(&ks).lookup(&id("dev")).unwrap(), Some(creds(3600)));
        assert_eq!(cache(&ks).lookup(&id("prod")).unwrap(), None);
        cache(&ks).store(&id("dev"), &creds(299)).unwrap();
        assert_eq!(
            cache(&ks).lookup(&id("dev")).unwrap(),
            None,
            "within AWS_MIN_TTL"
        );
        assert_eq!(
            ks.list().unwrap().len(),
            1,
            "the older session was replaced"
        );
    }

    #[test]
    fn expired_and_legacy_sessions_are_pruned_and_other_items_kept() {
        let ks = MemoryKeystore::default();
        cache(&ks).store(&id("old"), &creds(-10)).unwrap();
        cache(&ks).store(&id("live"), &creds(3600)).unwrap();
        for key in ["joe session (1600000000)", "dev"] {
            ks.set(&Item {
                key: key.into(),
                label: String::new(),
                description: String::new(),
                data: Secret::new("{}"),
                keychain_not_trust_application: false,
            })
            .unwrap();
        }
        assert_eq!(cache(&ks).lookup(&id("live")).unwrap(), Some(creds(3600)));
        let mut keys = ks.list().unwrap();
        keys.sort();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], "dev");
        assert!(keys[1].starts_with(&id("live").prefix()));
    }

    #[test]
    fn the_prefix_is_the_key_without_its_expiry() {
        assert_eq!(id("joe").prefix(), "sts.GetSessionToken,am9l,YXJuOm1mYQ,");
    }
}
