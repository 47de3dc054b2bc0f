//! Cached sessions seen as a group: finding and deleting those a profile produced.

use super::keys::{KeyKind, classify};
use super::{Error, Keystore};

/// Deletes every cached session produced by `profile` (not its SSO token, not its keys) and
/// returns how many were deleted.
pub(crate) fn remove_sessions_of(keystore: &dyn Keystore, profile: &str) -> Result<usize, Error> {
    let mut removed = 0;
    for key in keystore.list()? {
        if matches!(classify(&key), KeyKind::Session(s) if s.profile == profile) {
            match keystore.remove(&key) {
                Ok(()) => removed += 1,
                // Another process pruned it first; that is what we wanted.
                Err(Error::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::keys::SessionKey;
    use crate::keystore::memory::MemoryKeystore;
    use crate::keystore::{Item, MasterCredentials};
    use crate::secret::Secret;

    fn session(profile: &str, expiry: i64) -> Item {
        let key = SessionKey {
            kind: "sts.GetSessionToken".into(),
            profile: profile.into(),
            mfa: String::new(),
            expiry,
        }
        .to_key();
        Item {
            key,
            label: String::new(),
            description: String::new(),
            data: Secret::new("{}"),
            keychain_not_trust_application: false,
        }
    }

    #[test]
    fn removes_only_that_profiles_sessions() {
        let ks = MemoryKeystore::default();
        let keys = MasterCredentials {
            access_key_id: "A".into(),
            secret_access_key: Secret::new("S"),
        };
        for item in [
            session("dev", 1),
            session("dev", 2),
            session("prod", 1),
            keys.to_item("dev"),
        ] {
            ks.set(&item).unwrap();
        }
        assert_eq!(remove_sessions_of(&ks, "dev").unwrap(), 2);
        let mut left = ks.list().unwrap();
        left.sort();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&"dev".to_owned()));
    }

    #[test]
    fn a_failing_backend_is_reported_not_ignored() {
        let ks = MemoryKeystore::default();
        ks.set(&session("dev", 1)).unwrap();
        ks.fail_next_call("backend down");
        assert!(remove_sessions_of(&ks, "dev").is_err());
        assert_eq!(ks.list().unwrap().len(), 1, "nothing was lost");
    }
}
