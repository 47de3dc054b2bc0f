//! `vault clear [PROFILE]`: delete cached sessions (docs/aws-vault.md §4.4). With a profile, its
//! sessions and the SSO token of its start URL (aws-vault's own check for the latter never
//! matched, so it never deleted one).

use super::{open_keystore, print};
use crate::cli::{ClearArgs, GlobalArgs};
use crate::config::{Config, Overrides};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::{self, Keystore};

pub(crate) fn run(args: &ClearArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    // Without a profile, clear means every session: AWS_PROFILE is never taken here.
    let chosen = super::explicit_profile(args.profile.as_deref(), global)?;
    let keystore = open_keystore(global, ctx)?;
    let start_url = match &chosen {
        Some(profile) => {
            let config = Config::load(&ctx.env)?;
            config
                .resolve_chain(profile, &Overrides::default(), &ctx.env)?
                .target()
                .sso_start_url
                .clone()
        }
        None => None,
    };
    let mut cleared = 0;
    for key in keystore.list()? {
        let doomed = match (classify(&key), &chosen) {
            (KeyKind::Session(_) | KeyKind::LegacySession | KeyKind::Oidc(_), None) => true,
            (KeyKind::Session(session), Some(profile)) => session.profile == *profile,
            (KeyKind::Oidc(url), Some(_)) => start_url.as_deref() == Some(url.as_str()),
            _ => false,
        };
        if doomed && remove(keystore.as_ref(), &key)? {
            cleared += 1;
        }
    }
    print(&format!("Cleared {cleared} sessions.\n"))
}

/// Removes `key`; `false` when another process removed it first.
fn remove(keystore: &dyn Keystore, key: &str) -> Result<bool, Error> {
    match keystore.remove(key) {
        Ok(()) => Ok(true),
        Err(keystore::Error::NotFound { .. }) => Ok(false),
        Err(err) => Err(err.into()),
    }
}
