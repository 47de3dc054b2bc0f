//! What `exec` and `export` share: turning their flags into credentials for a profile.

use super::open_keystore;
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::{Config, Overrides, ProfileChain};
use crate::creds::{self, ChainOptions, Credentials, Request};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::secret::Secret;

pub(super) fn fetch(
    profile: &str,
    args: &CredentialArgs,
    min_ttl: Option<std::time::Duration>,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, ProfileChain), Error> {
    if let Some(active) = ctx.env.non_empty("AWS_VAULT") {
        // aws-vault refuses here; a warning lets people switch profiles without exiting.
        super::warn(&format!(
            "AWS_VAULT is already set (profile {active}); the credentials of {profile} replace it for this command"
        ));
    }
    fetch_quietly(profile, args, min_ttl, global, ctx)
}

/// `fetch` without the nested-`AWS_VAULT` warning: for the credential server's renewals, which
/// would otherwise repeat it.
pub(super) fn fetch_quietly(
    profile: &str,
    args: &CredentialArgs,
    min_ttl: Option<std::time::Duration>,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, ProfileChain), Error> {
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let mut env = ctx.env.clone();
    if ctx.env.non_empty("AWS_VAULT").is_some() {
        // Inside `vault exec`, the region variables are the outer profile's, set by vault, not
        // a choice of the user's: the inner profile's own region must win.
        env.set("AWS_REGION", None);
        env.set("AWS_DEFAULT_REGION", None);
    }
    let inner = Ctx {
        env,
        clock: ctx.clock,
        interactive: ctx.interactive,
    };
    let request = Request {
        profile: profile.to_owned(),
        overrides: Overrides {
            region: args.region.clone(),
            // aws-vault reads 0 as "not given".
            duration: args.duration.filter(|d| !d.is_zero()),
        },
        options: ChainOptions {
            no_session: args.no_session,
        },
        mfa: args.mfa_token.clone().map(Secret::new),
        min_ttl,
    };
    creds::get(&inner, &config, keystore.as_ref(), &request)
}
