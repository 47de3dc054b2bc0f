//! What `exec --server` serves: the profile's credentials, renewed **before** they expire.
//!
//! aws-vault's server renews only after expiry, so a request just before it gets credentials
//! that die in flight (its issues #739, #331). Here credentials are served only while more than
//! `AWS_MIN_TTL` (default 5m) is left. Credentials whose whole life is shorter than that are
//! served for half of it, so they are not fetched again on every request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::credentials::{Fetch, fetch_quietly};
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::ProfileConfig;
use crate::creds::{self, Credentials};
use crate::ctx::Ctx;
use crate::server::CredentialSource;

pub(super) struct Served {
    profile: String,
    args: CredentialArgs,
    global: GlobalArgs,
    ctx: Ctx,
    min_ttl: Duration,
    /// The profile's credentials, with the profile's settings they came with.
    held: RefCell<Option<(Held, ProfileConfig)>>,
    roles: RefCell<HashMap<String, Held>>,
}

struct Held {
    creds: Credentials,
    fetched_at: OffsetDateTime,
}

impl Held {
    fn new(creds: Credentials, ctx: &Ctx) -> Self {
        Self {
            creds,
            fetched_at: ctx.clock.now(),
        }
    }

    /// Whether these may still be handed out at `now`.
    fn fresh(&self, now: OffsetDateTime, min_ttl: Duration) -> bool {
        let Some(expires) = self.creds.expiration else {
            return true;
        };
        let lifetime = expires - self.fetched_at;
        let min_ttl = time::Duration::try_from(min_ttl).unwrap_or(time::Duration::MAX);
        let window = if lifetime > min_ttl {
            min_ttl
        } else {
            lifetime.max(time::Duration::ZERO) / 2
        };
        expires - now > window
    }
}

impl Served {
    pub(super) fn new(profile: String, args: CredentialArgs, global: GlobalArgs, ctx: Ctx) -> Self {
        let min_ttl = creds::min_ttl(&ctx.env);
        Self {
            profile,
            args,
            global,
            ctx,
            min_ttl,
            held: RefCell::new(None),
            roles: RefCell::new(HashMap::new()),
        }
    }

    /// The profile's credentials and settings, fetched anew when they are no longer fresh.
    fn current(&self) -> Result<(Credentials, ProfileConfig), crate::Error> {
        let now = self.ctx.clock.now();
        if let Some((held, profile)) = self.held.borrow().as_ref()
            && held.fresh(now, self.min_ttl)
        {
            return Ok((held.creds.clone(), profile.clone()));
        }
        // A cached session with only the window left would be handed straight back: ask for
        // one with more than the window to spare.
        let wanted = self.min_ttl + Duration::from_secs(1);
        let (creds, chain) = fetch_quietly(
            &self.profile,
            &self.args,
            Fetch {
                min_ttl: Some(wanted),
                ..Fetch::default()
            },
            &self.global,
            &self.ctx,
        )?;
        log::debug!(
            "credential server: new credentials for {}, valid until {:?}",
            self.profile,
            creds.expiration
        );
        let profile = chain.target().clone();
        *self.held.borrow_mut() = Some((Held::new(creds.clone(), &self.ctx), profile.clone()));
        Ok((creds, profile))
    }

    /// Fetches the profile's credentials now, so that prompts and errors come before the
    /// command starts.
    pub(super) fn prefetch(&self) -> Result<(), crate::Error> {
        self.current().map(drop)
    }
}

impl CredentialSource for Served {
    fn profile_credentials(&self) -> Result<Credentials, String> {
        self.current()
            .map(|(creds, _)| creds)
            .map_err(|e| e.to_string())
    }

    fn role_credentials(&self, role_arn: &str) -> Result<Credentials, String> {
        let now = self.ctx.clock.now();
        if let Some(held) = self.roles.borrow().get(role_arn)
            && held.fresh(now, self.min_ttl)
        {
            return Ok(held.creds.clone());
        }
        let (source, profile) = self.current().map_err(|e| e.to_string())?;
        let services = super::services::services(&self.ctx, None);
        let creds = creds::assume_role_with(&source, &profile, role_arn, &services, &self.ctx.env)
            .map_err(|e| e.to_string())?;
        self.roles
            .borrow_mut()
            .insert(role_arn.to_owned(), Held::new(creds.clone(), &self.ctx));
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn held(fetched: i64, expires: i64) -> Held {
        Held {
            creds: Credentials {
                access_key_id: "ASIA".to_owned(),
                secret_access_key: Secret::new("s".to_owned()),
                session_token: None,
                expiration: Some(OffsetDateTime::from_unix_timestamp(expires).unwrap()),
            },
            fetched_at: OffsetDateTime::from_unix_timestamp(fetched).unwrap(),
        }
    }

    fn at(t: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(t).unwrap()
    }

    #[test]
    fn credentials_are_renewed_once_the_min_ttl_window_is_reached() {
        let one_hour = held(0, 3600);
        let five_minutes = Duration::from_mins(5);
        assert!(one_hour.fresh(at(0), five_minutes));
        assert!(one_hour.fresh(at(3299), five_minutes));
        assert!(!one_hour.fresh(at(3300), five_minutes));
        assert!(!one_hour.fresh(at(4000), five_minutes));
    }

    #[test]
    fn credentials_shorter_lived_than_the_window_last_half_their_life_not_one_request() {
        // 4 minutes of life with a 5-minute window: served for 2 minutes.
        let short = held(0, 240);
        let five_minutes = Duration::from_mins(5);
        assert!(short.fresh(at(119), five_minutes));
        assert!(!short.fresh(at(120), five_minutes));
        // 15 minutes of life with a window of 14m50s: served for 10 seconds.
        let renewed_often = held(0, 900);
        assert!(renewed_often.fresh(at(9), Duration::from_secs(890)));
        assert!(!renewed_often.fresh(at(10), Duration::from_secs(890)));
    }

    #[test]
    fn long_term_keys_never_need_renewing() {
        let mut keys = held(0, 0);
        keys.creds.expiration = None;
        assert!(keys.fresh(at(1_000_000), Duration::from_mins(5)));
    }
}
